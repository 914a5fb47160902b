"""FCP, FMD and FCI templates (tags 62, 64, 6F) decoded field by field (ISO/IEC 7816-4 7.4), with
`FileInfo`: what the analyzer needs to read the file (its type, size, records, SFI, access rules)."""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.apps.findings import Finding
from explorer.apps.fs.constants import (
    DO_ACCESS_MODES,
    EF_STRUCTURES,
    SPECIAL_DESCRIPTORS,
    FcpTag,
    FileType,
    Template,
    life_cycle,
)
from explorer.apps.fs.content import Buffer, Chunks, content_findings, text_of, tlv_findings
from explorer.apps.fs.security import Rules, compact, expanded, mode_table, referenced
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode, decode_tlv


@dataclass
class FileInfo:
    type: FileType | None = None
    fid: int | None = None
    df_name: bytes | None = None
    size: int | None = None
    record_size: int | None = None
    records: int | None = None
    sfi: int | None = None
    #: Conditions per command group ("READ": "PIN 81"), from whichever security attributes came.
    rules: Rules = field(default_factory=Rules)
    #: The EF.ARR an 8B names (its FID), so that file's records are read as access rules.
    arr: int | None = None

    @property
    def is_df(self) -> bool:
        return self.type is FileType.DF


def file_type(descriptor: int) -> FileType:
    low = descriptor & 0x3F
    if descriptor & 0x80:
        return FileType.RFU
    if low in SPECIAL_DESCRIPTORS:
        return SPECIAL_DESCRIPTORS[low]
    category = low >> 3
    if category in (0b000, 0b001):  # working or internal EF
        return EF_STRUCTURES[low & 0x07]
    return FileType.PROPRIETARY if category != 0b111 else FileType.RFU


def _coding_byte(value: int) -> str:
    writes = ("one-time write", "proprietary", "write OR", "write AND")[value >> 5 & 0x03]
    ff = "FF is a valid first byte of a tag" if value & 0x10 else "FF is padding, not a tag"
    unit = 1 << (value & 0x0F)  # size in quartets, as a power of two
    size = f"{unit // 2} byte(s)" if unit >= 2 else "one quartet"
    tlv_ef = "; EFs of BER-TLV structure supported" if value & 0x80 else ""
    return f"write functions: {writes}; {ff}; data unit: {size}{tlv_ef}"


def _descriptor(buffer: Buffer, node: TlvNode, info: FileInfo) -> Finding:
    value, start = node.value, node.offset + node.header_length
    name = "82 file descriptor"
    if not value:
        return buffer.node(node, name, "empty", "no file descriptor byte")
    d = value[0]
    info.type = file_type(d)
    kind = "internal EF" if d & 0x38 == 0x08 else info.type.value
    share = "shareable" if d & 0x40 else "not shareable"
    children = [buffer.finding("File descriptor byte", start, start + 1, f"{d:02X}", f"{kind}, {share}")]
    if len(value) >= 2:
        children.append(buffer.finding("Data coding byte", start + 1, start + 2, f"{value[1]:02X}",
                                       _coding_byte(value[1])))
    rest, at = value[2:], start + 2
    # 1 or 2 bytes of maximum record size, then 1 or 2 bytes of record count (lengths 3-6).
    size_len = {0: 0, 1: 1}.get(len(rest), 2)
    if size_len:
        info.record_size = int.from_bytes(rest[:size_len], "big")
        children.append(buffer.finding("Maximum record size", at, at + size_len, str(info.record_size),
                                       "bytes per record at most"))
    count = rest[size_len:]
    if count:
        info.records = int.from_bytes(count[:2], "big")
        children.append(buffer.finding("Number of records", at + size_len, at + size_len + len(count[:2]),
                                        str(info.records)))
    return buffer.node(node, name, to_hex(value), f"{kind}, {share}", tuple(children))


def _sfi(buffer: Buffer, node: TlvNode, info: FileInfo) -> Finding:
    value = node.value
    if not value:
        return buffer.node(node, "88 short EF identifier", "none", "the EF has no SFI")
    sfi = value[0] >> 3
    if value[0] & 0x07 or not 1 <= sfi <= 30:
        return buffer.node(node, "88 short EF identifier", to_hex(value),
                           "not an SFI of 1-30 in bits 8-4 (proprietary value)")
    info.sfi = sfi
    return buffer.node(node, "88 short EF identifier", str(sfi), f"SFI {sfi} (bits 8-4 of {value[0]:02X})")


def _size(buffer: Buffer, node: TlvNode, info: FileInfo) -> Finding:
    size = int.from_bytes(node.value[:8], "big")
    if node.tag == FcpTag.DATA_SIZE:
        info.size = size
        return buffer.node(node, "80 file size", f"{size} bytes",
                           "data bytes, structural information excluded")
    if info.size is None:
        info.size = size
    return buffer.node(node, "81 total file size", f"{size} bytes", "structural information included")


