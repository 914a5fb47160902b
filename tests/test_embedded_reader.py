"""The embedded virtual reader behind the same connection as PC/SC: no pcscd involved."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.core import card_errors as ce
from explorer.core.exchange import Exchange, LinkEvent, LinkEventKind, Origin
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.core.reader_events import (
    CardInserted,
    CardRemoved,
    MonitorEvent,
    ReaderAdded,
    ReaderRemoved,
    ReaderStateChanged,
)
from explorer.core.reader_state import ReaderFlag
from explorer.link.connection import CardConnection
from explorer.link.manager import ConnectionManager
from explorer.trace.export import ExportFormat, write_export
from explorer.trace.store import TraceStore
from explorer.virtual.card import VirtualCard
from explorer.virtual.card_sources import CardSource, CardSourceError, SourceKind, load_card
from explorer.virtual.embedded import READER_PREFIX, EmbeddedReaders
from explorer.virtual.replay import NOT_IN_TRACE, ReplayMode

DEMO_ATR = bytes.fromhex("3B8E800180 31C073F60100 5643454465 6D6F89".replace(" ", ""))
SELECT_MF = bytes.fromhex("00A4000C023F00")


@pytest.fixture
def events() -> queue.SimpleQueue[MonitorEvent]:
    return queue.SimpleQueue()


@pytest.fixture
def hub(events: queue.SimpleQueue[MonitorEvent]) -> EmbeddedReaders:
    return EmbeddedReaders(events.put)


def drain(events: queue.SimpleQueue[MonitorEvent]) -> list[MonitorEvent]:
    out = []
    while not events.empty():
        out.append(events.get_nowait())
    return out


@pytest.fixture
def demo_reader(hub: EmbeddedReaders) -> str:
    reader = hub.add_reader()
    loaded = load_card(CardSource(SourceKind.DEMO))
    hub.insert(reader, loaded.card, loaded.label)
    return reader


@pytest.fixture
def connections(hub: EmbeddedReaders) -> Iterator[list[CardConnection]]:
    """Connections made in a test, closed (workers joined) after it."""
    made: list[CardConnection] = []
    yield made
    for conn in made:
        assert conn.close(timeout=5)


def connect(hub: EmbeddedReaders, reader: str, made: list[CardConnection],
            sink: list[Exchange | LinkEvent] | None = None) -> CardConnection:
    """A connection wired as the window's manager wires it: changes refresh the reader's state."""
    conn = CardConnection(reader, hub.link(reader), None if sink is None else sink.append,
                          lambda: hub.refresh(reader))
    made.append(conn)
    return conn


def test_readers_come_and_go_with_their_events(hub: EmbeddedReaders,
                                               events: queue.SimpleQueue[MonitorEvent]) -> None:
    first, second = hub.add_reader(), hub.add_reader()
    assert (first, second) == (f"{READER_PREFIX} 0", f"{READER_PREFIX} 1")
    assert hub.readers() == [first, second] and hub.owns(first) and not hub.owns("Virtual PCD 00 00")
    card = VirtualCard(DEMO_ATR)
    hub.insert(second, card, "a card")
    assert hub.card_label(second) == "a card" and hub.card_label(first) is None
    hub.remove_reader(second)
    got = drain(events)
    assert [type(e) for e in got] == [ReaderAdded, ReaderAdded, CardInserted, CardRemoved, ReaderRemoved]
    assert all(e.embedded for e in got if isinstance(e, ReaderAdded))
    assert isinstance(got[2], CardInserted) and got[2].atr == DEMO_ATR
    assert hub.readers() == [first]
    # A reader added after one went gets a fresh name: a trace never mixes two readers under one.
    assert hub.add_reader() == f"{READER_PREFIX} 2"


def test_demo_card_answers_through_the_connection_with_records(
        hub: EmbeddedReaders, demo_reader: str, connections: list[CardConnection],
        events: queue.SimpleQueue[MonitorEvent]) -> None:
    drain(events)
    records: list[Exchange | LinkEvent] = []
    conn = connect(hub, demo_reader, connections, records)
    state = conn.connect().result(5)
    assert state.connected and state.atr == DEMO_ATR
    assert state.protocol is Protocol.T0  # the ATR's first offered protocol, as a reader would choose
    assert conn.embedded
    (in_use,) = drain(events)
    assert isinstance(in_use, ReaderStateChanged) and in_use.flags & ReaderFlag.INUSE
    reply = conn.send(SELECT_MF, Origin.CONSOLE).result(5)
    assert reply.sw == 0x9000
    assert conn.get_attribute("ATR_STRING").result(5) == DEMO_ATR
    assert conn.get_attribute("vendor name").result(5) == b"Card Explorer"
    with pytest.raises(ce.NotSupported, match="no control code"):
        conn.control(0x42000D48).result(5)
    conn.disconnect(Disposition.RESET).result(5)
    kinds = [r.kind for r in records if isinstance(r, LinkEvent)]
    assert kinds == [LinkEventKind.CONNECTED, LinkEventKind.DISCONNECTED]
    exchanges = [r for r in records if isinstance(r, Exchange)]
    assert exchanges[0].command == SELECT_MF and exchanges[0].response == b"\x90\x00"
    assert exchanges[0].origin is Origin.CONSOLE and exchanges[0].reader == demo_reader


def test_wrong_le_and_get_response_follow_the_profile(hub: EmbeddedReaders, demo_reader: str,
                                                       connections: list[CardConnection]) -> None:
    conn = connect(hub, demo_reader, connections)
    conn.connect(Protocol.T0).result(5)
    assert conn.send(bytes.fromhex("00A4000C022F01")).result(5).sw == 0x9000
    # 32 bytes asked of a 16-byte EF on T=0: the card says 6C10 and the pipeline asks again.
    reply = conn.send(bytes.fromhex("00B0000020")).result(5)
    assert reply.sw == 0x9000 and reply.data == bytes.fromhex("4301C04703F601004506434544656D6F")
    assert [e.response[-2:] for e in reply.exchanges] == [b"\x6c\x10", b"\x90\x00"]
    # SELECT with an FCI on T=0: 61xx, then GET RESPONSE.
    reply = conn.send(bytes.fromhex("00A4000400")).result(5)
    assert reply.sw == 0x9000 and reply.data[0] == 0x62
    assert reply.exchanges[0].response[0] == 0x61 and reply.exchanges[1].origin is Origin.GET_RESPONSE


def test_sharing_exclusive_and_state_flags(hub: EmbeddedReaders, demo_reader: str,
                                           connections: list[CardConnection],
                                           events: queue.SimpleQueue[MonitorEvent]) -> None:
    first, second = connect(hub, demo_reader, connections), connect(hub, demo_reader, connections)
    drain(events)
    first.connect(share=ShareMode.EXCLUSIVE).result(5)
    with pytest.raises(ce.SharingViolation):
        second.connect().result(5)
    (exclusive,) = drain(events)
    assert isinstance(exclusive, ReaderStateChanged) and exclusive.flags & ReaderFlag.EXCLUSIVE
    first.disconnect().result(5)
    second.connect().result(5)
    with pytest.raises(ce.SharingViolation):
        first.connect(share=ShareMode.EXCLUSIVE).result(5)


def test_protocol_comes_from_the_atr(hub: EmbeddedReaders, connections: list[CardConnection]) -> None:
    reader = hub.add_reader()
    hub.insert(reader, VirtualCard(bytes.fromhex("3B021450")))  # T=0 only
    conn = connect(hub, reader, connections)
    with pytest.raises(ce.ProtocolMismatch):
        conn.connect(Protocol.T1).result(5)
    assert conn.connect(Protocol.ANY).result(5).protocol is Protocol.T0


def test_card_pulled_out_and_reset_by_another_handle(hub: EmbeddedReaders, demo_reader: str,
                                                     connections: list[CardConnection]) -> None:
    records: list[Exchange | LinkEvent] = []
    conn, other = connect(hub, demo_reader, connections, records), connect(hub, demo_reader, connections)
    conn.connect().result(5)
    other.connect().result(5)
    other.reconnect(cold=False).result(5)
    with pytest.raises(ce.CardReset):
        conn.send(SELECT_MF).result(5)
    assert conn.send(SELECT_MF).result(5).sw == 0x9000  # told once, as PC/SC does
    assert hub.eject(demo_reader)
    with pytest.raises(ce.CardRemoved):
        conn.send(SELECT_MF).result(5)
    assert not conn.state.connected
    assert [r.kind for r in records if isinstance(r, LinkEvent)][-1] is LinkEventKind.LOST
    with pytest.raises(ce.NoCard):
        conn.connect().result(5)
    hub.remove_reader(demo_reader)
    with pytest.raises(ce.UnknownReader, match="removed"):
        conn.connect().result(5)


def test_transaction_waits_for_the_other_handle(hub: EmbeddedReaders, demo_reader: str,
                                                connections: list[CardConnection]) -> None:
    first, second = connect(hub, demo_reader, connections), connect(hub, demo_reader, connections)
    first.connect().result(5)
    second.connect().result(5)
    first.begin_transaction().result(5)
    waiting = second.begin_transaction()
    # One more round trip on the first handle: the second is still held back after it.
    assert first.send(SELECT_MF).result(5).sw == 0x9000
    assert not waiting.done()
    first.end_transaction().result(5)
    waiting.result(5)
    second.end_transaction().result(5)


def test_direct_without_a_card_and_eject_disposition(hub: EmbeddedReaders, connections: list[CardConnection],
                                                     events: queue.SimpleQueue[MonitorEvent]) -> None:
    reader = hub.add_reader()
    conn = connect(hub, reader, connections)
    state = conn.connect(share=ShareMode.DIRECT).result(5)
    assert state.connected and state.protocol is Protocol.UNDEFINED and state.atr == b""
    with pytest.raises(ce.NoCard):
        conn.transmit(SELECT_MF).result(5)
    conn.disconnect().result(5)
    hub.insert(reader, VirtualCard(DEMO_ATR))
    conn.connect().result(5)
    drain(events)
    conn.disconnect(Disposition.EJECT).result(5)
    assert hub.card_label(reader) is None
    assert any(isinstance(e, CardRemoved) for e in drain(events))


def test_manager_routes_embedded_readers(hub: EmbeddedReaders, demo_reader: str) -> None:
    def link_for(reader: str) -> object:
        assert hub.owns(reader), "only embedded readers in this test"
        return hub.link(reader)

    manager = ConnectionManager(link_for)  # type: ignore[arg-type]
    conn = manager.open(demo_reader)
    assert manager.open(demo_reader) is conn
    conn.connect().result(5)
    assert conn.send(SELECT_MF).result(5).sw == 0x9000
    assert manager.close_all()


def test_a_session_trace_replays_in_the_embedded_reader(connections: list[CardConnection],
                                                        tmp_path: Path) -> None:
    # Wired as the window wires them: reader events and exchanges both go to the trace.
    store = TraceStore()
    hub = EmbeddedReaders(store.add_monitor_event)
    demo_reader = hub.add_reader()
    hub.insert(demo_reader, load_card(CardSource(SourceKind.DEMO)).card)
    conn = CardConnection(demo_reader, hub.link(demo_reader), store, lambda: hub.refresh(demo_reader))
    connections.append(conn)
    conn.connect().result(5)
    # As with PC/SC: the connection's record first, then the reader's new state.
    assert [r.origin for r in store.records()][-2:] == ["connected", "reader state"]
    assert store.records()[-1].detail == "in use"
    commands = [SELECT_MF, bytes.fromhex("00A4000C022F00"), bytes.fromhex("00B0000010"),
                bytes.fromhex("0084000008")]
    answers = [conn.send(c).result(5) for c in commands]
    conn.disconnect().result(5)
    path = tmp_path / "session.jsonl"
    write_export(path, store.records(), ExportFormat.JSONL)

    for mode in ReplayMode:
        loaded = load_card(CardSource(SourceKind.TRACE, str(path), mode))
        assert loaded.card.atr == DEMO_ATR and "4 exchanges" in loaded.label
        reader = hub.add_reader()
        hub.insert(reader, loaded.card, loaded.label)
        replay = connect(hub, reader, connections)
        replay.connect().result(5)
        again = [replay.send(c).result(5) for c in commands]
        assert [(a.data, a.sw) for a in again] == [(a.data, a.sw) for a in answers]
        assert replay.send(bytes.fromhex("00CA010100")).result(5).sw == int.from_bytes(NOT_IN_TRACE, "big")


@pytest.mark.parametrize(("content", "message"), [
    ('{"format": "card-explorer-profile", "version": 1, "name": "x", "atr": "3B 00 ZZ",'
     ' "files": {"fid": "3F00", "type": "MF"}}',
     "atr.*'Z'"),
    ("{ not json", "line 1, column 3"),
])
def test_a_bad_profile_says_what_and_where(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CardSourceError, match=message) as info:
        load_card(CardSource(SourceKind.PROFILE, str(path)))
    assert "bad.json" in str(info.value)


def test_a_trace_with_nothing_to_replay_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    write_export(path, [], ExportFormat.JSONL)
    with pytest.raises(CardSourceError, match="no answered command"):
        load_card(CardSource(SourceKind.TRACE, str(path)))
    with pytest.raises(CardSourceError, match=r"missing\.jsonl"):
        load_card(CardSource(SourceKind.TRACE, str(tmp_path / "missing.jsonl")))
