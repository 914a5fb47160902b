"""Readers and cards that go away while sessions are open (issue 13, points 7 to 9).

Two embedded virtual readers in the window (no pcscd): removing one reader or
one card ends that reader's session, and only that one, in the trace's order,
and the tree and the console stay true.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import QModelIndex, QSettings
from pytestqt.qtbot import QtBot

from explorer.core import card_errors as ce
from explorer.core.exchange import Exchange, LinkEvent, LinkEventKind
from explorer.core.hexfmt import to_hex
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.core.reader_events import MonitorEvent, ServiceLost
from explorer.link.bridge import EventBridge
from explorer.link.connection import CardConnection, Link
from explorer.link.manager import ConnectionManager
from explorer.trace.records import CARD_INSERTED, CARD_REMOVED, READER_REMOVED, SERVICE_LOST, Kind
from explorer.trace.store import TraceStore
from explorer.ui.main_window import MainWindow
from explorer.ui.reader_model import READER_ROLE
from explorer.virtual.card_sources import CardSource, SourceKind, load_card
from explorer.virtual.embedded import EmbeddedReaders
from tests.conftest import until

SELECT_MF = bytes.fromhex("00A4000C023F00")
DEMO_ATR = bytes.fromhex("3B8E80018031C073F6010056434544656D6F89")
# The model tester reports through Qt warnings: they fail the test (offscreen's own note aside).
pytestmark = [pytest.mark.qt_log_level_fail("WARNING"), pytest.mark.qt_log_ignore("propagateSizeHints")]
LOST = LinkEventKind.LOST.value
DISCONNECTED = LinkEventKind.DISCONNECTED.value


def _demo(hub: EmbeddedReaders, reader: str) -> None:
    loaded = load_card(CardSource(SourceKind.DEMO))
    hub.insert(reader, loaded.card, loaded.label)


def _worker(conn: CardConnection) -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == f"card-{conn.reader}"), None)


def _rows(window: MainWindow) -> list[str]:
    """What the tree view shows, top to bottom (expanded rows included), as 'name: state'."""
    view = window.readers.view
    index, rows = view.model().index(0, 0), []
    while index.isValid():
        rows.append(f"{index.data()}: {index.siblingAtColumn(1).data()}")
        index = view.indexBelow(index)
    return rows


def _events(window: MainWindow, reader: str) -> list[tuple[str, str]]:
    window.trace.poll()
    return [(r.origin, r.detail) for r in window.store.records()
            if r.kind is Kind.EVENT and r.reader == reader]


class TwoReaders:
    """The window on two embedded readers, each with the demo card, each connected by the console."""

    def __init__(self, qtbot: QtBot, window: MainWindow, aloop: qasync.QEventLoop) -> None:
        self.qtbot, self.window, self.aloop = qtbot, window, aloop
        hub = window.embedded
        self.a, self.b = hub.add_reader(), hub.add_reader()
        for reader in (self.a, self.b):
            with qtbot.waitSignal(window._monitor.card_inserted, timeout=5000):
                _demo(hub, reader)
        for reader in (self.a, self.b):
            self.connect(reader)

    def connect(self, reader: str) -> CardConnection:
        console = self.window.console

        async def go() -> None:
            self.window.readers.select_card(reader)
            assert console.reader_label.text() == f"<b>{reader}</b>"
            console.connect_button.click()
            await until(console.idle, what=f"connect to {reader}")

        self.aloop.run_until_complete(go())
        conn = self.window.manager.get(reader)
        assert conn is not None and conn.state.connected
        return conn

    def run(self, coro: object) -> None:
        self.aloop.run_until_complete(coro)  # type: ignore[arg-type]


@pytest.fixture
def two(qtbot: QtBot, settings: QSettings, aloop: qasync.QEventLoop,
        qtmodeltester: object) -> Iterator[TwoReaders]:
    window = MainWindow(EventBridge(), settings)
    qtbot.addWidget(window)
    window.show()
    qtmodeltester.check(window.readers.model)  # type: ignore[attr-defined]
    try:
        yield TwoReaders(qtbot, window, aloop)
    finally:
        window.close()


# -- point 7: removing a reader ends its own session, and only that one ------------------------


def test_removing_a_reader_closes_its_connection_and_no_other(two: TwoReaders) -> None:
    window, a, b = two.window, two.a, two.b
    conn_a, conn_b = window.manager.get(a), window.manager.get(b)
    assert conn_a is not None and conn_b is not None
    worker_b = _worker(conn_b)
    assert worker_b is not None and worker_b.is_alive()
    window.readers.select_card(b)

    async def scenario() -> None:
        window.virtual.action("remove_reader").trigger()
        await until(window._monitor.reader_removed, what="the reader removed")
        # A round trip on the other reader's worker: anything queued on it before has run.
        assert (await conn_a.send(SELECT_MF)).sw == 0x9000

    two.run(scenario())
    assert conn_a.state.connected and window.manager.get(a) is conn_a
    # The removed reader's connection is closed now, not at exit: no worker, nothing kept.
    assert window.manager.get(b) is None and window.manager.readers() == [a]
    worker_b.join(5)
    assert not worker_b.is_alive()
    assert not conn_b.state.connected
    assert DISCONNECTED not in [origin for origin, _ in _events(window, a)]
    assert (LOST, "card removed") in _events(window, b)


def test_a_removed_readers_direct_session_is_lost_with_the_reader() -> None:
    """No card, so no card event: the reader's own removal ends a direct session."""
    got: queue.SimpleQueue[MonitorEvent] = queue.SimpleQueue()
    hub = EmbeddedReaders(got.put)
    store = TraceStore()
    manager = ConnectionManager(hub.link, sink=store)  # type: ignore[arg-type]
    reader = hub.add_reader()
    conn = manager.open(reader)
    conn.connect(share=ShareMode.DIRECT).result(5)
    worker = _worker(conn)
    hub.remove_reader(reader)
    while not got.empty():
        event = got.get_nowait()
        store.add_monitor_event(event)
        manager.observe(event)
    assert [(r.origin, r.detail) for r in store.records()][-2:] == [
        (READER_REMOVED, ""), (LOST, "reader removed")]
    assert manager.readers() == [] and worker is not None
    worker.join(5)
    assert not worker.is_alive()
    with pytest.raises(ce.NotConnected, match="closed"):
        conn.send(SELECT_MF).result(5)


