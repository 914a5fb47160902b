"""The OpenPGP application identifier (4F, spec 4.2.1): 16 bytes that name the card, its spec
version, its manufacturer and its serial number."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.findings import Finding
from explorer.apps.openpgp.constants import AID_LENGTH, APPLICATION_ID, manufacturer_name
from explorer.apps.session import Answer
from explorer.apps.traced import at
from explorer.core.hexfmt import to_hex


@dataclass(frozen=True)
class Aid:
    version: tuple[int, int]
    manufacturer: int
    serial: bytes

    @property
    def version_text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def _bcd(byte: int) -> int:
    """A BCD byte as its number; a nibble above 9 is read as its value (no such version exists)."""
    return (byte >> 4) * 10 + (byte & 0x0F)


def parse_aid(value: bytes) -> Aid | None:
    if len(value) != AID_LENGTH or not value.startswith(APPLICATION_ID[:5]):
        return None
    return Aid((_bcd(value[6]), _bcd(value[7])), int.from_bytes(value[8:10], "big"), value[10:14])


def decode_aid(answer: Answer, start: int, end: int) -> tuple[Finding, Aid | None]:
    """The AID at `start:end` of `answer`'s data (the value of 4F)."""
    value = answer.data[start:end]
    aid = parse_aid(value)
    if aid is None:
        why = (f"{len(value)} bytes: an OpenPGP AID has {AID_LENGTH}" if len(value) != AID_LENGTH
               else "it does not start with the FSFE's RID D2 76 00 01 24")
        return at(answer, start, end, "Application identifier (AID)", to_hex(value),
                  f"Not an OpenPGP card AID: {why}."), None
    manufacturer = manufacturer_name(aid.manufacturer)
    children = [
        at(answer, start, start + 5, "RID", to_hex(value[:5]),
           "registered application provider: the FSFE (Free Software Foundation Europe)"),
        at(answer, start + 5, start + 6, "Application", f"{value[5]:02X}",
           "01: the OpenPGP application" if value[5] == 0x01 else "not 01: not the OpenPGP application"),
        at(answer, start + 6, start + 8, "Version", aid.version_text,
           f"the version of the OpenPGP card specification the card follows (BCD {to_hex(value[6:8])})"),
        at(answer, start + 8, start + 10, "Manufacturer", f"{aid.manufacturer:04X} ({manufacturer})",
           "who made the card: 0000 and FFFF are test cards, FF00-FFFE serial numbers assigned at "
           "random; the others from the list GnuPG keeps for the specification"),
        at(answer, start + 10, start + 14, "Serial number", to_hex(aid.serial).replace(" ", ""),
           "unique per manufacturer; with the manufacturer it names the card (GnuPG shows "
           "manufacturer and serial together as the card's serial number)"),
        at(answer, start + 14, start + 16, "RFU", to_hex(value[14:16]), "reserved for future use, 00 00"),
    ]
    summary = f"version {aid.version_text}, {manufacturer}, serial {aid.serial.hex().upper()}"
    return at(answer, start, end, "Application identifier (AID)", summary,
              "The full AID of the OpenPGP application (4F).", children), aid
