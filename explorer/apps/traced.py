"""Findings made from an answer's bytes: the Source and the raw bytes always agree, because both
come from one span of one answer's data."""

from __future__ import annotations

from explorer.apps.findings import Finding, Source
from explorer.apps.session import Answer
from explorer.core.tlv import TlvNode


def node_source(exchange: int, node: TlvNode) -> Source:
    """Where a whole data object (tag, length and value) is, when it was decoded from exchange
    `exchange`'s response data with offset 0 (the decoder's offsets are then the data's)."""
    return Source(exchange, node.offset, node.end)


def at(answer: Answer, start: int, end: int, name: str, value: str = "", explanation: str = "",
       children: list[Finding] | tuple[Finding, ...] = (), *, sensitive: bool = False) -> Finding:
    """A finding for bytes `start:end` of `answer`'s data."""
    return Finding(name, value, explanation, Source(answer.index, start, end), answer.data[start:end],
                   sensitive, tuple(children))


def of_node(answer: Answer, node: TlvNode, name: str, value: str = "", explanation: str = "",
            children: list[Finding] | tuple[Finding, ...] = (), *, sensitive: bool = False) -> Finding:
    """A finding for a whole data object of `answer`'s data (decoded with offset 0)."""
    return at(answer, node.offset, node.end, name, value, explanation, children, sensitive=sensitive)
