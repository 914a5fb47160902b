"""Helpers the card-application tests share: an answer as a session gives it, a decoded TLV node,
a finding's children by name, findings checked against their bytes, and an analysis session on
an embedded reader (`Bench`; the `bench` fixture in conftest.py makes them and closes them)."""

from __future__ import annotations

from collections.abc import Callable

from explorer.apps.findings import Finding
from explorer.apps.session import AnalysisSession, Answer
from explorer.core.exchange import Origin, Reply
from explorer.core.tlv import TlvNode, decode_tlv
from explorer.link.connection import CardConnection
from explorer.virtual.card import VirtualCard
from explorer.virtual.embedded import EmbeddedReaders
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import CardProfile


def answer(data: bytes, index: int = 0, sw: int = 0x9000) -> Answer:
    return Answer(index, Reply((), data, sw))


def node(data: bytes) -> TlvNode:
    result = decode_tlv(data)
    assert result.error is None
    return result.nodes[0]


def values(finding: Finding) -> dict[str, str]:
    """The finding's children: name -> value."""
    return {child.name: child.value for child in finding.children}


def assert_traced(root: Finding, data_of: Callable[[int], bytes]) -> int:
    """Every finding with a source holds exactly the bytes its source names; how many there are."""
    count = 0
    for _, found in root.walk():
        if found.source is not None:
            src = found.source
            assert 0 <= src.start <= src.end
            assert found.raw == data_of(src.exchange)[src.start : src.end], found.name
            count += 1
    return count


class Bench:
    """One embedded reader with one card, a connection to it, and an analysis session over it."""

    def __init__(self, card: VirtualCard, allow_changes: bool = False) -> None:
        self.card = card
        self.hub = EmbeddedReaders(lambda event: None)
        self.reader = self.hub.add_reader()
        self.hub.insert(self.reader, card, "test")
        self.conn = CardConnection(self.reader, self.hub.link(self.reader), None,
                                   lambda: self.hub.refresh(self.reader))
        self.conn.connect().result(5)
        self.session = AnalysisSession(lambda apdu: self.conn.send(apdu, Origin.API).result(5),
                                       allow_changes=allow_changes)

    def data(self, exchange: int) -> bytes:
        return self.session.replies[exchange].data


def profile_card(profile: CardProfile) -> VirtualCard:
    return VirtualCard(profile.atr, FileSystemCard(profile))