def _life_cycle(buffer: Buffer, node: TlvNode) -> Finding:
    if len(node.value) != 1:
        return buffer.node(node, "8A life cycle status", to_hex(node.value), "one byte expected")
    state = life_cycle(node.value[0])
    return buffer.node(node, "8A life cycle status", f"{node.value[0]:02X}", state.value)


def _fid(buffer: Buffer, node: TlvNode, info: FileInfo, name: str, text: str) -> Finding:
    if len(node.value) == 2 and node.tag == FcpTag.FID:
        info.fid = int.from_bytes(node.value, "big")
    return buffer.node(node, name, to_hex(node.value), text)


def _object(buffer: Buffer, node: TlvNode, info: FileInfo) -> Finding:
    tag, value = node.tag, node.value
    if tag in (FcpTag.DATA_SIZE, FcpTag.TOTAL_SIZE):
        return _size(buffer, node, info)
    if tag == FcpTag.DESCRIPTOR:
        return _descriptor(buffer, node, info)
    if tag == FcpTag.FID:
        return _fid(buffer, node, info, "83 file identifier", "")
    if tag == FcpTag.DF_NAME:
        info.df_name = value
        return buffer.node(node, "84 DF name", text_of(value), "the application identifier (AID) or name")
    if tag == FcpTag.FCI_EXTENSION:
        return _fid(buffer, node, info, "87 FCI extension EF", "FID of an EF holding more FCI")
    if tag == FcpTag.SE_EF:
        return _fid(buffer, node, info, "8D security environment EF", "FID of the EF of SE templates")
    if tag == FcpTag.SFI:
        return _sfi(buffer, node, info)
    if tag == FcpTag.LIFE_CYCLE:
        return _life_cycle(buffer, node)
    if tag == FcpTag.SECURITY_COMPACT:
        return compact(buffer, node, info.is_df, info.rules)
    if tag == FcpTag.SECURITY_REFERENCED:
        if len(value) >= 3:
            info.arr = int.from_bytes(value[:2], "big")
        return referenced(buffer, node)
    if tag == FcpTag.SECURITY_EXPANDED:
        return expanded(buffer, node, mode_table(info.is_df), info.rules, "AB security attributes (expanded)")
    if tag == FcpTag.SECURITY_DATA_OBJECTS:
        # Its access mode bytes follow the data object table: GET DATA, PUT DATA, MANAGE SE.
        return expanded(buffer, node, DO_ACCESS_MODES, info.rules, "A0 security attributes of data objects")
    if tag == FcpTag.SECURITY_INTERFACES:
        return buffer.node(node, "A1 security attributes per physical interface", "",
                           "rule sets per interface (contact, contactless)",
                           tlv_findings(buffer, node.children))
    if tag == FcpTag.SECURITY_PROPRIETARY:
        return buffer.node(node, "86 security attributes (proprietary)", to_hex(value),
                           "format defined by the card's maker, not by ISO/IEC 7816-4")
    if tag == FcpTag.PROPRIETARY:
        return buffer.node(node, "85 proprietary information", text_of(value), "defined by the card's maker")
    if tag == FcpTag.PROPRIETARY_TEMPLATE:
        return buffer.node(node, "A5 proprietary template", "",
                           "FCI issuer data (label, priority, language…)",
                           tlv_findings(buffer, node.children))
    if tag == FcpTag.CHANNEL_SECURITY:
        return buffer.node(node, "8E channel security attribute", to_hex(value),
                           "secure messaging or other channel protection required")
    return tlv_findings(buffer, (node,))[0]


_TEMPLATE_NAMES = {Template.FCP: "FCP template", Template.FMD: "FMD template", Template.FCI: "FCI template"}


def decode_select(data: bytes, exchange: int) -> tuple[Finding, FileInfo]:
    """What a SELECT gave: an FCP, FMD or FCI template decoded, or the bytes as they came."""
    buffer = Buffer(data, Chunks.single(exchange, len(data)))
    info = FileInfo()
    result = decode_tlv(data)
    top = result.nodes[0] if len(result.nodes) == 1 else None
    if result.error is not None or top is None or top.tag not in _TEMPLATE_NAMES:
        if not data:
            return buffer.finding("Control parameters", 0, 0, "none", "the SELECT returned no data"), info
        return content_findings(buffer, "Control parameters (not an FCP/FMD/FCI template)"), info
    # The descriptor first: whether the file is a DF decides how security attributes read.
    order = sorted(top.children, key=lambda n: n.tag != FcpTag.DESCRIPTOR)
    decoded = {id(n): _object(buffer, n, info) for n in order}
    children = tuple(decoded[id(n)] for n in top.children)
    name = f"{top.tag_hex} {_TEMPLATE_NAMES[Template(top.tag)]}"
    return buffer.node(top, name, "", _summary(info), children), info


def _summary(info: FileInfo) -> str:
    parts = [info.type.value if info.type else "type not given"]
    if info.size is not None:
        parts.append(f"{info.size} bytes")
    if info.records is not None:
        parts.append(f"{info.records} records")
    if info.sfi is not None:
        parts.append(f"SFI {info.sfi}")
    return ", ".join(parts)
