"""One look at every reader, without waiting: for the CLI and start-up checks."""

from __future__ import annotations

from smartcard import scard

from explorer.core.reader_state import ReaderFlag, ReaderSnapshot
from explorer.pcsc import context


def read_readers() -> list[ReaderSnapshot]:
    """Every reader with its state and ATR. Raises ServiceUnavailable."""
    ctx = context.establish()
    try:
        readers = context.list_readers(ctx)
        if not readers:
            return []
        hresult, states = scard.SCardGetStatusChange(
            ctx, 0, [(r, scard.SCARD_STATE_UNAWARE) for r in readers]
        )
        if hresult in context.SERVICE_GONE:
            raise context.ServiceUnavailable(hresult)
        if hresult != scard.SCARD_S_SUCCESS:
            # A reader vanished between the two calls: report the rest as unknown.
            return [ReaderSnapshot.from_event_state(r, ReaderFlag.UNKNOWN, b"") for r in readers]
        return [ReaderSnapshot.from_event_state(n, s, bytes(a)) for n, s, a in states]
    finally:
        context.release(ctx)
