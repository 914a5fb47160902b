"""One open reader: a worker thread with its own PC/SC context and card handle.

Every public method may be called from any thread and returns a CardFuture at
once; the PC/SC call runs on the worker, in submission order. A card that
never answers blocks only this worker: the GUI awaits the future and stays
live. Records of what happened (Exchange, LinkEvent) go to `sink`, called on
the worker thread.

An `inline` connection has no worker: calls run on the calling thread, which
must always be the same one (it owns the context), and return completed
futures. That saves the two thread hand-offs per call (~25 µs here, a quarter
of a vpcd round trip) for blocking callers such as scripts; the price is that
a silent card blocks the caller, with no timeout.
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

from smartcard import scard

from explorer.core import card_errors as ce
from explorer.core.apdu import ApduError, parse_apdu
from explorer.core.exchange import (
    Exchange,
    LinkEvent,
    LinkEventKind,
    Origin,
    Reply,
    TransmitOptions,
    run_pipeline,
)
from explorer.core.hexfmt import to_hex
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.core.log_levels import TRAFFIC
from explorer.pcsc import context
from explorer.pcsc.errors import card_error
from explorer.pcsc.futures import CardFuture

log = logging.getLogger(__name__)
T = TypeVar("T")

_PROTOCOL = {
    Protocol.T0: scard.SCARD_PROTOCOL_T0,
    Protocol.T1: scard.SCARD_PROTOCOL_T1,
    Protocol.ANY: scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
    Protocol.RAW: scard.SCARD_PROTOCOL_RAW,
    Protocol.UNDEFINED: 0,
}
_ACTIVE = {scard.SCARD_PROTOCOL_T0: Protocol.T0, scard.SCARD_PROTOCOL_T1: Protocol.T1,
           scard.SCARD_PROTOCOL_RAW: Protocol.RAW}
_SHARE = {ShareMode.SHARED: scard.SCARD_SHARE_SHARED, ShareMode.EXCLUSIVE: scard.SCARD_SHARE_EXCLUSIVE,
          ShareMode.DIRECT: scard.SCARD_SHARE_DIRECT}
_DISPOSITION = {Disposition.LEAVE: scard.SCARD_LEAVE_CARD, Disposition.RESET: scard.SCARD_RESET_CARD,
                Disposition.UNPOWER: scard.SCARD_UNPOWER_CARD, Disposition.EJECT: scard.SCARD_EJECT_CARD}
#: pcsc-lite's extended buffer: 4 header + 3 Lc + 65535 data + 3 Le, with room to spare.
MAX_COMMAND = 65548
_RESPONSE_ROOM = 65536 + 2
_STOP = object()
#: How long to wait for pcscd to notice a removal after an empty answer (it polls vpcd every ~400 ms).
_REMOVAL_GRACE_MS = 900

#: Standard attribute names (as in the PC/SC spec, without the SCARD_ATTR_ prefix) to their ids.
ATTRIBUTES: dict[str, int] = {
    name.removeprefix("SCARD_ATTR_"): value
    for name, value in vars(scard).items()
    if name.startswith("SCARD_ATTR_") and isinstance(value, int)
}


def attribute_id(name: str | int) -> int:
    """An attribute id from a name ("ATR_STRING", "SCARD_ATTR_VENDOR_NAME", "vendor name") or a number."""
    if isinstance(name, int):
        return name
    key = name.strip().upper().replace(" ", "_").removeprefix("SCARD_ATTR_")
    if key in ATTRIBUTES:
        return ATTRIBUTES[key]
    with contextlib.suppress(ValueError):
        return int(name, 0)
    raise ValueError(f"unknown attribute {name!r}; known: {', '.join(sorted(ATTRIBUTES))}")


def ctl_code(function: int) -> int:
    """The platform's control code for a reader function number (SCARD_CTL_CODE)."""
    return int(scard.SCARD_CTL_CODE(function))


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

    def __init__(self, reader: str, sink: Callable[[Exchange | LinkEvent], None] | None = None,
                 on_change: Callable[[], None] | None = None, *, inline: bool = False) -> None:
        self.reader = reader
        self.inline = inline
        self._owner: int | None = None  # the thread of an inline connection
        self._sink = sink
        self._on_change = on_change
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        # Worker-thread state below.
        self._ctx: int | None = None
        self._card: int | None = None
        self._state = LinkState(reader)

    @property
    def state(self) -> LinkState:
        """The last known state (any thread; a snapshot, updated by the worker)."""
        return self._state

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
        try:
            attr = attribute_id(attribute)
        except ValueError as exc:
            return CardFuture.failed(exc)
        return self._submit(self._get_attribute, attr)

    def transmit(self, apdu: bytes, origin: Origin = Origin.API) -> CardFuture[Exchange]:
        """One exchange, sent as given (no check, no automatic steps)."""
        if len(apdu) > MAX_COMMAND:
            return CardFuture.failed(ce.InvalidCommand(self.reader, sentence=(
                f"the command has {len(apdu)} bytes; PC/SC carries at most {MAX_COMMAND}")))
        return self._submit(self._transmit, bytes(apdu), origin)

    def send(self, apdu: bytes, origin: Origin = Origin.API, options: TransmitOptions = TransmitOptions(),
             *, check: bool = True) -> CardFuture[Reply]:
        """The command checked (case, Lc/Le, lengths), sent, then 61xx/6Cxx followed.

        A command that fails the check is refused here: nothing reaches the worker or the card.
        """
        refused = self._refuse(apdu) if check else None
        if refused is not None:
            return CardFuture.failed(refused)
        return self._submit(run_pipeline, bytes(apdu), self._transmit, origin, options)

    def send_now(self, apdu: bytes, origin: Origin = Origin.API, options: TransmitOptions = TransmitOptions(),
                 *, check: bool = True) -> Reply:
        """send() on an inline connection, without a future (a few µs a call, for scripts)."""
        if not self.inline or self._closed or self._owner != threading.get_ident():
            return self.send(apdu, origin, options, check=check).result()
        refused = self._refuse(apdu) if check else None
        if refused is not None:
            raise refused
        return run_pipeline(bytes(apdu), self._transmit, origin, options)

    def _refuse(self, apdu: bytes) -> ce.InvalidCommand | None:
        try:
            parse_apdu(apdu)
        except ApduError as exc:
            return ce.InvalidCommand(self.reader, sentence=str(exc))
        return None

    def close(self, disposition: Disposition = Disposition.LEAVE, timeout: float = 5.0) -> bool:
        """Disconnect, release the context and stop the worker. Any thread but the worker.

        Returns False when the worker is still stuck in a call after `timeout`
        (a card that never answers); it then ends as soon as that call returns.
        """
        with self._lock:
            if self._closed:
                return True
            self._closed = True
            thread = self._thread
        if thread is None:
            if self._ctx is not None:
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
        if self._card is not None:
            with contextlib.suppress(ce.CardError):
                self._disconnect(disposition)
        self._release_context()

    def _emit(self, record: Exchange | LinkEvent) -> None:
        if self._sink is not None:
            try:
                self._sink(record)
            except Exception:  # a broken listener must not break the connection
                log.exception("exchange sink failed")

    def _event(self, kind: LinkEventKind, detail: str = "") -> None:
        s = self._state
        self._emit(LinkEvent(self.reader, kind, time.time(), s.protocol, s.share, detail))

    def _changed(self) -> None:
        # pcscd does not wake status watchers on sharing changes: tell the monitor.
        if self._on_change is not None:
            self._on_change()

    def _check(self, hresult: int, action: str) -> None:
        if hresult == scard.SCARD_S_SUCCESS:
            return
        raise self._fail(card_error(hresult, self.reader, action))

    def _fail(self, error: ce.CardError) -> ce.CardError:
        """`error`, after forgetting the handle if it means the connection ended under us."""
        if isinstance(error, ce.ServiceGone | ce.CardRemoved | ce.NoCard):
            self._lose(error)
        return error

    def _lose(self, error: ce.CardError) -> None:
        """Forget the handle (and the context if the service went)."""
        was_connected = self._card is not None
        self._card = None
        if isinstance(error, ce.ServiceGone):
            self._release_context()
        if was_connected:
            self._event(LinkEventKind.LOST, str(error))
            self._state = LinkState(self.reader)
            self._changed()

    def _release_context(self) -> None:
        if self._ctx is not None:
            context.release(self._ctx)
            self._ctx = None

    def _need_card(self) -> int:
        if self._card is None:
            raise ce.NotConnected(self.reader)
        return self._card

    def _connect(self, protocol: Protocol, share: ShareMode) -> LinkState:
        if self._card is not None:
            self._disconnect(Disposition.LEAVE)
        if self._ctx is None:
            try:
                self._ctx = context.establish()
            except context.ServiceUnavailable as exc:
                raise card_error(exc.hresult, self.reader, "connect") from None
        wanted = _PROTOCOL[protocol]
        if share is ShareMode.DIRECT and protocol is Protocol.ANY:
            wanted = 0  # direct to a reader: no card protocol to negotiate
        hresult, card, active = scard.SCardConnect(self._ctx, self.reader, _SHARE[share], wanted)
        self._check(hresult, "connect")
        self._card = card
        self._state = LinkState(self.reader, True, _ACTIVE.get(active, Protocol.UNDEFINED), share,
                                self._read_atr())
        self._event(LinkEventKind.CONNECTED)
        self._changed()
        return self._state

    def _read_atr(self) -> bytes:
        hresult, _, _, _, atr = scard.SCardStatus(self._need_card())
        return bytes(atr) if hresult == scard.SCARD_S_SUCCESS else b""

    def _disconnect(self, disposition: Disposition) -> LinkState:
        if self._card is None:
            return self._state
        card, self._card = self._card, None
        hresult = scard.SCardDisconnect(card, _DISPOSITION[disposition])
        self._event(LinkEventKind.DISCONNECTED, disposition.value)
        self._state = LinkState(self.reader)
        self._changed()
        # The handle is gone either way; a dead service or card only matters for the record.
        if hresult not in (scard.SCARD_S_SUCCESS, scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD):
            self._check(hresult, "disconnect")
        return self._state

    def _reconnect(self, cold: bool, protocol: Protocol | None, share: ShareMode | None) -> LinkState:
        card = self._need_card()
        share = share or self._state.share or ShareMode.SHARED
        protocol = protocol or self._state.protocol or Protocol.ANY
        init = scard.SCARD_UNPOWER_CARD if cold else scard.SCARD_RESET_CARD
        hresult, active = scard.SCardReconnect(card, _SHARE[share], _PROTOCOL[protocol], init)
        self._check(hresult, "reconnect")
        self._state = LinkState(self.reader, True, _ACTIVE.get(active, Protocol.UNDEFINED), share,
                                self._read_atr())
        self._event(LinkEventKind.RECONNECTED, "cold reset" if cold else "warm reset")
        self._changed()
        return self._state

    def _begin_transaction(self) -> None:
        self._check(scard.SCardBeginTransaction(self._need_card()), "begin transaction")
        self._event(LinkEventKind.TRANSACTION_BEGUN)

    def _end_transaction(self, disposition: Disposition) -> None:
        self._check(scard.SCardEndTransaction(self._need_card(), _DISPOSITION[disposition]),
                    "end transaction")
        self._event(LinkEventKind.TRANSACTION_ENDED, disposition.value)

    def _control(self, code: int, data: bytes) -> bytes:
        started, t0 = time.time(), time.perf_counter()
        hresult, response = scard.SCardControl(self._need_card(), code, list(data))
        ok = hresult == scard.SCARD_S_SUCCESS
        answer = bytes(response) if ok else b""
        error = None if ok else card_error(hresult, self.reader, f"control code 0x{code:08X}")
        self._emit(Exchange(self.reader, code.to_bytes(4, "big") + data, answer, started,
                            time.perf_counter() - t0, Origin.CONTROL, self._state.protocol,
                            self._state.share, None if error is None else str(error)))
        if error is not None:
            raise self._fail(error)
        return answer

    def _get_attribute(self, attr: int) -> bytes:
        hresult, value = scard.SCardGetAttrib(self._need_card(), attr)
        self._check(hresult, f"get attribute 0x{attr:08X}")
        return bytes(value)

    def _transmit(self, apdu: bytes, origin: Origin) -> Exchange:
        card = self._need_card()
        state = self._state
        proto = _PROTOCOL[state.protocol] if state.protocol in (Protocol.T0, Protocol.T1, Protocol.RAW) \
            else scard.SCARD_PROTOCOL_T1
        started, t0 = time.time(), time.perf_counter()
        hresult, response = scard.SCardTransmit(card, proto, list(apdu))
        duration = time.perf_counter() - t0
        error: ce.CardError | None = None
        if hresult != scard.SCARD_S_SUCCESS:
            error = card_error(hresult, self.reader, "transmit")
        elif len(response) < 2:
            error = self._why_no_status_word(len(response))
        answer = bytes(response) if error is None else b""
        exchange = Exchange(self.reader, apdu, answer, started, duration, origin, state.protocol,
                            state.share, None if error is None else str(error))
        if log.isEnabledFor(TRAFFIC):  # formatting hex costs ~7 µs an exchange: only when wanted
            log.log(TRAFFIC, "%s: %s -> %s", self.reader, to_hex(apdu),
                    to_hex(answer) if error is None else error)
        self._emit(exchange)
        if error is not None:
            error.exchanges = (exchange,)
            raise self._fail(error)
        return exchange

    def _why_no_status_word(self, length: int) -> ce.CardError:
        """vpcd (and some drivers) report success with nothing when the card goes mid-command.

        pcscd notices a removal only at its next poll of the driver (~400 ms on
        vpcd): wait for that state change, bounded, rather than guess.
        """
        assert self._ctx is not None
        hresult, states = scard.SCardGetStatusChange(self._ctx, 0, [(self.reader, scard.SCARD_STATE_UNAWARE)])
        if hresult == scard.SCARD_S_SUCCESS and states[0][1] & scard.SCARD_STATE_PRESENT:
            known = states[0][1] & ~scard.SCARD_STATE_CHANGED
            hresult, states = scard.SCardGetStatusChange(self._ctx, _REMOVAL_GRACE_MS, [(self.reader, known)])
        if hresult == scard.SCARD_S_SUCCESS and not states[0][1] & scard.SCARD_STATE_PRESENT:
            return ce.CardRemoved(self.reader, "transmit: no response, and the card is gone")
        if hresult in context.SERVICE_GONE:
            return card_error(hresult, self.reader, "transmit")
        return ce.UnresponsiveCard(self.reader, sentence=f"the card answered {length} byte(s), "
                                                         "not even a status word")
