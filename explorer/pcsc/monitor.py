"""The reader monitor: one thread, its own PC/SC context, no polling.

It blocks in SCardGetStatusChange over every reader plus the PnP pseudo-reader
and reports what changed as plain events (`explorer.core.reader_events`).
When the service dies it reports ServiceLost, re-establishes a context with a
capped backoff, then reports ServiceRestored and the difference between what
it last saw and the true state: no duplicate, nothing missing.

pyscard's CardMonitor is not used: its thread dies for good with pcscd, and
its ReaderMonitor polls every second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from smartcard import scard

from explorer.core.reader_events import (
    MonitorEvent,
    ServiceLost,
    ServiceRestored,
    diff,
    forget_counters,
)
from explorer.core.reader_state import ReaderFlag, ReaderSnapshot
from explorer.pcsc import context

log = logging.getLogger(__name__)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
# Results that only mean "call again": a cancel (stop, or a lost wake-up) or a
# reader that left between SCardListReaders and SCardGetStatusChange.
_RETRY = frozenset(
    {
        scard.SCARD_E_CANCELLED,
        scard.SCARD_E_TIMEOUT,
        scard.SCARD_E_UNKNOWN_READER,
        scard.SCARD_E_READER_UNAVAILABLE,
    }
)


class _ContextLost(Exception):
    def __init__(self, known: dict[str, ReaderSnapshot], hresult: int) -> None:
        super().__init__(context.describe(hresult))
        self.known = known
        self.service_gone = hresult in context.SERVICE_GONE


class ReaderMonitor:
    """Watches every PC/SC reader from a thread of its own.

    Thread rules: `sink` is called on the monitor thread, one event at a time
    and in order; it must be thread-safe and quick (the Qt bridge only queues).
    `start` and `stop` are called from one controlling thread.
    """

    def __init__(
        self,
        sink: Callable[[MonitorEvent], None],
        *,
        backoff_start: float = 0.02,
        backoff_max: float = 0.5,
    ) -> None:
        self._sink = sink
        self._backoff_start = backoff_start
        self._backoff_max = backoff_max
        self._stopping = threading.Event()
        self._refresh = threading.Event()
        self._lock = threading.Lock()
        self._ctx: int | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="pcsc-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop and join; True when the thread has ended within `timeout`.

        A cancel that lands between two SCardGetStatusChange calls is lost,
        so cancel again until the thread has joined.
        """
        thread = self._thread
        if thread is None:
            return True
        self._stopping.set()
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            self._cancel()
            thread.join(0.005)
        if thread.is_alive():
            log.error("monitor thread did not stop within %.1f s", timeout)
            return False
        self._thread = None
        return True

    def refresh(self, timeout: float = 0.5) -> None:
        """Re-read every reader now and report what changed.

        pcsc-lite (1.9.9, measured) does not wake a waiting SCardGetStatusChange
        when a connection changes a reader's sharing state (exclusive, in use);
        the new flags show only at the next card event. Whoever connects or
        disconnects (the connection manager) calls this afterwards.
        Any thread but the GUI thread: it may block for a few milliseconds.
        """
        if not self.running:
            return
        self._refresh.set()
        deadline = time.monotonic() + timeout
        # Cancel until the thread has taken the request: a cancel that lands
        # between two calls is lost.
        while self._refresh.is_set() and self.running and time.monotonic() < deadline:
            self._cancel()
            self._stopping.wait(0.002)

    def _cancel(self) -> None:
        with self._lock:
            ctx = self._ctx
        if ctx is not None:
            scard.SCardCancel(ctx)

    # -- monitor thread ------------------------------------------------------

    def _emit(self, event: MonitorEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken consumer must not end the monitoring
            log.exception("monitor event sink failed on %r", event)

    def _run(self) -> None:
        known: dict[str, ReaderSnapshot] = {}
        service_up: bool | None = None  # None: not yet known
        delay = self._backoff_start
        while not self._stopping.is_set():
            try:
                ctx = context.establish()
            except context.ServiceUnavailable as exc:
                if service_up is not False:
                    self._emit(ServiceLost(str(exc), time.time()))
                    service_up = False
                self._stopping.wait(delay)
                delay = min(delay * 2, self._backoff_max)
                continue
            with self._lock:
                self._ctx = ctx
            try:
                if service_up is not True:
                    self._emit(ServiceRestored(initial=service_up is None, at=time.time()))
                    if service_up is False:
                        known = forget_counters(known)
                    service_up = True
                delay = self._backoff_start
                known = self._watch(ctx, known)
            except _ContextLost as lost:
                known = lost.known
                log.info("monitor context lost: %s", lost)
                if lost.service_gone:
                    self._emit(ServiceLost(str(lost), time.time()))
                    service_up = False
                else:
                    self._stopping.wait(delay)
                    delay = min(delay * 2, self._backoff_max)
            finally:
                with self._lock:
                    self._ctx = None
                context.release(ctx)

    def _watch(self, ctx: int, known: dict[str, ReaderSnapshot]) -> dict[str, ReaderSnapshot]:
        """Block on state changes until stopped; raise _ContextLost on a broken context."""
        # Last event state per reader, fed back as the current state so that
        # pcsc-lite's event counter catches a card removed and put back between calls.
        states: dict[str, int] = {}
        pnp_state = 0
        while not self._stopping.is_set():
            try:
                readers = context.list_readers(ctx)
            except context.ServiceUnavailable as exc:
                raise _ContextLost(known, exc.hresult) from exc
            if self._refresh.is_set():
                states.clear()  # UNAWARE: pcsc-lite answers at once with the full state
                self._refresh.clear()
            query = [(PNP_NOTIFICATION, pnp_state)]
            query += [(r, states.get(r, scard.SCARD_STATE_UNAWARE)) for r in readers]
            hresult, result = scard.SCardGetStatusChange(ctx, scard.INFINITE, query)
            if hresult in _RETRY:
                continue
            if hresult != scard.SCARD_S_SUCCESS:
                raise _ContextLost(known, hresult)
            seen: dict[str, ReaderSnapshot] = {}
            for name, event_state, atr in result:
                if name == PNP_NOTIFICATION:
                    pnp_state = event_state & ~ReaderFlag.CHANGED
                elif not event_state & ReaderFlag.UNKNOWN:
                    states[name] = event_state & ~ReaderFlag.CHANGED
                    seen[name] = ReaderSnapshot.from_event_state(name, event_state, bytes(atr))
            states = {name: states[name] for name in seen}
            for event in diff(known, seen, time.time()):
                self._emit(event)
            known = seen
        return known
