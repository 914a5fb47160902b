"""The readers a front end reaches and their connections: PC/SC readers, the in-process virtual
readers beside them, and one connection manager over both. The window's workbench adds the
trace store and the journal; a command line uses this alone and streams its exchanges to a
trace file or nowhere, keeping none of them in memory (a `run --repeat` of hours stays flat).

Qt-free and PC/SC-free: the PC/SC side comes in as callables (open a link to a reader, ask the
monitor to look again), so the window gives its monitor bridge's, and the CLI or a test its own.
Thread rules: `link_for` runs on whichever thread opens a connection; `observe` is called by
whoever feeds monitor events, in the monitor's order.
"""

from __future__ import annotations

from collections.abc import Callable

from explorer.core.exchange import Exchange, LinkEvent
from explorer.core.reader_events import MonitorEvent
from explorer.link.connection import Link
from explorer.link.manager import ConnectionManager
from explorer.virtual.card import VirtualCard
from explorer.virtual.embedded import EmbeddedReaders

Sink = Callable[[Exchange | LinkEvent], None]


def _ignore(event: MonitorEvent) -> None:
    """A command line watches no monitor: the embedded readers' events go nowhere."""


class CardAccess:
    def __init__(self, pcsc_link: Callable[[str], Link], post_event: Callable[[MonitorEvent], None] = _ignore,
                 refresh_pcsc: Callable[[], None] = lambda: None, *, sink: Sink | None = None,
                 manager: ConnectionManager | None = None) -> None:
        """`pcsc_link(reader)` opens a link to a PC/SC reader; `post_event` takes the embedded
        readers' events (into the same stream as the PC/SC monitor's); `refresh_pcsc` asks the
        monitor to read reader flags again (pcscd does not wake it for our own connects);
        `sink` takes every connection's exchanges and link events, on their workers."""
        self.embedded = EmbeddedReaders(post_event)
        self._pcsc_link = pcsc_link
        self._refresh_pcsc = refresh_pcsc
        self.manager = manager or ConnectionManager(self.link_for, sink=sink, on_change=self._changed)

    def link_for(self, reader: str) -> Link:
        """The link to `reader`: the embedded one when it is an in-process reader, else PC/SC."""
        return self.embedded.link(reader) if self.embedded.owns(reader) else self._pcsc_link(reader)

    def add_card(self, card: VirtualCard, label: str = "") -> str:
        """A new in-process virtual reader holding `card`: its name."""
        reader = self.embedded.add_reader()
        self.embedded.insert(reader, card, label)
        return reader

    def _changed(self, reader: str) -> None:
        """On a connection's worker, after it connected, disconnected or reset."""
        if self.embedded.owns(reader):
            self.embedded.refresh(reader)
        else:
            self._refresh_pcsc()

    def observe(self, event: MonitorEvent) -> None:
        """The sessions `event` ends recorded as lost; a removed reader's connection closed."""
        self.manager.observe(event)

    def close(self, timeout: float = 5.0) -> bool:
        """Every connection closed; False if a worker is still stuck in a card call."""
        return self.manager.close_all(timeout)

