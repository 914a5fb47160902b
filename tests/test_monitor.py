"""The reader monitor against the real pcscd + vpcd test bed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from smartcard import scard

from explorer.core.reader_events import (
    CardInserted,
    CardRemoved,
    ReaderAdded,
    ReaderRemoved,
    ReaderStateChanged,
    ServiceLost,
    ServiceRestored,
)
from explorer.core.reader_state import ReaderFlag
from explorer.pcsc.monitor import ReaderMonitor
from tests.conftest import CardFactory, EventLog
from tests.testbed import PcscBed

pytestmark = pytest.mark.pcsc
ATR_A = bytes.fromhex("3B 02 14 50".replace(" ", ""))
ATR_B = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")


@pytest.fixture
def monitor(events: EventLog) -> Iterator[ReaderMonitor]:
    m = ReaderMonitor(events)
    yield m
    assert m.stop(), "monitor thread did not stop"


def started(monitor: ReaderMonitor, events: EventLog, readers: list[str]) -> None:
    """Start and consume the start-up report of the (empty) readers."""
    monitor.start()
    events.expect(lambda e: isinstance(e, ServiceRestored) and e.initial, what="service up")
    for r in readers:
        events.expect(lambda e, r=r: isinstance(e, ReaderAdded) and e.reader == r, what=f"{r} added")


def test_start_reports_readers_and_cards_already_there(
    monitor: ReaderMonitor, events: EventLog, readers: list[str], insert_card: CardFactory
) -> None:
    insert_card(readers[1], ATR_B)
    monitor.start()
    first = events.expect(lambda e: True, what="first event")
    assert first == ServiceRestored(initial=True, at=first.at)
    for r in readers:
        added = events.expect(lambda e, r=r: isinstance(e, ReaderAdded) and e.reader == r)
        assert isinstance(added, ReaderAdded)
        assert bool(added.flags & ReaderFlag.PRESENT) == (r == readers[1])
    card = events.expect(lambda e: isinstance(e, CardInserted), what="card at start")
    assert card == CardInserted(readers[1], ATR_B, card.at)
    assert events.drain() == []


def test_insert_and_remove_on_two_readers_at_once(
    monitor: ReaderMonitor, events: EventLog, readers: list[str], insert_card: CardFactory
) -> None:
    started(monitor, events, readers)
    a = insert_card(readers[0], ATR_A, wait=False)
    b = insert_card(readers[3], ATR_B, wait=False)
    got = {events.expect(lambda e: isinstance(e, CardInserted), what="insert").reader
           for _ in range(2)}
    assert got == {readers[0], readers[3]}
    a.remove()
    b.remove()
    gone = {events.expect(lambda e: isinstance(e, CardRemoved), what="removal").reader
            for _ in range(2)}
    assert gone == {readers[0], readers[3]}
    assert events.drain() == [], "no duplicate or stray event"


def _connect_exclusive(reader: str) -> tuple[int, int]:
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    hresult, card, _ = scard.SCardConnect(ctx, reader, scard.SCARD_SHARE_EXCLUSIVE,
                                          scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
    return ctx, card


def _disconnect(ctx: int, card: int) -> None:
    scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
    scard.SCardReleaseContext(ctx)


def test_state_flags_at_start_and_on_refresh(
    monitor: ReaderMonitor, events: EventLog, readers: list[str], insert_card: CardFactory
) -> None:
    insert_card(readers[2], ATR_B)
    ctx, card = _connect_exclusive(readers[2])
    try:
        monitor.start()
        added = events.expect(lambda e: isinstance(e, ReaderAdded) and e.reader == readers[2])
        assert added.flags & ReaderFlag.EXCLUSIVE  # type: ignore[union-attr]
    finally:
        _disconnect(ctx, card)
    # pcsc-lite does not wake waiters on a sharing change: the connection
    # owner asks for a refresh, and the change is reported once.
    monitor.refresh()
    back = events.expect(lambda e: isinstance(e, ReaderStateChanged), what="released")
    assert back == ReaderStateChanged(readers[2], ReaderFlag.PRESENT, back.at)
    ctx, card = _connect_exclusive(readers[2])
    try:
        monitor.refresh()
        excl = events.expect(lambda e: isinstance(e, ReaderStateChanged), what="exclusive")
        assert excl.flags & ReaderFlag.EXCLUSIVE  # type: ignore[union-attr]
    finally:
        _disconnect(ctx, card)
    monitor.refresh()
    events.expect(lambda e: isinstance(e, ReaderStateChanged), what="released again")
    monitor.refresh()  # nothing changed: nothing reported
    left = [e for e in events.drain() if not isinstance(e, ReaderAdded | ServiceRestored)]
    assert left == [CardInserted(readers[2], ATR_B, left[0].at)], "no duplicate, no card event"


def test_stop_while_blocked_takes_under_100_ms(
    events: EventLog, readers: list[str], bed: PcscBed
) -> None:
    times = []
    for _ in range(5):
        m = ReaderMonitor(events)
        started(m, events, readers)
        t0 = time.perf_counter()
        assert m.stop()
        times.append(time.perf_counter() - t0)
        events.drain()
    assert max(times) < 0.100, f"stop() took {[round(t * 1000, 1) for t in times]} ms"


def test_service_killed_and_restarted_reports_the_true_state(
    monitor: ReaderMonitor, events: EventLog, readers: list[str], insert_card: CardFactory,
    bed: PcscBed,
) -> None:
    insert_card(readers[0], ATR_A)  # will not come back: it does not reconnect
    started(monitor, events, readers)
    events.expect(lambda e: isinstance(e, CardInserted) and e.reader == readers[0])

    bed.kill()
    lost = events.expect(lambda e: isinstance(e, ServiceLost), what="service lost")
    assert "SCARD" in lost.reason  # type: ignore[union-attr]
    # While the service is down a card waits for reader 1 and joins when vpcd is back.
    insert_card(readers[1], ATR_B, reconnect=True, wait=False)
    bed.start()
    t_ready = time.monotonic()
    restored = events.expect(lambda e: isinstance(e, ServiceRestored), what="restored")
    assert restored.initial is False  # type: ignore[union-attr]
    assert time.monotonic() - t_ready < 1.0, "backoff is capped at 500 ms"
    events.expect(lambda e: e == CardRemoved(readers[0], e.at), what="old card removed")
    card = events.expect(lambda e: isinstance(e, CardInserted), what="new card", timeout=5)
    assert card == CardInserted(readers[1], ATR_B, card.at)
    stray = [e for e in events.drain() if not isinstance(e, ReaderStateChanged)]
    assert stray == [], "readers were not re-added, nothing repeated"
    assert not any(isinstance(e, ReaderAdded | ReaderRemoved | ServiceLost) for e in stray)


def test_no_service_at_start_then_service_arrives(
    monitor: ReaderMonitor, events: EventLog, readers: list[str], bed: PcscBed
) -> None:
    bed.kill()
    monitor.start()
    events.expect(lambda e: isinstance(e, ServiceLost), what="no service at start")
    bed.start()
    restored = events.expect(lambda e: isinstance(e, ServiceRestored), what="service came")
    assert restored.initial is False  # type: ignore[union-attr]
    added = {events.expect(lambda e: isinstance(e, ReaderAdded)).reader for _ in readers}
    assert added == set(readers)
