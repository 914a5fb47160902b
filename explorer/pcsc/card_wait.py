"""Wait for a card of a given type, with a deadline, cancellable from any thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from smartcard import scard

from explorer.core import card_errors as ce
from explorer.core.card_type import AnyCardType, CardType
from explorer.link.futures import CardFuture
from explorer.pcsc import context
from explorer.pcsc.errors import card_error
from explorer.pcsc.monitor import PNP_NOTIFICATION

_INFINITE = 0x7FFFFFFF


class CardWaiter:
    """Blocks in SCardGetStatusChange on a thread of its own until a matching card is present.

    `readers` None means every reader, including ones that appear while
    waiting. With `new_only`, a card already present when the wait starts
    counts only after it has been removed and inserted again. The future
    gives (reader, ATR), or ce.Timeout / ce.Cancelled / ce.ServiceGone.
    Thread rules: `start` once; `cancel` from any thread, returns once the
    waiting thread has ended.
    """

    def __init__(self, card_type: CardType = AnyCardType(), readers: Sequence[str] | None = None,
                 *, timeout: float | None = None, new_only: bool = False) -> None:
        self.card_type = card_type
        self.readers = None if readers is None else list(readers)
        self.timeout = timeout
        self.new_only = new_only
        self.future: CardFuture[tuple[str, bytes]] = CardFuture()
        self._cancelled = threading.Event()
        self._ctx: int | None = None
        self._ctx_ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> CardFuture[tuple[str, bytes]]:
        self._thread = threading.Thread(target=self._run, name="card-wait", daemon=True)
        self._thread.start()
        return self.future

    def wait(self) -> tuple[str, bytes]:
        """start() and block for the result (not on the GUI thread)."""
        return self.start().result()

    def cancel(self) -> None:
        self._cancelled.set()
        thread = self._thread
        if thread is None:
            return
        # A cancel landing between two status calls is lost: repeat until the thread is gone.
        while thread.is_alive():
            if self._ctx_ready.is_set() and self._ctx is not None:
                scard.SCardCancel(self._ctx)
            thread.join(0.01)

    def _run(self) -> None:
        try:
            result = self._wait()
        except ce.CardError as exc:
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)
        finally:
            ctx, self._ctx = self._ctx, None
            if ctx is not None:
                context.release(ctx)

    def _wait(self) -> tuple[str, bytes]:
        try:
            self._ctx = context.establish()
        except context.ServiceUnavailable as exc:
            raise card_error(exc.hresult, action="wait for a card") from None
        finally:
            self._ctx_ready.set()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        seen_before: set[str] = set()
        first = True
        states: dict[str, int] = {}
        while True:
            if self._cancelled.is_set():
                raise ce.Cancelled(sentence="the wait for a card was cancelled")
            names = self.readers if self.readers is not None else context.list_readers(self._ctx)
            for name in names:
                states.setdefault(name, scard.SCARD_STATE_UNAWARE)
            query = [(name, states[name]) for name in names]
            if self.readers is None:
                query.append((PNP_NOTIFICATION, states.get(PNP_NOTIFICATION, scard.SCARD_STATE_UNAWARE)))
            # Ask for the current state first (timeout 0), then block for changes.
            wait_ms = 0 if first else _INFINITE
            if deadline is not None and not first:
                wait_ms = max(0, int((deadline - time.monotonic()) * 1000))
            hresult, result = scard.SCardGetStatusChange(self._ctx, wait_ms, query)
            if hresult == scard.SCARD_E_TIMEOUT and not first:
                raise ce.Timeout(sentence=f"no {self.card_type.description} within {self.timeout} s")
            if hresult in (scard.SCARD_E_CANCELLED, scard.SCARD_E_UNKNOWN_READER,
                           scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_TIMEOUT):
                first = False
                continue
            if hresult != scard.SCARD_S_SUCCESS:
                raise card_error(hresult, action="wait for a card")
            for name, state, atr in result:
                states[name] = state & ~scard.SCARD_STATE_CHANGED
                if name == PNP_NOTIFICATION:
                    continue
                present = bool(state & scard.SCARD_STATE_PRESENT) and not state & scard.SCARD_STATE_MUTE
                if not present:
                    seen_before.discard(name)
                    continue
                if self.new_only and first:
                    seen_before.add(name)
                    continue
                if name not in seen_before and self.card_type.matches(bytes(atr)):
                    return name, bytes(atr)
            first = False


def wait_for_card(card_type: CardType = AnyCardType(), readers: Sequence[str] | None = None,
                  timeout: float | None = None, *, new_only: bool = False) -> tuple[str, bytes]:
    """Block until a matching card is present: (reader, ATR). Not for the GUI thread."""
    return CardWaiter(card_type, readers, timeout=timeout, new_only=new_only).wait()
