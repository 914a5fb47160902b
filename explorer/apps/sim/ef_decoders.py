"""Decoders of the small EFs a USIM (31.102) or GSM SIM (51.011) holds: EF.AD, EF.SPN, EF.ACC,
EF.LOCI, PLMN lists with or without access technologies, language lists, EF.MSISDN."""

from __future__ import annotations

from explorer.apps.sim.fields import Field, digits
from explorer.apps.sim.identities import plmn_text
from explorer.apps.sim.text import alpha, language_codes

_MODES = {0x00: "normal operation", 0x80: "type approval operations",
          0x01: "normal operation + specific facilities",
          0x81: "type approval operations + specific facilities",
          0x02: "maintenance (off line)", 0x04: "cell test operation"}


def decode_ad(data: bytes) -> Field:
    children: list[Field] = []
    if data:
        children.append(Field("UE operation mode", _MODES.get(data[0], f"{data[0]:02X}: RFU"),
                              "what the phone may do with this card (31.102 4.2.18, byte 1)", 0, 1))
    if len(data) >= 3:
        children.append(Field("Additional information", data[1:3].hex(" ").upper(),
                              "bytes 2-3: byte 3 bit 1 is the ciphering indicator (OFM)", 1, 3))
    if len(data) >= 4:
        n = data[3] & 0x0F
        children.append(Field("MNC length", f"{n} digits" if n in (2, 3) else f"{n} (not 2 or 3: RFU)",
                              "how many IMSI digits after the MCC are the network code (byte 4)", 3, 4))
    return Field("Administrative data", _MODES.get(data[0], "?") if data else "empty",
                 "EF.AD: operation mode and the MNC length", 0, len(data), children=tuple(children))


def mnc_length(data: bytes) -> int | None:
    return data[3] & 0x0F if len(data) >= 4 and data[3] & 0x0F in (2, 3) else None


def decode_spn(data: bytes) -> Field:
    if not data:
        return Field("Service provider name", "empty", "", 0, 0)
    cond = data[0]
    name, coding = alpha(data[1:17])
    children = (
        Field("Display condition", f"{cond:02X}",
              ("b1 = 1: the registered PLMN name is shown too when on the home network"
               if cond & 1 else "b1 = 0: the registered PLMN name need not be shown on the home network")
              + ("; b2 = 1: the SPN is not shown when roaming" if cond & 2
                 else "; b2 = 0: the SPN is shown when roaming too"), 0, 1),
        Field("Name", name, f"bytes 2-17, {coding}, FF-padded", 1, min(len(data), 17)),
    )
    return Field("Service provider name", name, "EF.SPN (31.102 4.2.12)", 0, len(data), children=children)


def decode_plmn_list(data: bytes, title: str, why: str, entry: int = 3) -> Field:
    """PLMN lists: 3 bytes per PLMN (EF.FPLMN) or 5 (PLMN + access technologies, 31.102 4.2.5)."""
    children: list[Field] = []
    for i in range(0, len(data) - entry + 1, entry):
        item = data[i : i + entry]
        if item[:3] == b"\xff\xff\xff":
            continue
        value = plmn_text(item[:3])
        if entry == 5:
            value += ", " + access_technologies(item[3:5])
        children.append(Field(f"Entry {i // entry + 1}", value,
                              "MCC/MNC nibbles as 24.008 10.5.1.3 orders them", i, i + entry))
    summary = f"{len(children)} of {len(data) // entry} entries used"
    return Field(title, summary, why, 0, len(data), children=tuple(children))


def access_technologies(data: bytes) -> str:
    bits = [(0, 0x80, "UTRAN"), (0, 0x40, "E-UTRAN"), (0, 0x08, "NG-RAN"), (1, 0x80, "GSM"),
            (1, 0x40, "GSM COMPACT"), (1, 0x20, "cdma2000 HRPD"), (1, 0x10, "cdma2000 1xRTT")]
    names = [name for i, mask, name in bits if len(data) > i and data[i] & mask]
    return " + ".join(names) if names else "no access technology"


def decode_languages(data: bytes, title: str, why: str) -> Field:
    children = tuple(Field(f"Language {n + 1}", code, "ISO 639 code", at, at + 2)
                     for n, (at, code) in enumerate(language_codes(data)))
    return Field(title, ", ".join(c.value for c in children) or "none", why, 0, len(data), children=children)


def decode_acc(data: bytes) -> Field:
    value = int.from_bytes(data[:2], "big") if len(data) >= 2 else 0
    classes = [n for n in range(16) if value >> n & 1]
    return Field("Access control classes", ", ".join(map(str, classes)) or "none",
                 "the classes this subscriber may use when the network restricts access (0-9 ordinary, "
                 "11-15 special; 31.102 4.2.15)", 0, len(data))


def decode_loci(data: bytes) -> Field:
    if len(data) < 11:
        return Field("Location information", "too short", "", 0, len(data))
    status = {0: "updated", 1: "not updated", 2: "PLMN not allowed", 3: "location area not allowed"}
    children = (
        Field("TMSI", data[0:4].hex().upper(), "temporary identity given by the network", 0, 4, True),
        Field("LAI", f"{plmn_text(data[4:7])}, LAC {data[7:9].hex().upper()}", "location area identity",
              4, 9),
        Field("Update status", status.get(data[10] & 0x07, "reserved"), "", 10, 11),
    )
    return Field("Location information", children[1].value, "EF.LOCI (31.102 4.2.17)", 0, len(data),
                 children=children)


def decode_msisdn(record: bytes) -> Field:
    """An ADN-style record: alpha identifier, then 14 bytes of number (31.102 4.4.2.3)."""
    if len(record) < 14 or record[-14] == 0xFF:
        return Field("MSISDN", "empty", "", 0, len(record))
    x = len(record) - 14
    name, _ = alpha(record[:x])
    n = record[x]
    ton_npi = record[x + 1]
    number = ("+" if ton_npi & 0x70 == 0x10 else "") + digits(record[x + 2 : x + 1 + n])
    return Field("MSISDN", number + (f" ({name})" if name else ""), "the subscriber's phone number",
                 0, len(record), True)
