"""The workbench: the readers and connections every front end shares (CardAccess), with the
trace store and the session's journal the window keeps.

Thread rules as CardAccess; `record` and `observe` are called by whoever feeds monitor events,
in that order, before anyone else reacts to the event (the trace gets the event, then the
sessions it ends are recorded as lost right after it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from explorer import __version__
from explorer.core.reader_events import MonitorEvent
from explorer.link.connection import Link
from explorer.link.manager import ConnectionManager
from explorer.services.card_access import CardAccess
from explorer.trace.export import journal_encoder, secrets_word
from explorer.trace.journal import Journal
from explorer.trace.store import TraceStore


class Workbench(CardAccess):
    def __init__(self, pcsc_link: Callable[[str], Link], post_event: Callable[[MonitorEvent], None],
                 refresh_pcsc: Callable[[], None] = lambda: None, *, store: TraceStore | None = None,
                 manager: ConnectionManager | None = None, journal_dir: Path | None = None,
                 keep_secrets: bool = False) -> None:
        """As CardAccess, every exchange into `store`. Without a `store`, one with a new session
        journal (in `journal_dir`, default the user's data folder), PINs, keys and unwrapped
        personal data masked in it unless `keep_secrets`; a journal that cannot be made leaves
        the trace in memory and `journal_problem` says why."""
        self.journal_problem = ""
        self.store = store if store is not None else self._new_store(journal_dir, keep_secrets)
        super().__init__(pcsc_link, post_event, refresh_pcsc, sink=self.store, manager=manager)

    def _new_store(self, journal_dir: Path | None, keep_secrets: bool) -> TraceStore:
        try:
            return TraceStore(Journal.new_session(journal_dir, journal_encoder(keep_secrets),
                                                  generator=f"card-explorer {__version__}",
                                                  secrets=secrets_word(keep_secrets)))
        except OSError as e:
            self.journal_problem = f"no journal: {e.strerror or e}"
            return TraceStore()

    def record(self, event: MonitorEvent) -> None:
        """A monitor event into the trace (first, before anything reacts to it)."""
        self.store.add_monitor_event(event)
