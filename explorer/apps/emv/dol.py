"""Data object lists (PDOL 9F38, CDOL1/2 8C/8D, DDOL 9F49, log format 9F4F): tags with lengths,
no values (Book 3 5.4), and the PDOL filled with the neutral values this analyzer sends."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.emv.constants import EMV_NAMES, Tag
from explorer.core.tlv_tags import TAG_NAMES


@dataclass(frozen=True)
class DolEntry:
    tag: int
    tag_bytes: bytes
    length: int
    offset: int  # where the entry's tag starts in the DOL's value
    size: int  # bytes the entry takes in the DOL (tag and length)

    @property
    def name(self) -> str:
        return tag_name(self.tag)


def tag_name(tag: int) -> str:
    return EMV_NAMES.get(tag) or TAG_NAMES.get(tag) or f"tag {tag:X}"


def parse_dol(value: bytes) -> tuple[list[DolEntry], str]:
    """The entries of a DOL and what was wrong at its end ("" when nothing)."""
    out: list[DolEntry] = []
    pos = 0
    while pos < len(value):
        start = pos
        pos += 1
        if value[start] & 0x1F == 0x1F:
            while pos < len(value) and value[pos] & 0x80:
                pos += 1
            pos += 1
        if pos >= len(value):
            return out, f"entry at byte {start} is cut short (a tag needs its length)"
        tag_bytes = value[start:pos]
        out.append(DolEntry(int.from_bytes(tag_bytes, "big"), tag_bytes, value[pos], start, pos + 1 - start))
        pos += 1
    return out, ""


#: Neutral terminal values for the PDOL. Everything not listed is zeros (amounts 0, TVR and
#: TTQ all zero, date 00 00 00, transaction type 00 goods and services); the unpredictable number
#: is fixed to 00 00 00 00 so two runs send the same bytes. Terminal country and transaction
#: currency are United Kingdom (0826) and pound sterling (0826): real ISO 3166 / ISO 4217 codes,
#: since a card may refuse 000; nothing else about the choice matters to a read-only analysis.
NEUTRAL_VALUES: dict[int, bytes] = {
    Tag.TERMINAL_COUNTRY: bytes.fromhex("0826"),
    Tag.TRANSACTION_CURRENCY: bytes.fromhex("0826"),
}

NEUTRAL_NOTE = ("PDOL filled with neutral values: amounts 0, unpredictable number fixed 00 00 00 00, "
                "terminal country 0826 (United Kingdom) and transaction currency 0826 (pound sterling), "
                "every other field (date, TVR, TTQ, terminal type…) zeros")


def fill_dol(entries: list[DolEntry]) -> bytes:
    """The data a DOL asks for, neutral values, each cut or left-padded with zeros to its length
    as Book 3 5.4 says for numeric values (the zeros here pad every kind the same)."""
    out = bytearray()
    for entry in entries:
        value = NEUTRAL_VALUES.get(entry.tag, b"")
        if len(value) >= entry.length:
            out += value[len(value) - entry.length:]
        else:
            out += bytes(entry.length - len(value)) + value
    return bytes(out)
