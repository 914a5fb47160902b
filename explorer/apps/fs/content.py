"""Bytes a file or a SELECT gave, turned into findings: BER-TLV as a tree when the bytes parse as
one, else hex with the printable characters; each finding traced to the exchange it came in.

A transparent EF read in several READ BINARY chunks is one buffer made of several answers:
`Chunks` maps a span of that buffer back to the one exchange that holds it (a span across two
answers has no single source, and gets none).
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.findings import Finding, Source
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode, decode_tlv, looks_like_tlv


@dataclass(frozen=True)
class Chunks:
    """(exchange, offset in the buffer, length) of each answer the buffer is made of."""

    parts: tuple[tuple[int, int, int], ...]

    @classmethod
    def single(cls, exchange: int, length: int) -> Chunks:
        return cls(((exchange, 0, length),))

    def source(self, start: int, end: int) -> Source | None:
        for exchange, at, length in self.parts:
            if at <= start and end <= at + length:
                return Source(exchange, start - at, end - at)
        return None


@dataclass(frozen=True)
class Buffer:
    data: bytes
    chunks: Chunks

    def finding(self, name: str, start: int, end: int, value: str = "", explanation: str = "",
                children: tuple[Finding, ...] = ()) -> Finding:
        return Finding(name, value, explanation, self.chunks.source(start, end), self.data[start:end],
                       children=children)

    def node(self, node: TlvNode, name: str, value: str, explanation: str = "",
             children: tuple[Finding, ...] = ()) -> Finding:
        return self.finding(name, node.offset, node.end, value, explanation, children)


def text_of(value: bytes) -> str:
    """Hex, and the bytes as text when they are all printable ASCII (a label, a name)."""
    if value and all(0x20 <= b < 0x7F for b in value):
        return f'{to_hex(value)} "{value.decode("ascii")}"'
    return to_hex(value)


def tlv_findings(buffer: Buffer, nodes: tuple[TlvNode, ...]) -> tuple[Finding, ...]:
    """Generic findings for data objects: the tag and its name, the value (children for a
    template), each pointing at the whole object."""
    # Iterative (_with_children), like decode_tlv: a hostile file nests as deep as the decoder allows.
    return tuple(_with_children(buffer, node, _plain(buffer, node)) for node in nodes)


def _plain(buffer: Buffer, node: TlvNode) -> Finding:
    name = f"{node.tag_hex} {node.name}".rstrip()
    value = "" if node.constructed else text_of(node.value)
    return buffer.node(node, name, value)


def _with_children(buffer: Buffer, node: TlvNode, finding: Finding) -> Finding:
    stack: list[tuple[TlvNode, Finding, list[Finding]]] = [(node, finding, [])]
    result = finding
    while stack:
        current, made, kids = stack[-1]
        if len(kids) < len(current.children):
            child = current.children[len(kids)]
            stack.append((child, _plain(buffer, child), []))
            continue
        stack.pop()
        done = Finding(made.name, made.value, made.explanation, made.source, made.raw, children=tuple(kids))
        if stack:
            stack[-1][2].append(done)
        else:
            result = done
    return result


def content_findings(buffer: Buffer, what: str = "Content") -> Finding:
    """The whole buffer: a TLV tree when it parses as BER-TLV, else hex and ASCII."""
    data = buffer.data
    if looks_like_tlv(data):
        nodes = decode_tlv(data).nodes
        return buffer.finding(what, 0, len(data), f"{len(data)} bytes, BER-TLV",
                              "the bytes decode as BER-TLV data objects", tlv_findings(buffer, nodes))
    if not data:
        return buffer.finding(what, 0, 0, "empty", "no data")
    return buffer.finding(what, 0, len(data), text_of(data), f"{len(data)} bytes, not BER-TLV")
