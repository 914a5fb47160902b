"""The trace view's table model: a window onto a TraceStore that may hold a
million records.

Nothing is formatted until a view asks for a cell, and a view asks only for
the rows on screen: rows are store indexes (a range when every record shows,
else a compact array of what the filter keeps), text is made in `data`. New
records are picked up by `refresh` (a timer on the GUI thread calls it),
never by a signal per record, so a script sending thousands of APDUs a
second costs the GUI one update per tick. A new filter is worked out over
the whole store on a background thread; the rows swap in at once when it is
done, and a filter overtaken by the next one is dropped (and stops early).
So the GUI thread never does work in proportion to the store's size.

Automatic steps (GET RESPONSE, 6Cxx re-send) sit indented under the command
they were sent for, and can be folded away: a folded command shows where its
chain ended (response data joined, the final SW and its meaning).

GUI thread only; the store is appended to from reader threads and only grows,
so reading it here needs no lock.
"""

from __future__ import annotations

import bisect
import enum
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase

from explorer.core.exchange import SENT_AS_IS
from explorer.core.hexfmt import to_hex
from explorer.core.sensitive import mask
from explorer.trace.export import (
    clock,
    command_hex,
    command_label,
    duration_ms,
    explanation,
    personal_span,
    response_hex,
)
from explorer.trace.filter import Cancelled, SwClass, TraceFilter, sw_class
from explorer.trace.records import Kind, TraceRecord
from explorer.trace.steps import Outcome, alone, outcome
from explorer.trace.store import TraceStore
from explorer.ui.background import Background, pause
from explorer.ui.column_headers import ColumnHeaders

AnyIndex = QModelIndex | QPersistentModelIndex


class Col(enum.IntEnum):
    """The columns, in their order: what a tester reads first comes first, so
    that the command, its answer and the SW fit a narrow dock."""

    SEQ = 0
    TIME = 1
    COMMAND = 2
    APDU = 3
    RESPONSE = 4
    SW = 5
    MEANING = 6
    MS = 7
    READER = 8
    ORIGIN = 9
    DELTA = 10


TITLES = {Col.SEQ: "#", Col.TIME: "Time", Col.COMMAND: "Command", Col.APDU: "APDU",
          Col.RESPONSE: "Response", Col.SW: "SW", Col.MEANING: "Meaning", Col.MS: "ms",
          Col.READER: "Reader", Col.ORIGIN: "Origin", Col.DELTA: "Δ ms"}
COLUMNS = tuple(TITLES[c] for c in Col)
HEX_COLUMNS = frozenset({Col.APDU, Col.RESPONSE, Col.SW})
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
COLOURS = {SwClass.SUCCESS: "#1b7f2a", SwClass.WARNING: "#b35c00", SwClass.ERROR: "#c0162b",
           SwClass.EVENT: "#3d5a80"}
FAILURE_BACKGROUND = "#fde7ea"
CELL_BYTES = 64  # a cell shows at most this much hex; the tooltip and the detail pane show more
TIP_BYTES = 512
_CLASS_COLUMNS = frozenset({Col.SW, Col.MEANING, Col.ORIGIN})
_RIGHT = frozenset({Col.SEQ, Col.MS, Col.DELTA})


def sw_text(sw: int | None) -> str:
    return "" if sw is None else f"{sw >> 8:02X} {sw & 0xFF:02X}"


def cell_hex(data: bytes) -> str:
    return to_hex(data[:CELL_BYTES]) + (" …" if len(data) > CELL_BYTES else "")


def hex_tip(data: bytes) -> str:
    """Hex in lines of 16 bytes, for a tooltip: the whole value unless it is huge."""
    lines = [f"{len(data)} byte{'s' * (len(data) != 1)}"]
    lines += [to_hex(data[i:i + 16]) for i in range(0, min(len(data), TIP_BYTES), 16)]
    if len(data) > TIP_BYTES:
        lines.append("… (the detail pane shows all of it)")
    return "\n".join(lines)


@dataclass(eq=False)
class _Job:
    """One filter being worked out; `stop` set when a newer one replaces it."""

    filter: TraceFilter
    stop: threading.Event = field(default_factory=threading.Event)


