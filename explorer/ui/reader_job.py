"""What the window's jobs on a reader (a script run, an analysis) do first: open the reader's
connection, connected in shared mode as the console does, then hand it over."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from explorer.core.card_errors import CardError
from explorer.core.link_modes import Protocol, ShareMode
from explorer.link.connection import CardConnection, LinkState
from explorer.link.manager import ConnectionManager


def open_connected(manager: ConnectionManager, reader: str,
                   ready: Callable[[CardConnection, LinkState], None],
                   failed: Callable[[str, BaseException | None], None]) -> None:
    """GUI thread. `ready(connection, state)` once connected: at once when it already is, else on
    the reader's worker. `failed(message, crash)` when it cannot be: `crash` is a bug (to report),
    None for a card error (to say)."""
    try:
        conn = manager.open(reader)
    except CardError as exc:
        failed(str(exc), None)
        return
    if conn.state.connected:
        ready(conn, conn.state)
        return

    def connected(future: Future[LinkState]) -> None:
        try:
            state = future.result()
        except CardError as exc:
            failed(f"could not connect: {exc}", None)
        except Exception as exc:  # a bug: the GUI thread reports it
            failed("internal error", exc)
        else:
            ready(conn, state)

    conn.connect(Protocol.ANY, ShareMode.SHARED).add_done_callback(connected)
