"""Open connections, one per reader, shared by every panel and the scripts."""

from __future__ import annotations

import threading
from collections.abc import Callable

from explorer.core.exchange import Exchange, LinkEvent
from explorer.core.link_modes import Disposition, ShareMode
from explorer.core.reader_events import CardRemoved, MonitorEvent, ReaderRemoved, ServiceLost
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

    Connections end when what they stand on goes: `observe` takes the readers'
    monitor events, from every backend alike (PC/SC, embedded).
    """

    def __init__(self, link_for: LinkFactory, sink: Callable[[Exchange | LinkEvent], None] | None = None,
                 on_change: Callable[[str], None] | None = None) -> None:
        self._link_for = link_for
        self._sink = sink
        self._on_change = on_change
        self._lock = threading.Lock()
        self._open: dict[str, CardConnection] = {}

    def set_sink(self, sink: Callable[[Exchange | LinkEvent], None] | None) -> None:
        """Where connections opened from now on send their exchanges (a command line knows its
        trace file only once its readers are checked)."""
        with self._lock:
            self._sink = sink

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

    def observe(self, event: MonitorEvent) -> None:
        """A monitor event, right after the trace took it: the sessions it ends are recorded as lost.

        A card removed ends its reader's session (not a direct one: that is on the
        reader, not the card). A reader removed ends its session and closes its
        connection: the worker stops and nothing of that reader is kept. The PC/SC
        service lost ends every session over it. Never blocks (a worker stuck in a
        card call stops once that call returns). Any thread, in the monitor's order.
        """
        match event:
            case CardRemoved(reader, at):
                conn = self.get(reader)
                if conn is not None and conn.state.share is not ShareMode.DIRECT:
                    conn.lose("card removed", at)
            case ReaderRemoved(reader, at):
                with self._lock:
                    conn = self._open.pop(reader, None)
                if conn is not None:
                    conn.lose("reader removed", at)
                    conn.close(timeout=0)
            case ServiceLost(reason, at):
                with self._lock:
                    conns = [c for c in self._open.values() if not c.embedded]
                for conn in conns:
                    conn.lose(f"PC/SC service lost ({reason})", at, release=True)

    def close(self, reader: str, disposition: Disposition = Disposition.LEAVE, timeout: float = 5.0) -> bool:
        with self._lock:
            conn = self._open.pop(reader, None)
        return True if conn is None else conn.close(disposition, timeout)

    def close_all(self, timeout: float = 5.0) -> bool:
        """Close every connection; False if some worker is still stuck in a card call."""
        with self._lock:
            conns, self._open = list(self._open.values()), {}
        return all([conn.close(timeout=timeout) for conn in conns])
