"""The workbench: the trace store (with the session's journal), the in-process virtual readers
and the connection manager over them and over PC/SC — the pieces every front end shares.

Qt-free and PC/SC-free: the PC/SC side comes in as callables (open a link to a reader, ask the
monitor to look again), so the window gives its monitor bridge's, and the CLI or a test its own.
Thread rules: `link_for` runs on whichever thread opens a connection; `record` and `observe`
are called by whoever feeds monitor events, in that order, before anyone else reacts to the event
(the trace gets the event, then the sessions it ends are recorded as lost right after it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from explorer import __version__
from explorer.core.reader_events import MonitorEvent
from explorer.link.connection import Link
from explorer.link.manager import ConnectionManager
from explorer.trace.journal import Journal
from explorer.trace.store import TraceStore
from explorer.virtual.embedded import EmbeddedReaders


class Workbench:
    def __init__(self, pcsc_link: Callable[[str], Link], post_event: Callable[[MonitorEvent], None],
                 refresh_pcsc: Callable[[], None] = lambda: None, *, store: TraceStore | None = None,
                 manager: ConnectionManager | None = None, journal_dir: Path | None = None) -> None:
        """`pcsc_link(reader)` opens a link to a PC/SC reader; `post_event` takes the embedded
        readers' events (into the same stream as the PC/SC monitor's); `refresh_pcsc` asks the
        monitor to read reader flags again (pcscd does not wake it for our own connects). Without
        a `store`, one with a new session journal (in `journal_dir`, default the user's data
        folder); a journal that cannot be made leaves the trace in memory and `journal_problem`
        says why."""
        self.journal_problem = ""
        self.store = store if store is not None else self._new_store(journal_dir)
        self.embedded = EmbeddedReaders(post_event)
        self._pcsc_link = pcsc_link
        self._refresh_pcsc = refresh_pcsc
        self.manager = manager or ConnectionManager(self.link_for, sink=self.store, on_change=self._changed)

    def _new_store(self, journal_dir: Path | None) -> TraceStore:
        try:
            return TraceStore(Journal.new_session(journal_dir, generator=f"card-explorer {__version__}"))
        except OSError as e:
            self.journal_problem = f"no journal: {e.strerror or e}"
            return TraceStore()

    def link_for(self, reader: str) -> Link:
        """The link to `reader`: the embedded one when it is an in-process reader, else PC/SC."""
        return self.embedded.link(reader) if self.embedded.owns(reader) else self._pcsc_link(reader)

    def _changed(self, reader: str) -> None:
        """On a connection's worker, after it connected, disconnected or reset."""
        if self.embedded.owns(reader):
            self.embedded.refresh(reader)
        else:
            self._refresh_pcsc()

    def record(self, event: MonitorEvent) -> None:
        """A monitor event into the trace (first, before anything reacts to it)."""
        self.store.add_monitor_event(event)

    def observe(self, event: MonitorEvent) -> None:
        """The sessions `event` ends recorded as lost; a removed reader's connection closed."""
        self.manager.observe(event)

    def close(self, timeout: float = 5.0) -> bool:
        """Every connection closed; False if a worker is still stuck in a card call."""
        return self.manager.close_all(timeout)