# -- point 8: the tree stays true: rows, and each reader's own flags ------------------------------


def test_the_tree_keeps_one_row_per_reader_and_card_and_each_readers_own_flags(two: TwoReaders) -> None:
    window, a, b, hub = two.window, two.a, two.b, two.window.embedded
    card = f"Card: {to_hex(DEMO_ATR)}"
    both = [f"{a}: card present, in use, virtual, in this app", card,
            f"{b}: card present, in use, virtual, in this app", card]
    assert _rows(window) == both

    # Remove card (Virtual menu) on the second reader: its card row goes, nothing else changes.
    window.readers.select_card(b)

    async def remove_card() -> None:
        window.virtual.action("eject").trigger()
        await until(window.console.idle, what="the console to notice the removal")

    two.run(remove_card())
    assert _rows(window) == [*both[:2], f"{b}: empty, virtual, in this app"]

    # A card back in, connected: the first reader keeps its own flag.
    with two.qtbot.waitSignal(window._monitor.card_inserted, timeout=5000):
        _demo(hub, b)
    two.connect(b)
    assert _rows(window) == both

    # The second reader removed: the first stays connected and in use, and nothing else is shown.
    window.readers.select_card(b)

    async def remove_reader() -> None:
        window.virtual.action("remove_reader").trigger()
        await until(window._monitor.reader_removed, what="the reader removed")
        conn_a = window.manager.get(a)
        assert conn_a is not None and (await conn_a.send(SELECT_MF)).sw == 0x9000

    two.run(remove_reader())
    assert _rows(window) == both[:2]
    assert window.readers.model.reader_names() == hub.readers() == [a]
    assert window.count_label.text() == "1 reader, 1 card"


# -- point 9: a card pulled out mid-session is lost, in order; the console drops a removed reader -----


def test_a_card_pulled_out_is_lost_before_the_next_card_comes_in(two: TwoReaders) -> None:
    window, a, hub = two.window, two.a, two.window.embedded
    window.readers.select_card(a)
    console = window.console
    before = len(_events(window, a))

    async def pull_and_insert() -> None:
        hub.eject(a)  # from the test's thread, both before the window sees either
        _demo(hub, a)
        await until(window._monitor.card_inserted, what="the new card")
        await until(console.idle, what="the console to notice the removal")

    two.run(pull_and_insert())
    after = _events(window, a)[before:]
    kinds = [origin for origin, _ in after]
    assert DISCONNECTED not in kinds, after
    removed, lost, inserted = kinds.index(CARD_REMOVED), kinds.index(LOST), kinds.index(CARD_INSERTED)
    assert removed < lost < inserted, after
    assert after[lost] == (LOST, "card removed")
    assert console.state_label.text() == "Not connected"
    assert any("card was removed" in line for line in console.transcript.plain_lines)
    # The new card is a new session's: connecting to it works.
    two.connect(a)