class TraceTableModel(ColumnHeaders, QAbstractTableModel):
    COLUMNS = COLUMNS
    filtered = Signal()  # the rows of the filter asked for last are in

    def __init__(self, store: TraceStore, parent: Any = None) -> None:
        super().__init__(parent)
        self._store = store
        self._filter = TraceFilter()  # what the rows show
        self._wanted = self._filter  # what was asked for last
        self._job: _Job | None = None
        self._background = Background(self)
        self._keep: Callable[[int], bool] | None = None  # the filter's test for new records; None: all
        self._rows: Sequence[int] = range(0)  # store indexes shown, in order
        self._seen = 0  # store records looked at so far
        self._start = 0  # "Clear view" hides what came before this store index
        self._outcome: tuple[int, int, Outcome] | None = None  # (store index, store size, outcome)
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.refresh()

    # -- what is shown ------------------------------------------------------------

    @property
    def store(self) -> TraceStore:
        return self._store

    @property
    def filter(self) -> TraceFilter:
        """The filter asked for last (its rows may still be on their way)."""
        return self._wanted

    @property
    def busy(self) -> bool:
        """Whether a filter is being worked out."""
        return self._job is not None

    def refresh(self) -> int:
        """Take in records appended since the last call; returns how many rows came."""
        total = len(self._store)
        if total <= self._seen:
            return 0
        first = len(self._rows)
        if self._keep is None:
            assert isinstance(self._rows, range)
            self.beginInsertRows(QModelIndex(), first, first + total - self._seen - 1)
            self._rows = range(self._rows.start, total)
            self.endInsertRows()
        else:
            new = [i for i in range(self._seen, total) if self._keep(i)]
            if new:
                assert isinstance(self._rows, array)
                self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
                self._rows.extend(new)
                self.endInsertRows()
        if self._filter.fold:
            self._steps_came(self._seen, total, first)
        came = len(self._rows) - first
        self._seen = total
        return came

    def _steps_came(self, start: int, stop: int, first_new: int) -> None:
        """Folded commands already shown whose steps just came: their outcome changed."""
        parents = [r.parent for r in self._store.since(start)[:stop - start] if r.parent is not None]
        if not parents or first_new == 0:
            return
        row = self.row_of_seq(min(parents))
        if row is not None and row < first_new:
            self._outcome = None
            self.dataChanged.emit(self.index(row, 0), self.index(first_new - 1, len(COLUMNS) - 1))

    def set_filter(self, f: TraceFilter) -> None:
        """Show what `f` keeps. Its rows are worked out on a thread; `filtered` says when they are in."""
        self._wanted = f
        self._cancel()
        start, stop = self._start, len(self._store)
        if not f.narrows:
            self._apply(f, range(start, stop), stop)  # every record: nothing to work out
            return
        job = self._job = _Job(f)
        store = self._store

        def cancelled() -> bool:
            pause()  # called every few thousand records: the GUI thread gets the GIL meanwhile
            return job.stop.is_set()

        def work() -> Sequence[int]:
            return f.rows(store.grown(), start, stop, cancelled)

        self._background.run("trace-filter", work, lambda rows: self._rows_ready(job, rows, stop),
                             self._filter_failed, large=True)

    def _rows_ready(self, job: _Job, rows: Sequence[int], stop: int) -> None:
        if job is not self._job:
            return  # overtaken by a newer filter
        self._job = None
        self._apply(job.filter, rows, stop)

    @staticmethod
    def _filter_failed(error: BaseException) -> None:
        if not isinstance(error, Cancelled):
            raise error  # a bug: the crash dialog reports it

    def _apply(self, f: TraceFilter, rows: Sequence[int], stop: int) -> None:
        """The rows of `f` over the store up to `stop`, in one step; then what came since."""
        self.beginResetModel()
        self._filter, self._rows, self._seen = f, rows, stop
        self._keep = f.keeps(self._store) if f.narrows else None
        self._outcome = None
        self.endResetModel()
        self.refresh()
        self.filtered.emit()

    def _cancel(self) -> None:
        if self._job is not None:
            self._job.stop.set()
            self._job = None

    def stop(self) -> None:
        """Drop a filter being worked out (its thread stops at its next look)."""
        self._cancel()

    def set_fold(self, fold: bool) -> None:
        self.set_filter(replace(self._wanted, fold=fold))

    def set_reveal_secrets(self, reveal: bool) -> None:
        if reveal == self._wanted.reveal:
            return
        wanted = replace(self._wanted, reveal=reveal)
        if wanted.text.strip():
            self.set_filter(wanted)  # masked bytes become searchable, or stop being
        else:
            self._wanted = wanted
            self._filter = replace(self._filter, reveal=reveal)
        if self._rows:
            self.dataChanged.emit(self.index(0, Col.APDU), self.index(len(self._rows) - 1, Col.APDU))

    def clear_view(self) -> None:
        """Hide everything so far; the store and its journal keep it all."""
        self._start = total = len(self._store)
        self._cancel()
        self._apply(self._wanted, self._wanted.rows(self._store, total, total), total)

    def record(self, row: int) -> TraceRecord:
        return self._store[self._rows[row]]

    def records(self) -> list[TraceRecord]:
        """What the view shows, in order (for copy and export of the view)."""
        store = self._store
        return [store[i] for i in self._rows]

    def records_later(self) -> Callable[[], list[TraceRecord]]:
        """What the view shows now, to be listed on another thread (a million take a while)."""
        store, rows = self._store, self._rows[:]  # an array's copy is one memcpy; a range is immutable
        return lambda: [records[i] for records in (store.grown(),) for i in rows]

    def row_of_seq(self, seq: int) -> int | None:
        store, rows = self._store, self._rows
        # Sequence numbers grow along the store; a file put together by hand may break that.
        row = bisect.bisect_left(rows, seq, key=lambda i: store[i].seq)
        if row < len(rows) and store[rows[row]].seq == seq:
            return row
        for row in range(len(rows) - 1, -1, -1):
            if store[rows[row]].seq == seq:
                return row
        return None

    def outcome(self, row: int) -> Outcome:
        """What the row's exchange came to: with folding, where its automatic steps ended."""
        index = self._rows[row]
        r = self._store[index]
        if not self._filter.fold or r.kind is not Kind.EXCHANGE:
            return alone(r)
        size = len(self._store)
        cached = self._outcome
        if cached is not None and cached[0] == index and cached[1] == size:
            return cached[2]
        found = outcome(self._store, index)
        self._outcome = (index, size, found)
        return found

    # -- QAbstractTableModel -----------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, Col(column))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(row, Col(column))
        if role == Qt.ItemDataRole.ForegroundRole:
            final = self.outcome(row).final
            return (QColor(COLOURS[sw_class(final)])
                    if column in _CLASS_COLUMNS or final.kind is Kind.EVENT else None)
        if role == Qt.ItemDataRole.BackgroundRole:
            return QColor(FAILURE_BACKGROUND) if sw_class(self.outcome(row).final) is SwClass.ERROR else None
        if role == Qt.ItemDataRole.FontRole and column in HEX_COLUMNS:
            return self._mono
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == RECORD_ROLE:
            return self.record(row)
        return None

    def _text(self, row: int, column: Col) -> str:
        r = self.record(row)
        if column is Col.SEQ:
            return f"↳ {r.seq}" if r.parent is not None else str(r.seq)
        if column is Col.TIME:
            return clock(r.time)
        if column is Col.DELTA:
            return "" if row == 0 else f"{(r.time - self.record(row - 1).time) * 1000:.3f}"
        if column is Col.READER:
            return r.reader
        if column is Col.ORIGIN:
            return r.origin
        if r.kind is Kind.EVENT:
            # What happened where the command's name goes, so an event reads at the default size too.
            return r.detail if column is Col.APDU else (r.origin if column is Col.COMMAND else "")
        if column is Col.COMMAND:
            label = command_label(r) + ("  [as is]" if SENT_AS_IS in r.detail else "")
            if r.parent is not None:
                return "  " + label
            steps = self.outcome(row).steps
            return label + (f"  (+{steps} step{'s' * (steps > 1)})" if steps else "")
        if column is Col.APDU:
            return command_hex(r, self._wanted.reveal)
        if column is Col.MS:
            return duration_ms(r.duration)
        final = self.outcome(row)
        if column is Col.RESPONSE:
            if not self._wanted.reveal and personal_span(final.final):
                return mask(final.data)
            return cell_hex(final.data)
        if column is Col.SW:
            return sw_text(final.final.sw)
        if column is Col.MEANING:
            return meaning(final.final)
        return ""

    def _tip(self, row: int, column: Col) -> str | None:
        r = self.record(row)
        if r.kind is Kind.EVENT:
            return (r.detail or None) if column is Col.APDU else None
        if column is Col.APDU:
            shown = command_hex(r, self._wanted.reveal)
            if shown != command_hex(r, True):  # masked: the tip must not show the secret either
                return f"{len(r.command)} bytes (secret data masked)\n{shown}"
            return hex_tip(r.command)
        if column is Col.RESPONSE:
            final = self.outcome(row)
            if not self._wanted.reveal and personal_span(final.final):
                return f"{len(final.data)} bytes (personal data masked)"
            return hex_tip(final.data)
        if column in (Col.SW, Col.MEANING):
            return meaning(self.outcome(row).final) or None
        return None


def meaning(r: TraceRecord) -> str:
    """What the Meaning column says: the error, or the SW explained."""
    if r.error is not None:
        return r.error
    why = explanation(r)
    return why.text if why else ""


def rows_text(records: Sequence[TraceRecord], reveal: bool) -> str:
    """Rows as tab-separated text for the clipboard (a spreadsheet pastes it)."""
    titles = ("#", "Time", "Reader", "Origin", "Command", "Command APDU", "SW", "Meaning", "Response")
    lines = ["\t".join(titles)]
    for r in records:
        lines.append("\t".join([
            str(r.seq), clock(r.time), r.reader, r.origin,
            command_label(r) if r.kind is Kind.EXCHANGE else "",
            command_hex(r, reveal) if r.kind is Kind.EXCHANGE else r.detail,
            sw_text(r.sw), meaning(r),
            response_hex(r, reveal),
        ]))
    return "\n".join(lines) + "\n"
