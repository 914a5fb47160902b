"""Historical bytes of an ATR, per ISO/IEC 7816-4 (8.1.1) and PC/SC part 3.

Offsets in every field and finding are positions in the whole ATR (the
caller passes where the historical bytes start), so the ATR view can point
at them without translating.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.core import atr_tables as tb
from explorer.core.atr_fields import AtrField, Finding, Level
from explorer.core.hexfmt import to_hex
from explorer.core.status_words import explain


@dataclass(frozen=True)
class CompactTlv:
    """One compact-TLV object: header byte `tag << 4 | length` at `offset`."""

    tag: int
    length: int
    value: bytes
    offset: int


@dataclass(frozen=True)
class StorageCard:
    """PC/SC part 3: a contactless storage card presented by the reader."""

    standard: int
    standard_name: str
    name_code: int
    name: str


@dataclass(frozen=True)
class HistoricalBytes:
    data: bytes
    category: int | None
    tlv: tuple[CompactTlv, ...] | None
    status: bytes | None
    dir_ref: int | None
    storage_card: StorageCard | None
    field: AtrField | None
    findings: tuple[Finding, ...]


def _bits_meaning(parts: list[str], none: str) -> str:
    return "; ".join(parts) if parts else none


def _card_service(value: int, at: int) -> AtrField:
    parts = tb.bit_list(value, tb.CARD_SERVICE_BITS)
    parts.append(tb.EF_DIR_ACCESS.get(value >> 1 & 0b111, "EF.DIR and EF.ATR access: reserved value"))
    parts.append("card without MF" if value & 0x01 else "card with MF")
    return AtrField("Card service data", f"{value:02X}", _bits_meaning(parts, ""), at, at + 1)


def _capabilities(value: bytes, at: int) -> tuple[AtrField, ...]:
    out: list[AtrField] = []
    if len(value) >= 1:
        b = value[0]
        out.append(AtrField("Selection methods", f"{b:02X}",
                            _bits_meaning(tb.bit_list(b, tb.SELECTION_METHODS), "none announced"),
                            at, at + 1))
    if len(value) >= 2:
        b = value[1]
        parts = ["EFs of TLV structure supported"] if b & 0x80 else []
        parts.append(f"write functions: {tb.WRITE_BEHAVIOUR[b >> 5 & 0b11]}")
        parts.append(f"FF as first byte of a BER-TLV tag is {'valid' if b & 0x10 else 'invalid'}")
        parts.append(f"data unit: {2 ** (b & 0x0F)} quartet(s)")
        out.append(AtrField("Data coding", f"{b:02X}", "; ".join(parts), at + 1, at + 2))
    if len(value) >= 3:
        b = value[2]
        parts = []
        if b & 0x80:
            parts.append("command chaining")
        parts.append("extended Lc and Le fields" if b & 0x40 else "short Lc and Le fields only")
        if b & 0x20:
            parts.append("extended length information in EF.ATR/INFO")
        parts.append(tb.LOGICAL_CHANNEL_ASSIGNMENT[b >> 3 & 0b11])
        if b >> 3 & 0b11:
            count = b & 0b111
            parts.append("8 or more logical channels" if count == 0b111
                         else f"at most {count + 1} logical channels")
        out.append(AtrField("Command chaining, lengths, logical channels", f"{b:02X}", "; ".join(parts),
                            at + 2, at + 3))
    return tuple(out)


def _status_fields(value: bytes, at: int) -> tuple[AtrField, ...]:
    """Status indicator: LCS, SW1-SW2, or both (1, 2 or 3 bytes)."""
    out: list[AtrField] = []
    if len(value) in (1, 3):
        out.append(AtrField("Life cycle status", f"{value[0]:02X}", tb.life_cycle(value[0]), at, at + 1))
    if len(value) in (2, 3):
        sw = value[-2] << 8 | value[-1]
        start = at + len(value) - 2
        out.append(AtrField("Status word", to_hex(value[-2:]), explain(sw).text, start, start + 2))
    return tuple(out)


def _tlv_field(obj: CompactTlv) -> AtrField:
    name = tb.COMPACT_TAGS.get(obj.tag, "reserved for future use")
    header = AtrField("Header", f"{obj.tag << 4 | obj.length:02X}",
                      f"tag {obj.tag:X} ({name}), {obj.length} byte(s) follow", obj.offset, obj.offset + 1)
    at = obj.offset + 1
    value_fields: tuple[AtrField, ...] = ()
    # A cut-short value is shown raw: reading 2 of 3 status bytes as SW1-SW2 would mislead.
    complete = len(obj.value) == obj.length
    if complete and obj.tag == 0x3 and obj.length == 1:
        value_fields = (_card_service(obj.value[0], at),)
    elif complete and obj.tag == 0x7 and obj.value:
        value_fields = _capabilities(obj.value, at)
    elif complete and obj.tag == 0x8 and obj.value:
        value_fields = _status_fields(obj.value, at)
    elif obj.value:
        note = _printable_note(obj.value) if complete else f"cut short: {obj.length} byte(s) announced"
        value_fields = (AtrField("Value", to_hex(obj.value), note, at, at + len(obj.value),
                                 level=None if complete else Level.ERROR),)
    return AtrField(f"Tag {obj.tag:X}: {name}", to_hex(bytes([obj.tag << 4 | obj.length]) + obj.value),
                    f"compact-TLV object, {obj.length} byte(s) of {name}",
                    obj.offset, at + len(obj.value), (header, *value_fields))


def _printable_note(value: bytes) -> str:
    if len(value) >= 3 and all(0x20 <= b < 0x7F for b in value):
        return f'as text: "{value.decode("ascii")}"'
    return ""


def _compact_tlv(data: bytes, at: int, findings: list[Finding]) -> list[CompactTlv]:
    objects: list[CompactTlv] = []
    i = 0
    while i < len(data):
        tag, length = data[i] >> 4, data[i] & 0x0F
        value = data[i + 1:i + 1 + length]
        if len(value) < length:
            findings.append(Finding(Level.ERROR, f"compact-TLV tag {tag:X} announces {length} byte(s), "
                                    f"only {len(value)} left in the historical bytes",
                                    at + i, at + len(data)))
        if (tag == 0x3 and length != 1) or (tag in (0x7, 0x8) and not 1 <= length <= 3):
            findings.append(Finding(Level.WARNING, f"compact-TLV tag {tag:X} ({tb.COMPACT_TAGS[tag]}) "
                                    f"has an unusual length {length}", at + i, at + i + 1))
        objects.append(CompactTlv(tag, length, value, at + i))
        i += 1 + length
    return objects


def _storage_card(data: bytes, at: int) -> tuple[StorageCard, AtrField] | None:
    """PC/SC part 3: 80 4F 0C, RID A0 00 00 03 06, SS, NN NN, 4 RFU bytes."""
    if len(data) < 11 or data[1:3] != b"\x4f\x0c" or data[3:8] != tb.PCSC_RID:
        return None
    ss, nn = data[8], data[9] << 8 | data[10]
    card = StorageCard(ss, tb.PCSC_STANDARDS.get(ss, "reserved for future use"), nn,
                       tb.PCSC_CARD_NAMES.get(nn, "not in the PC/SC list"))
    children = [
        AtrField("AID tag", "4F", "application identifier follows (PC/SC part 3)", at + 1, at + 2),
        AtrField("Length", "0C", "12 bytes: RID, standard, card name, reserved", at + 2, at + 3),
        AtrField("RID", to_hex(tb.PCSC_RID), "PC/SC Workgroup registered application provider",
                 at + 3, at + 8),
        AtrField("Standard", f"{ss:02X}", card.standard_name, at + 8, at + 9),
        AtrField("Card name", f"{nn >> 8:02X} {nn & 0xFF:02X}", card.name, at + 9, at + 11),
    ]
    if len(data) > 11:
        rfu = data[11:15]
        children.append(AtrField("Reserved", to_hex(rfu), "reserved for future use (00 00 00 00)",
                                 at + 11, at + 11 + len(rfu)))
    end = at + min(len(data), 15)
    field = AtrField("PC/SC storage card", to_hex(data[1:15]),
                     f"{card.name} ({card.standard_name}), as presented by a PC/SC contactless reader",
                     at + 1, end, tuple(children))
    return card, field


def decode_historical(data: bytes, at: int) -> HistoricalBytes:
    """Decode the historical bytes present (fewer than K when the ATR is cut
    short, which the caller reports); `at` is the offset of the first one."""
    findings: list[Finding] = []
    if not data:
        return HistoricalBytes(data, None, None, None, None, None, None, ())
    category = data[0]
    tlv: list[CompactTlv] | None = None
    status: bytes | None = None
    dir_ref: int | None = None
    storage: StorageCard | None = None
    children: list[AtrField] = []
    end = at + len(data)

    if category == 0x00:
        meaning = "compact-TLV objects, then a 3-byte status indicator (ISO/IEC 7816-4)"
        if len(data) < 4:
            findings.append(Finding(Level.ERROR, "category 00 needs a 3-byte status indicator at the end; "
                                    f"only {len(data) - 1} byte(s) follow", at, end))
            tlv = _compact_tlv(data[1:], at + 1, findings)
        else:
            tlv = _compact_tlv(data[1:-3], at + 1, findings)
            status = data[-3:]
    elif category == 0x80:
        found = _storage_card(data, at)
        if found is not None:
            meaning = "PC/SC part 3: a storage card seen through a contactless reader"
            storage, pcsc_field = found
            children.append(pcsc_field)
            # Not compact-TLV: 4F is the BER-TLV AID tag and 0C its length.
            tlv = [CompactTlv(0x4F, 12, data[3:15], at + 1)]
        else:
            meaning = "compact-TLV objects (ISO/IEC 7816-4)"
            tlv = _compact_tlv(data[1:], at + 1, findings)
            status_obj = next((o for o in tlv if o.tag == 0x8), None)
            status = status_obj.value if status_obj is not None else None
    elif category == 0x10:
        meaning = "the next byte is a DIR data reference"
        if len(data) >= 2:
            dir_ref = data[1]
            children.append(AtrField("DIR data reference", f"{dir_ref:02X}",
                                     "reference to an EF.DIR record with the card's applications",
                                     at + 1, at + 2))
        else:
            findings.append(Finding(Level.ERROR, "category 10 needs a DIR data reference byte", end, end))
        if len(data) > 2:
            findings.append(Finding(Level.WARNING, f"{len(data) - 2} byte(s) after the DIR data reference",
                                    at + 2, end))
    elif 0x81 <= category <= 0x8F:
        meaning = "reserved for future use (ISO/IEC 7816-4)"
    else:
        meaning = "proprietary format, not defined by ISO/IEC 7816-4"

    category_field = AtrField("Category indicator", f"{category:02X}", meaning, at, at + 1)
    if storage is None and tlv is not None:
        children.extend(_tlv_field(o) for o in tlv)
    if category == 0x00 and status is not None:
        children.append(AtrField("Status indicator", to_hex(status), "mandatory last 3 bytes: LCS, SW1-SW2",
                                 end - 3, end, _status_fields(status, end - 3)))
    text = _printable_note(data[1:]) if category not in (0x00, 0x80) else ""
    summary = f"{len(data)} byte(s); {meaning}" + (f"; {text}" if text else "")
    field = AtrField("Historical bytes", to_hex(data), summary, at, end, (category_field, *children))
    tlv_out = tuple(tlv) if tlv is not None else None
    return HistoricalBytes(data, category, tlv_out, status, dir_ref, storage, field, tuple(findings))
