"""The PIV commands the analyzer sends (SELECT by the partial AID, GET DATA with a tag list, the
empty VERIFY) and the one-level TLV reading of a data container: a certificate inside 70 or a gzip
stream is data, not nested objects, so the container is never decoded as a BER tree."""

from __future__ import annotations

from dataclasses import dataclass, replace

from explorer.apps.piv.constants import RID, TAG_LIST, Ins
from explorer.core.tlv import TlvNode

SELECT_PIV = bytes([0x00, Ins.SELECT, 0x04, 0x00, len(RID)]) + RID + b"\x00"


def tag_bytes(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def get_data(tag: int) -> bytes:
    """GET DATA of one object (Part 2 §3.1.2): P1-P2 3F FF, the tag list 5C, Le 00."""
    listed = tag_bytes(tag)
    field = bytes([TAG_LIST, len(listed)]) + listed
    return bytes([0x00, Ins.GET_DATA, 0x3F, 0xFF, len(field)]) + field + b"\x00"


def empty_verify(reference: int) -> bytes:
    """VERIFY without data: asks whether the reference is verified, and how many tries are left;
    no try is spent (ISO/IEC 7816-4 §11.5.6, SP 800-73-4 Part 2 §3.2.1)."""
    return bytes([0x00, Ins.VERIFY, 0x00, reference])


@dataclass(frozen=True)
class Flat:
    nodes: tuple[TlvNode, ...]
    error: str  # "" when the bytes were objects to the end


def _length(data: bytes, pos: int) -> tuple[int, int] | None:
    """(length, bytes the length field takes) at `pos`, or None."""
    if pos >= len(data):
        return None
    first = data[pos]
    if first < 0x80:
        return first, 1
    count = first & 0x7F
    if not 1 <= count <= 3 or pos + 1 + count > len(data):
        return None
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), 1 + count


def flat_tlv(data: bytes, base: int = 0) -> Flat:
    """The BER-TLV objects of `data` one level deep (values not descended into); offsets are
    `base` plus the index in `data`."""
    nodes: list[TlvNode] = []
    pos = 0
    while pos < len(data):
        start = pos
        if data[pos] & 0x1F == 0x1F:
            pos += 1
            while pos < len(data) and data[pos] & 0x80 and pos - start < 3:
                pos += 1
        pos += 1
        if pos > len(data) or pos - start > 4:
            return Flat(tuple(nodes), f"the tag at offset {base + start} is cut short")
        found = _length(data, pos)
        if found is None:
            return Flat(tuple(nodes), f"the length at offset {base + pos} is not a BER length")
        length, size = found
        end = pos + size + length
        if end > len(data):
            return Flat(tuple(nodes), f"the object at offset {base + start} runs past the end "
                                      f"({length} bytes announced, {len(data) - pos - size} there)")
        tag = data[start:pos]
        nodes.append(TlvNode(int.from_bytes(tag, "big"), tag, length, data[pos + size : end], base + start,
                             pos + size - start, (), bool(tag[0] & 0x20)))
        pos = end
    return Flat(tuple(nodes), "")


def with_children(node: TlvNode) -> tuple[TlvNode, str]:
    """`node` with its value read one level deep as its children, and what went wrong."""
    inner = flat_tlv(node.value, node.offset + node.header_length)
    return replace(node, children=inner.nodes), inner.error