def test_the_console_drops_a_removed_reader_as_its_target(two: TwoReaders) -> None:
    window, a, b = two.window, two.a, two.b
    console = window.console
    window.readers.select_card(b)
    assert console.reader_label.text() == f"<b>{b}</b>"

    async def remove_reader() -> None:
        window.virtual.action("remove_reader").trigger()
        await until(window._monitor.reader_removed, what="the reader removed")

    two.run(remove_reader())
    # Not silently turned to the other reader: a command typed for the removed one must not go there.
    assert console.connection is None
    assert b in console.reader_label.text() and "removed" in console.reader_label.text()
    assert not console.connect_button.isEnabled() and not console.send_button.isEnabled()
    assert window.readers.view.currentIndex() == QModelIndex()
    assert window.manager.get(b) is None  # the console did not open it again
    # Choosing the other reader targets it, still connected.
    window.readers.select_card(a)
    assert console.reader_label.text() == f"<b>{a}</b>"
    assert console.state_label.text() == "Connected · T=0 · shared"
    assert window.readers.view.currentIndex().data(READER_ROLE) == a


# -- the mechanism, without a window ------------------------------------------------------------------


def _records(sink: list[Exchange | LinkEvent]) -> list[tuple[str, str]]:
    return [(r.kind.value, r.detail) for r in sink if isinstance(r, LinkEvent)]


def test_lose_ends_the_session_at_once_and_once(demo_hub: tuple[EmbeddedReaders, str]) -> None:
    hub, reader = demo_hub
    sink: list[Exchange | LinkEvent] = []
    conn = CardConnection(reader, hub.link(reader), sink.append, lambda: hub.refresh(reader))
    other = CardConnection(reader, hub.link(reader))
    try:
        conn.connect().result(5)
        assert conn.lose("card removed")  # as the monitor says it, the card still in the hub
        assert not conn.state.connected  # when lose returns, not when the worker gets to it
        assert not conn.lose("card removed")
        with pytest.raises(ce.NotConnected):
            conn.send(SELECT_MF).result(5)
        assert _records(sink) == [("connected", ""), ("connection lost", "card removed")]
        # The worker let go of the dead handle: nothing holds the reader, exclusive is granted.
        other.connect(share=ShareMode.EXCLUSIVE).result(5)
        other.disconnect().result(5)
        # A removal seen before a session began is not that session's.
        conn.connect().result(5)
        assert not conn.lose("card removed", at=0.0)
        assert conn.send(SELECT_MF).result(5).sw == 0x9000
    finally:
        assert conn.close(timeout=5) and other.close(timeout=5)


def test_a_transmit_that_fails_after_the_loss_is_not_lost_twice(
        demo_hub: tuple[EmbeddedReaders, str]) -> None:
    hub, reader = demo_hub
    sink: list[Exchange | LinkEvent] = []
    conn = CardConnection(reader, hub.link(reader), sink.append)
    try:
        conn.connect().result(5)
        pending = conn.transmit(SELECT_MF)  # before or after the removal, as the worker goes
        hub.eject(reader)
        conn.lose("card removed")
        with pytest.raises(ce.CardError):
            pending.result(5)
            conn.transmit(SELECT_MF).result(5)
        assert [kind for kind, _ in _records(sink)].count("connection lost") == 1
    finally:
        assert conn.close(timeout=5)


class _ServiceLink:
    """Stands in for a PC/SC link (not embedded): records what the worker asks of it."""

    embedded = False

    def __init__(self) -> None:
        self.calls: list[str] = []

    def connect(self, protocol: Protocol, share: ShareMode) -> tuple[Protocol, bytes]:
        self.calls.append("connect")
        return Protocol.T1, DEMO_ATR

    def disconnect(self, disposition: Disposition) -> None:
        self.calls.append(f"disconnect {disposition.value}")

    def release(self) -> None:
        self.calls.append("release")


def test_the_service_lost_ends_the_sessions_over_it_only(demo_hub: tuple[EmbeddedReaders, str]) -> None:
    hub, embedded = demo_hub
    service = _ServiceLink()
    store = TraceStore()

    def link_for(reader: str) -> Link:
        return hub.link(reader) if hub.owns(reader) else service  # type: ignore[return-value]

    manager = ConnectionManager(link_for, sink=store)
    try:
        pcsc, virtual = manager.open("Some PC/SC Reader 00 00"), manager.open(embedded)
        pcsc.connect().result(5)
        virtual.connect().result(5)
        event = ServiceLost("pcscd gone", time.time())
        store.add_monitor_event(event)
        manager.observe(event)
        assert not pcsc.state.connected and virtual.state.connected
        pcsc.disconnect().result(5)  # a round trip: the worker has let go meanwhile
        # The context goes with the service (only a new one works after a restart); no "disconnected".
        assert service.calls == ["connect", "release"]
        assert [(r.origin, r.detail) for r in store.records()][-2:] == [
            (SERVICE_LOST, "pcscd gone"), (LOST, "PC/SC service lost (pcscd gone)")]
    finally:
        assert manager.close_all()


@pytest.fixture
def demo_hub() -> tuple[EmbeddedReaders, str]:
    hub = EmbeddedReaders(lambda event: None)
    reader = hub.add_reader()
    _demo(hub, reader)
    return hub, reader
