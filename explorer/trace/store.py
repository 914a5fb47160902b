"""The trace store: every record of a session, in sequence order, in memory
for the view and in the journal on disk.

Thread rules: `add_*` and `__call__` may be called from any thread (reader
workers, the monitor bridge, the GUI); they take one lock, which also keeps
the journal in sequence order. Readers (`__len__`, `__getitem__`, `since`)
see a list that only grows, so the GUI can read without the lock: a record
at an index never changes.

When the journal cannot be written (disk full), the records still go into
memory and the exchanges go on; whoever watches `on_journal_failure` is told
once, on the thread that hit the failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from explorer.core.exchange import Exchange, LinkEvent, Origin
from explorer.core.reader_events import MonitorEvent
from explorer.trace.journal import Journal
from explorer.trace.records import TraceRecord, from_exchange, from_link_event, from_monitor_event


class TraceStore:
    def __init__(self, journal: Journal | None = None, records: Iterable[TraceRecord] = (), *,
                 keep: bool = True) -> None:
        """With `keep` False the records only go to the journal (a command line's trace file):
        memory stays flat however long the session, and the store reads as empty."""
        self._lock = threading.Lock()
        self._keep = keep
        self._records: list[TraceRecord] = list(records)
        self._next = self._records[-1].seq + 1 if self._records else 1
        self._journal = journal
        # The command an automatic step (GET RESPONSE, re-send) belongs to, per reader.
        self._cause: dict[str, int] = {}
        self._journal_watchers: list[Callable[[OSError], None]] = []

    @property
    def journal(self) -> Journal | None:
        return self._journal

    def on_journal_failure(self, callback: Callable[[OSError], None]) -> None:
        """Call `callback(error)` once when the journal stops on a failed write: on the
        writing thread (any thread) with the store's lock held, so it must only hand the
        news on (a queued signal). At once if the journal has already stopped."""
        with self._lock:
            self._journal_watchers.append(callback)
            error = self._journal.error if self._journal is not None else None
        if error is not None:
            callback(error)

    def __call__(self, item: Exchange | LinkEvent) -> None:
        """A connection's sink: every exchange and link event goes in."""
        if isinstance(item, Exchange):
            self.add_exchange(item)
        else:
            self.add_link_event(item)

    def add_exchange(self, e: Exchange) -> TraceRecord:
        with self._lock:
            seq = self._next
            if e.origin is Origin.GET_RESPONSE or e.origin is Origin.RESEND or e.origin is Origin.UNWRAPPED:
                # (identity tests, no Enum.__hash__: the hot path)
                parent = self._cause.get(e.reader)
            else:
                parent = None
                self._cause[e.reader] = seq
            return self._append(from_exchange(seq, e, parent))

    def add_link_event(self, e: LinkEvent) -> TraceRecord:
        with self._lock:
            return self._append(from_link_event(self._next, e))

    def add_monitor_event(self, e: MonitorEvent) -> TraceRecord:
        with self._lock:
            return self._append(from_monitor_event(self._next, e))

    def _append(self, record: TraceRecord) -> TraceRecord:
        self._next = record.seq + 1
        if self._keep:
            self._records.append(record)
        journal = self._journal
        # Only the write that stops the journal sets `error`: the watchers hear of it once.
        if journal is not None and journal.error is None and not journal.append(record) \
                and journal.error is not None:
            for watcher in self._journal_watchers:
                watcher(journal.error)
        return record

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> TraceRecord:
        return self._records[index]

    def since(self, start: int) -> list[TraceRecord]:
        """Records from index `start` on: what a view has not seen yet."""
        return self._records[start:]

    def records(self) -> list[TraceRecord]:
        return self._records[:]

    def grown(self) -> Sequence[TraceRecord]:
        """The records themselves, not a copy, for reading by index on another
        thread: the list only grows, so what is below a length taken once never
        changes. (Copying a million pointers holds the GIL for milliseconds.)"""
        return self._records

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
