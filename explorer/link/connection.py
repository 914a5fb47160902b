"""One open reader: a worker thread, the reader's backend `Link`, and the transmit pipeline.

Every public method may be called from any thread and returns a CardFuture at
once; the backend call runs on the worker, in submission order. A card that
never answers blocks only this worker: the GUI awaits the future and stays
live. Records of what happened (Exchange, LinkEvent) go to `sink`, called on
the worker thread.

The backend is a `Link`: PC/SC (explorer.pcsc) or the in-process virtual
reader (explorer.virtual). Everything above it — futures, the command check,
61xx/6Cxx steps, records, what a lost card means — is written once, here, so
that every panel behaves the same with either.

An `inline` connection has no worker: calls run on the calling thread, which
must always be the same one (it owns the backend's context), and return
completed futures. That saves the two thread hand-offs per call (~25 µs here,
a quarter of a vpcd round trip) for blocking callers such as scripts; the
price is that a silent card blocks the caller, with no timeout.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from typing import Protocol as Interface

from explorer.core import card_errors as ce
from explorer.core.apdu import ApduError, parse_apdu, surely_valid
from explorer.core.exchange import (
    SENT_AS_IS,
    Exchange,
    LinkEvent,
    LinkEventKind,
    Origin,
    Reply,
    TransmitOptions,
)
from explorer.core.hexfmt import to_hex
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.core.log_levels import TRAFFIC
from explorer.core.processors import Channel, Processor, SecureMessagingProcessor, build_chain, send
from explorer.core.reader_attributes import attribute_id
from explorer.core.sensitive import AUTHENTICATION, MARKED, is_authentication
from explorer.link.futures import CardFuture

log = logging.getLogger(__name__)
T = TypeVar("T")

#: pcsc-lite's extended buffer: 4 header + 3 Lc + 65535 data + 3 Le, with room to spare.
MAX_COMMAND = 65548
_STOP = object()


class Link(Interface):
    """What a reader backend does. Called only on the connection's worker thread
    (or the owning thread of an inline connection), one call at a time.

    Failures are raised as ce.CardError. ServiceGone, CardRemoved and NoCard
    mean the card handle is gone; the connection then forgets it.
    """

    #: True for a reader that lives in this process (no PC/SC service behind it).
    embedded: bool

    def connect(self, protocol: Protocol, share: ShareMode) -> tuple[Protocol, bytes]:
        """Open the card (or the reader, DIRECT); (active protocol, ATR)."""
        ...

    def disconnect(self, disposition: Disposition) -> str | None:
        """Close the handle. Raise only for what the user must hear of: the handle is gone anyway.

        Returns None (or "") when it did as asked, else a sentence saying what it did instead
        and why, for the trace (a reset after a raw-protocol session).
        """
        ...

    def reconnect(self, cold: bool, protocol: Protocol, share: ShareMode) -> tuple[Protocol, bytes]: ...

    def begin_transaction(self) -> None: ...

    def end_transaction(self, disposition: Disposition) -> None: ...

    def control(self, code: int, data: bytes) -> bytes: ...

    def get_attribute(self, attribute: int) -> bytes: ...

    def transmit(self, apdu: bytes, protocol: Protocol | None) -> bytes:
        """The response, status word included (at least two bytes)."""
        ...

    def release(self) -> None:
        """Free what the backend holds beyond the handle (a PC/SC context). Idempotent."""
        ...


def _execute(fn: Callable[..., T], args: tuple[Any, ...], future: CardFuture[T]) -> None:
    if not future.set_running_or_notify_cancel():
        return  # cancelled while queued: never sent
    try:
        result = fn(*args)
    except BaseException as exc:  # every failure belongs to the caller
        future.set_exception(exc)
    else:
        future.set_result(result)


@dataclass(frozen=True)
class LinkState:
    reader: str
    connected: bool = False
    protocol: Protocol | None = None
    share: ShareMode | None = None
    atr: bytes = b""


class CardConnection:
    """The connection to one reader. See the module docstring for thread rules."""

    def __init__(self, reader: str, link: Link, sink: Callable[[Exchange | LinkEvent], None] | None = None,
                 on_change: Callable[[], None] | None = None, *, inline: bool = False) -> None:
        self.reader = reader
        self.inline = inline
        self._link = link
        self._owner: int | None = None  # the thread of an inline connection
        self._sink = sink
        self._on_change = on_change
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        # A session's start and end change `_open`, `_state` and `_since` under `_lock`: the
        # worker opens and ends sessions, and `lose` may end one from any thread.
        self._open = False
        self._state = LinkState(reader)
        self._since = 0.0  # when the open session began (epoch seconds)
        # Worker-thread state: the backend may still hold a handle (also after a lost session).
        self._held = False
        # Where the commands of a running job come from (a script's file:line), for the trace.
        self._where = ""
        # Why the last session ended on its own (card removed...): a command sent after it says
        # so, rather than a bare "not connected" (a script racing the monitor's news). Under `_lock`.
        self._lost = ""
        # The processor chain of the options last sent with (worker thread): a script or a
        # console sends many commands with the same options, and building it costs ~1 µs.
        self._options: TransmitOptions | None = None
        self._chain: Processor = build_chain(self._transmit)

    @property
    def state(self) -> LinkState:
        """The last known state (any thread; a snapshot, updated by the worker and by `lose`)."""
        return self._state

    @property
    def embedded(self) -> bool:
        """True for an in-process virtual reader: the PC/SC service's state does not touch it."""
        return self._link.embedded

    # -- the public, any-thread API ---------------------------------------------

    def connect(self, protocol: Protocol = Protocol.ANY, share: ShareMode = ShareMode.SHARED
                ) -> CardFuture[LinkState]:
        return self._submit(self._connect, protocol, share)

    def disconnect(self, disposition: Disposition = Disposition.LEAVE) -> CardFuture[LinkState]:
        return self._submit(self._disconnect, disposition)

    def reconnect(self, cold: bool = False, protocol: Protocol | None = None,
                  share: ShareMode | None = None) -> CardFuture[LinkState]:
        """Warm reset (cold=False) or power cycle, keeping the protocol and share mode unless given."""
        return self._submit(self._reconnect, cold, protocol, share)

    def begin_transaction(self) -> CardFuture[None]:
        return self._submit(self._begin_transaction)

    def end_transaction(self, disposition: Disposition = Disposition.LEAVE) -> CardFuture[None]:
        return self._submit(self._end_transaction, disposition)

    def control(self, code: int, data: bytes = b"") -> CardFuture[bytes]:
        return self._submit(self._control, code, bytes(data))

    def get_attribute(self, attribute: str | int) -> CardFuture[bytes]:
        """A reader attribute by standard name ("ATR_STRING", "vendor name") or id."""
        try:
            attr = attribute_id(attribute)
        except ValueError as exc:
            return CardFuture.failed(exc)
        return self._submit(self._get_attribute, attr)

    def transmit(self, apdu: bytes, origin: Origin = Origin.API) -> CardFuture[Exchange]:
        """One exchange, sent as given (no check, no automatic steps)."""
        if (too_long := self._too_long(apdu)) is not None:
            return CardFuture.failed(too_long)
        return self._submit(self._transmit, bytes(apdu), origin)

    def send(self, apdu: bytes, origin: Origin = Origin.API, options: TransmitOptions = TransmitOptions(),
             *, check: bool = True) -> CardFuture[Reply]:
        """The command checked (case, Lc/Le, lengths), sent, then 61xx/6Cxx followed.

        A command that fails the check is refused here: nothing reaches the worker or the card.
        """
        refused = self._refuse(apdu) if check else None
        if refused is not None:
            return CardFuture.failed(refused)
        return self._submit(self._pipeline, bytes(apdu), origin, options)

    def send_as_is(self, apdu: bytes, origin: Origin = Origin.API) -> CardFuture[Reply]:
        """A command for a negative test, malformed or not: sent exactly as given, with no APDU
        check and no automatic step, and its exchange noted as such in the trace."""
        if (too_long := self._too_long(apdu)) is not None:
            return CardFuture.failed(too_long)
        return self._submit(self._send_as_is, bytes(apdu), origin)

    def _too_long(self, apdu: bytes) -> ce.InvalidCommand | None:
        if len(apdu) <= MAX_COMMAND:
            return None
        return ce.InvalidCommand(self.reader, sentence=(
            f"the command has {len(apdu)} bytes; PC/SC carries at most {MAX_COMMAND}"))

    def send_now(self, apdu: bytes, origin: Origin = Origin.API, options: TransmitOptions = TransmitOptions(),
                 *, check: bool = True) -> Reply:
        """send() on an inline connection, without a future (a few µs a call, for scripts)."""
        if not self.inline or self._closed or self._owner != threading.get_ident():
            return self.send(apdu, origin, options, check=check).result()
        refused = self._refuse(apdu) if check else None
        if refused is not None:
            raise refused
        return self._pipeline(bytes(apdu), origin, options)

    def _pipeline(self, apdu: bytes, origin: Origin, options: TransmitOptions,
                  channel: Channel | None = None) -> Reply:
        if options is not self._options:
            self._chain = build_chain(self._transmit, options)
            self._options = options
        chain = (self._chain if channel is None
                 else SecureMessagingProcessor(channel, self._chain, self._unwrapped))
        where = self._where
        if is_authentication(apdu):  # its GET RESPONSE carries the cryptogram: hidden as the command's
            self._where = f"{where}; {AUTHENTICATION}" if where else AUTHENTICATION
        try:
            return send(chain, apdu, origin)
        except ce.StepLimit as stop:
            # Every step is in the trace already; that they are not the whole answer must be too.
            self._event(LinkEventKind.STEPS_STOPPED, stop.sentence)
            raise
        finally:
            self._where = where

    def run_job(self, job: Callable[[WorkerSession], T], origin: Origin = Origin.SCRIPT) -> CardFuture[T]:
        """`job(session)` as one job on this connection's worker: a whole script's (or an
        analysis's) commands go out one after another with no thread hand-off between them,
        traced with `origin`. The session is only for use inside the job, on the worker."""
        return self._submit(lambda: job(WorkerSession(self, origin)))

    def _refuse(self, apdu: bytes) -> ce.InvalidCommand | None:
        if surely_valid(apdu):
            return None
        try:
            parse_apdu(apdu)
        except ApduError as exc:
            return ce.InvalidCommand(self.reader, sentence=str(exc))
        return None

    def lose(self, reason: str, at: float | None = None, *, release: bool = False) -> bool:
        """Any thread: the card (or reader, or service) the session was on is gone, as the
        reader's monitor saw it at `at`. Returns whether a session ended.

        The session ends here and now, recorded once as lost with `reason`: whoever feeds
        monitor events to the trace and then to this (the connection manager) gets the loss
        right after its cause and before anything the monitor reports later, even while the
        worker is stuck in a card call. The worker drops the dead handle (and, with `release`,
        the backend's context) at its next turn. A session opened after `at` is a newer one
        (a card inserted since) and is kept.
        """
        with self._lock:
            if not self._open or (at is not None and at < self._since):
                return False
            self._open = False
            self._lost = reason
            state, self._state = self._state, LinkState(self.reader)
        self._record(LinkEventKind.LOST, state, reason)
        self._submit(self._drop_stale, release)
        return True

    def close(self, disposition: Disposition = Disposition.LEAVE, timeout: float = 5.0) -> bool:
        """Disconnect, release the backend and stop the worker. Any thread but the worker.

        Returns False when the worker is still stuck in a call after `timeout`
        (a card that never answers); it then ends as soon as that call returns.
        """
        with self._lock:
            if self._closed:
                return True
            self._closed = True
            thread = self._thread
        if thread is None:
            self._shutdown(disposition)
            return True
        self._jobs.put((_STOP, (disposition,), None))
        thread.join(timeout)
        return not thread.is_alive()

    # -- worker ---------------------------------------------------------------

    def _submit(self, fn: Callable[..., T], *args: Any) -> CardFuture[T]:
        future: CardFuture[T] = CardFuture()
        with self._lock:
            if self._closed:
                future.set_exception(ce.NotConnected(self.reader, sentence="this connection is closed"))
                return future
            if self.inline:
                me = threading.get_ident()
                if self._owner not in (None, me):
                    future.set_exception(RuntimeError(
                        f"{self.reader}: an inline connection is used only by the thread that opened it"))
                    return future
                self._owner = me
            elif self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"card-{self.reader}", daemon=True)
                self._thread.start()
            if not self.inline:
                self._jobs.put((fn, args, future))
                return future
        _execute(fn, args, future)
        return future

    def _run(self) -> None:
        while True:
            fn, args, future = self._jobs.get()
            if fn is _STOP:
                self._shutdown(*args)
                return
            _execute(fn, args, future)

    def _shutdown(self, disposition: Disposition) -> None:
        if self._open:
            with contextlib.suppress(ce.CardError):
                self._disconnect(disposition)
        self._held = False
        self._link.release()

    def _emit(self, record: Exchange | LinkEvent) -> None:
        if self._sink is not None:
            try:
                self._sink(record)
            except Exception:  # a broken listener must not break the connection
                log.exception("exchange sink failed")

    def _event(self, kind: LinkEventKind, detail: str = "") -> None:
        self._record(kind, self._state, detail)

    def _record(self, kind: LinkEventKind, state: LinkState, detail: str = "") -> None:
        self._emit(LinkEvent(self.reader, kind, time.time(), state.protocol, state.share, detail))

    def _changed(self) -> None:
        # pcscd does not wake status watchers on sharing changes: tell the monitor.
        if self._on_change is not None:
            self._on_change()

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """A backend call; a failure that means the handle is gone makes us forget it."""
        try:
            return fn(*args)
        except ce.CardError as error:
            raise self._fail(error) from None

    def _fail(self, error: ce.CardError) -> ce.CardError:
        if isinstance(error, ce.ServiceGone | ce.CardRemoved | ce.NoCard):
            self._lose(error)
        return error

    def _lose(self, error: ce.CardError) -> None:
        """Forget the handle (and the backend's context if the service went).

        The session may already have been ended by `lose` (the monitor saw the card go
        first): it is recorded as lost once, by whichever saw it first.
        """
        with self._lock:
            was_connected, self._open = self._open, False
            state = self._state
            if was_connected:
                self._state = LinkState(self.reader)
                self._lost = error.sentence
        if isinstance(error, ce.ServiceGone):
            self._held = False
            self._link.release()
        if was_connected:
            self._record(LinkEventKind.LOST, state, str(error))
            self._changed()

    def _drop_stale(self, release: bool = False) -> None:
        """Let go of the handle of a session that `lose` ended (a no-op once a new one is open)."""
        if not self._held or self._open:
            return
        self._held = False
        if release:
            self._link.release()
        else:
            with contextlib.suppress(ce.CardError):  # the card is gone: nothing to tell anyone
                self._link.disconnect(Disposition.LEAVE)
        self._changed()

    def _need_card(self) -> None:
        if not self._open:
            with self._lock:
                lost = self._lost
            raise ce.NotConnected(self.reader, sentence=f"not connected: {lost}" if lost else None)

    def _connect(self, protocol: Protocol, share: ShareMode) -> LinkState:
        if self._open:
            self._disconnect(Disposition.LEAVE)
        self._drop_stale()
        since = time.time()
        active, atr = self._call(self._link.connect, protocol, share)
        self._held = True
        with self._lock:
            self._open, self._since, self._lost = True, since, ""
            self._state = state = LinkState(self.reader, True, active, share, atr)
        self._record(LinkEventKind.CONNECTED, state)
        self._changed()
        return state

    def _disconnect(self, disposition: Disposition) -> LinkState:
        with self._lock:
            was_open, self._open = self._open, False
            state = self._state
            if was_open:
                self._state, self._lost = LinkState(self.reader), ""
        if not was_open:
            self._drop_stale()
            return self._state
        self._held = False
        instead: str | None = None
        try:
            instead = self._link.disconnect(disposition)
        finally:
            detail = f"{disposition.value}; {instead}" if instead else disposition.value
            self._record(LinkEventKind.DISCONNECTED, state, detail)
            self._changed()
        return self._state

    def _reconnect(self, cold: bool, protocol: Protocol | None, share: ShareMode | None) -> LinkState:
        self._need_card()
        share = share or self._state.share or ShareMode.SHARED
        protocol = protocol or self._state.protocol or Protocol.ANY
        active, atr = self._call(self._link.reconnect, cold, protocol, share)
        with self._lock:
            lost = not self._open  # the monitor saw the card go while it was being reset
            if not lost:
                self._state = state = LinkState(self.reader, True, active, share, atr)
        if lost:
            raise ce.CardRemoved(self.reader)
        self._record(LinkEventKind.RECONNECTED, state, "cold reset" if cold else "warm reset")
        self._changed()
        return state

    def _begin_transaction(self) -> None:
        self._need_card()
        self._call(self._link.begin_transaction)
        self._event(LinkEventKind.TRANSACTION_BEGUN)

    def _end_transaction(self, disposition: Disposition) -> None:
        self._need_card()
        self._call(self._link.end_transaction, disposition)
        self._event(LinkEventKind.TRANSACTION_ENDED, disposition.value)

    def _control(self, code: int, data: bytes) -> bytes:
        self._need_card()
        started, t0 = time.time(), time.perf_counter()
        error: ce.CardError | None = None
        answer = b""
        try:
            answer = self._link.control(code, data)
        except ce.CardError as exc:
            error = exc
        self._emit(Exchange(self.reader, code.to_bytes(4, "big") + data, answer, started,
                            time.perf_counter() - t0, Origin.CONTROL, self._state.protocol,
                            self._state.share, None if error is None else str(error)))
        if error is not None:
            raise self._fail(error)
        return answer

    def _get_attribute(self, attribute: int) -> bytes:
        self._need_card()
        return self._call(self._link.get_attribute, attribute)

    def _unwrapped(self, command: bytes, answer: bytes, error: str | None, started: float,
                   duration: float) -> None:
        """The plain command and answer a protected exchange carried, into the trace under it."""
        state = self._state
        self._emit(Exchange(self.reader, command, answer, started, duration, Origin.UNWRAPPED, state.protocol,
                            state.share, error, self._where))

    def _send_as_is(self, apdu: bytes, origin: Origin) -> Reply:
        exchange = self._transmit(apdu, origin, SENT_AS_IS)
        return Reply((exchange,), exchange.data, exchange.sw or 0)

    def _transmit(self, apdu: bytes, origin: Origin, note: str = "") -> Exchange:
        self._need_card()
        if self._where:
            note = f"{self._where}; {note}" if note else self._where
        state = self._state
        started, t0 = time.time(), time.perf_counter()
        error: ce.CardError | None = None
        answer = b""
        try:
            answer = self._link.transmit(apdu, state.protocol)
        except ce.CardError as exc:
            error = exc
        duration = time.perf_counter() - t0
        exchange = Exchange(self.reader, apdu, answer, started, duration, origin, state.protocol,
                            state.share, None if error is None else str(error), note)
        if log.isEnabledFor(TRAFFIC):  # formatting hex costs ~7 µs an exchange: only when wanted
            log.log(TRAFFIC, "%s: %s -> %s", self.reader, to_hex(apdu),
                    to_hex(answer) if error is None else error)
        self._emit(exchange)
        if error is not None:
            error.exchanges = (exchange,)
            raise self._fail(error)
        return exchange


class WorkerSession:
    """A connection seen from inside a job on its worker (CardConnection.run_job): commands and
    resets run right here, in order, each exchange in the trace with the job's origin ("script",
    "analyzer") and the place it came from. Worker thread only."""

    def __init__(self, connection: CardConnection, origin: Origin = Origin.SCRIPT) -> None:
        self._connection = connection
        self._origin = origin

    def send(self, apdu: bytes, options: TransmitOptions, as_is: bool, place: object = "",
             secret: bool = False, channel: Channel | None = None) -> Reply:
        """One command through the automatic steps `options` allow (none `as_is`); with a
        secure `channel`, protected on the wire and unwrapped (SecureMessagingFailed when the
        answer does not check out)."""
        conn = self._connection
        if not as_is and (refused := conn._refuse(apdu)) is not None:
            raise refused  # a command its variables made malformed: nothing is sent
        conn._where = f"{place}; {MARKED}" if secret else str(place)
        try:
            if as_is:
                return conn._send_as_is(apdu, self._origin)
            return conn._pipeline(apdu, self._origin, options, channel)
        finally:
            conn._where = ""

    def reset(self, cold: bool) -> bytes:
        return self._connection._reconnect(cold, None, None).atr
