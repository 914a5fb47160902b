"""What a SELECT tells about a file: the UICC's FCP template (ETSI TS 102 221 11.1.1.3) or a GSM
SIM's response (3GPP TS 51.011 9.2.1), read into one FileInfo with fields for display."""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.apps.sim import access
from explorer.apps.sim.fields import Field
from explorer.core.tlv import TlvNode, decode_tlv

_STRUCTURES = {1: "transparent", 2: "linear fixed", 6: "cyclic"}
_GSM_STRUCTURES = {0: "transparent", 1: "linear fixed", 3: "cyclic"}
_GSM_TYPES = {1: "MF", 2: "DF", 4: "EF"}


@dataclass(frozen=True)
class FileInfo:
    is_df: bool = False
    structure: str = ""
    size: int | None = None
    record_size: int = 0
    records: int = 0
    rules: tuple[access.Rule, ...] = ()
    arr: tuple[int | None, int] | None = None  # 8B: EF.ARR file and record
    fields: tuple[Field, ...] = field(default=())


def _at(node: TlvNode) -> tuple[int, int]:
    return node.offset, node.end


def parse_fcp(data: bytes) -> FileInfo:
    nodes = decode_tlv(data).nodes
    top = next((n for n in nodes if n.tag == 0x62), None)
    if top is None:
        return FileInfo(fields=(Field("FCP", "none", "the card sent no FCP template (62)", 0, len(data)),))
    fields: list[Field] = []
    is_df = False
    structure, size, record_size, records = "", None, 0, 0
    rules: list[access.Rule] = []
    arr: tuple[int | None, int] | None = None
    for node in top.children:
        start, end = _at(node)
        v = node.value
        if node.tag == 0x82 and v:
            kind = v[0] >> 3 & 0x07
            is_df = kind == 0x07
            what = "DF or ADF" if is_df else _STRUCTURES.get(v[0] & 0x07, f"structure {v[0] & 7}") + " EF"
            structure = "" if is_df else _STRUCTURES.get(v[0] & 0x07, "")
            if len(v) >= 5:
                record_size, records = int.from_bytes(v[2:4], "big"), v[4]
                what += f", {v[4]} records of {int.from_bytes(v[2:4], 'big')} bytes"
            fields.append(Field("File descriptor", what, "82: file type and structure", start, end))
        elif node.tag == 0x83:
            fields.append(Field("File identifier", v.hex().upper(), "83", start, end))
        elif node.tag == 0x84:
            fields.append(Field("DF name (AID)", v.hex().upper(), "84", start, end))
        elif node.tag == 0x80:
            size = int.from_bytes(v, "big")
            fields.append(Field("File size", f"{size} bytes", "80: bytes of data in the EF", start, end))
        elif node.tag == 0x8A and v:
            lcs = {0x05: "operational, activated", 0x04: "operational, deactivated",
                   0x01: "creation", 0x03: "initialisation", 0x0C: "terminated"}
            state = lcs.get(v[0] & 0x0D if v[0] >= 4 else v[0], f"{v[0]:02X}")
            fields.append(Field("Life cycle status", state, "8A", start, end))
        elif node.tag == 0x8C:
            rules = access.compact_rules(v, is_df)
            fields.append(Field("Security attributes (compact)", access.rules_text(rules),
                                "8C: an access mode byte and a condition byte per operation", start, end))
        elif node.tag == 0xAB:
            rules = access.expanded_rules(v, is_df)
            fields.append(Field("Security attributes (expanded)", access.rules_text(rules), "AB", start, end))
        elif node.tag == 0x8B:
            arr = access.referenced(v)
            where = ("unreadable" if arr is None else
                     f"record {arr[1]} of EF.ARR" + (f" {arr[0]:04X}" if arr[0] is not None else ""))
            fields.append(Field("Security attributes (referenced)", where,
                                "8B: the access rules are a record of EF.ARR", start, end))
        elif node.tag == 0xC6:
            fields.append(_pin_status(node))
    return FileInfo(is_df, structure, size, record_size, records, tuple(rules), arr, tuple(fields))


def _pin_status(node: TlvNode) -> Field:
    """C6 (102 221 9.5.2): 90 a bitmap of enabled PINs, then the key references in order."""
    # C6 is coded as a primitive tag, yet holds data objects: decode its value.
    inner = decode_tlv(node.value, offset=node.offset + node.header_length).nodes
    bitmap = next((c.value for c in inner if c.tag == 0x90), b"")
    refs = [c.value[0] for c in inner if c.tag == 0x83 and c.value]
    parts = []
    for i, ref in enumerate(refs):
        enabled = bool(bitmap) and i < 8 * len(bitmap) and bitmap[i // 8] >> (7 - i % 8) & 1
        parts.append(f"{ref:02X} {'enabled' if enabled else 'disabled'}")
    return Field("PIN status", ", ".join(parts) or "none", "C6: the PINs this DF uses", node.offset, node.end)


def parse_gsm_response(data: bytes) -> FileInfo:
    if len(data) < 13:
        return FileInfo(fields=(Field("Response", "too short", "51.011 9.2.1 needs 13 bytes or more",
                                      0, len(data)),))
    kind = _GSM_TYPES.get(data[6], f"type {data[6]:02X}")
    size = int.from_bytes(data[2:4], "big")
    fields = [Field("File identifier", data[4:6].hex().upper(), "bytes 5-6", 4, 6),
              Field("Type", kind, "byte 7", 6, 7)]
    if kind != "EF":
        return FileInfo(True, fields=tuple(fields))
    rules = access.gsm_rules(data[8:11])
    structure = _GSM_STRUCTURES.get(data[13], "") if len(data) > 13 else ""
    record = data[14] if len(data) > 14 else 0
    fields += [Field("File size", f"{size} bytes", "bytes 3-4", 2, 4),
               Field("Access conditions", access.rules_text(rules), "bytes 9-11: one nibble per operation",
                     8, 11),
               Field("Structure", structure or f"{data[13]:02X}", "byte 14", 13, 14)]
    count = size // record if record else 0
    return FileInfo(False, structure, size, record, count, tuple(rules), None, tuple(fields))
