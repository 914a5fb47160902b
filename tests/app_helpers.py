"""Helpers the card-application tests share: an answer as a session gives it, a decoded TLV node,
a finding's children by name."""

from __future__ import annotations

from explorer.apps.findings import Finding
from explorer.apps.session import Answer
from explorer.core.exchange import Reply
from explorer.core.tlv import TlvNode, decode_tlv


def answer(data: bytes, index: int = 0, sw: int = 0x9000) -> Answer:
    return Answer(index, Reply((), data, sw))


def node(data: bytes) -> TlvNode:
    result = decode_tlv(data)
    assert result.error is None
    return result.nodes[0]


def values(finding: Finding) -> dict[str, str]:
    """The finding's children: name -> value."""
    return {child.name: child.value for child in finding.children}
