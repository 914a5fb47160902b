"""Open connections, one per reader, shared by every panel and the scripts."""

from __future__ import annotations

import threading
from collections.abc import Callable

from explorer.core.exchange import Exchange, LinkEvent
from explorer.core.link_modes import Disposition
from explorer.link.connection import CardConnection, Link

#: Makes the backend of a reader by name: a PC/SC link, or the embedded virtual reader's.
LinkFactory = Callable[[str], Link]


class ConnectionManager:
    """Hands out the CardConnection of a reader, creating its worker on first use.

    Thread rules: any thread. `sink` and `on_change` are called on the
    connections' worker threads (see CardConnection); `link_for` on the
    thread that first opens a reader. `on_change(reader)` follows a change a
    connection made to its reader (connected, disconnected, reset), so the
    reader's backend can report the new sharing state.
    """

    def __init__(self, link_for: LinkFactory, sink: Callable[[Exchange | LinkEvent], None] | None = None,
                 on_change: Callable[[str], None] | None = None) -> None:
        self._link_for = link_for
        self._sink = sink
        self._on_change = on_change
        self._lock = threading.Lock()
        self._open: dict[str, CardConnection] = {}

    def open(self, reader: str) -> CardConnection:
        with self._lock:
            conn = self._open.get(reader)
            if conn is None:
                changed = self._on_change
                conn = CardConnection(reader, self._link_for(reader), self._sink,
                                      None if changed is None else lambda: changed(reader))
                self._open[reader] = conn
            return conn

    def get(self, reader: str) -> CardConnection | None:
        with self._lock:
            return self._open.get(reader)

    def readers(self) -> list[str]:
        with self._lock:
            return list(self._open)

    def close(self, reader: str, disposition: Disposition = Disposition.LEAVE, timeout: float = 5.0) -> bool:
        with self._lock:
            conn = self._open.pop(reader, None)
        return True if conn is None else conn.close(disposition, timeout)

    def close_all(self, timeout: float = 5.0) -> bool:
        """Close every connection; False if some worker is still stuck in a card call."""
        with self._lock:
            conns, self._open = list(self._open.values()), {}
        return all([conn.close(timeout=timeout) for conn in conns])
