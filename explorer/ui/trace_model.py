"""The trace view's table model: a window onto a TraceStore that may hold a
million records.

Nothing is formatted until a view asks for a cell, and a view asks only for
the rows on screen: rows are an index list into the store (all of them, or
what the filter keeps), text is made in `data`. New records are picked up by
`refresh` (a timer on the GUI thread calls it), never by a signal per record,
so a script sending thousands of APDUs a second costs the GUI one update per
tick. Automatic steps (GET RESPONSE, 6Cxx re-send) sit indented under the
command they were sent for, and can be folded away.

GUI thread only; the store is appended to from reader threads and only grows,
so reading it here needs no lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFontDatabase

from explorer.trace.export import clock, command_hex, command_label, explanation
from explorer.trace.filter import SwClass, TraceFilter, sw_class
from explorer.trace.records import Kind, TraceRecord
from explorer.trace.store import TraceStore
from explorer.ui.column_headers import ColumnHeaders

AnyIndex = QModelIndex | QPersistentModelIndex
COLUMNS = ("#", "Time", "Δ ms", "Reader", "Origin", "Command", "Command APDU", "SW", "Meaning", "ms")
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
COLOURS = {SwClass.SUCCESS: "#1b7f2a", SwClass.WARNING: "#b35c00", SwClass.ERROR: "#c0162b",
           SwClass.EVENT: "#3d5a80"}
FAILURE_BACKGROUND = "#fde7ea"
_HEX_COLUMNS = (6, 7)


class TraceTableModel(ColumnHeaders, QAbstractTableModel):
    COLUMNS = COLUMNS

    def __init__(self, store: TraceStore, parent: Any = None) -> None:
        super().__init__(parent)
        self._store = store
        self._filter = TraceFilter()
        self._keep = self._filter.predicate()
        self._fold = False
        self._reveal = False
        self._rows: list[int] = []  # store indexes shown, in order
        self._seen = 0  # store records looked at so far
        self._start = 0  # "Clear view" hides what came before this store index
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.refresh()

    # -- what is shown ------------------------------------------------------------

    @property
    def store(self) -> TraceStore:
        return self._store

    def refresh(self) -> int:
        """Take in records appended since the last call; returns how many rows came."""
        total = len(self._store)
        if total <= self._seen:
            return 0
        new = [i for i in range(self._seen, total) if self._shows(self._store[i])]
        self._seen = total
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._rows.extend(new)
            self.endInsertRows()
        return len(new)

    def _shows(self, r: TraceRecord) -> bool:
        if self._fold and r.parent is not None:
            return False
        return self._keep(r)

    def set_filter(self, f: TraceFilter) -> None:
        self._filter, self._keep = f, f.predicate()
        self._rebuild()

    def set_fold(self, fold: bool) -> None:
        self._fold = fold
        self._rebuild()

    def set_reveal_secrets(self, reveal: bool) -> None:
        self._reveal = reveal
        if self._rows:
            self.dataChanged.emit(self.index(0, 6), self.index(len(self._rows) - 1, 6))

    def clear_view(self) -> None:
        """Hide everything so far; the store and its journal keep it all."""
        self._start = len(self._store)
        self._rebuild()

    def _rebuild(self) -> None:
        self.beginResetModel()
        store, keep, fold = self._store, self._keep, self._fold
        total = len(store)
        if not self._filter.active and not fold:
            self._rows = list(range(self._start, total))
        else:
            self._rows = [i for i in range(self._start, total)
                          if not (fold and store[i].parent is not None) and keep(store[i])]
        self._seen = total
        self.endResetModel()

    def record(self, row: int) -> TraceRecord:
        return self._store[self._rows[row]]

    def records(self) -> list[TraceRecord]:
        """What the view shows, in order (for copy and export of the view)."""
        store = self._store
        return [store[i] for i in self._rows]

    def row_of_seq(self, seq: int) -> int | None:
        for row in range(len(self._rows) - 1, -1, -1):
            if self._store[self._rows[row]].seq == seq:
                return row
        return None

    def _steps(self, r: TraceRecord, store_index: int) -> int:
        """Automatic steps that follow `r` (shown as a count when folded)."""
        n, store = 0, self._store
        i = store_index + 1
        # Steps come right after their command, but another reader's record may sit between.
        while i < len(store) and i - store_index <= 64:
            nxt = store[i]
            if nxt.parent == r.seq:
                n += 1
            elif nxt.reader == r.reader and nxt.parent is None:
                break
            i += 1
        return n

    # -- QAbstractTableModel -----------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        store_index = self._rows[row]
        r = self._store[store_index]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, row, column, store_index)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(COLOURS[sw_class(r)]) if column in (4, 7, 8) or r.kind is Kind.EVENT else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return QColor(FAILURE_BACKGROUND) if sw_class(r) is SwClass.ERROR else None
        if role == Qt.ItemDataRole.FontRole and column in _HEX_COLUMNS:
            return self._mono
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 2, 9):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == RECORD_ROLE:
            return r
        return None

    def _text(self, r: TraceRecord, row: int, column: int, store_index: int) -> str:
        if column == 0:
            return f"↳ {r.seq}" if r.parent is not None else str(r.seq)
        if column == 1:
            return clock(r.time)
        if column == 2:
            if row == 0:
                return ""
            return f"{(r.time - self._store[self._rows[row - 1]].time) * 1000:.3f}"
        if column == 3:
            return r.reader
        if column == 4:
            return r.origin
        if r.kind is Kind.EVENT:
            return r.detail if column == 6 else ""
        if column == 5:
            label = command_label(r)
            if self._fold and r.parent is None:
                steps = self._steps(r, store_index)
                if steps:
                    label += f"  (+{steps} step{'s' * (steps > 1)})"
            return ("  " + label) if r.parent is not None else label
        if column == 6:
            return command_hex(r, self._reveal)
        if column == 7:
            sw = r.sw
            return "" if sw is None else f"{sw >> 8:02X} {sw & 0xFF:02X}"
        if column == 8:
            if r.error is not None:
                return r.error
            why = explanation(r)
            return why.text if why else ""
        if column == 9:
            return f"{r.duration * 1000:.3f}"
        return ""


def rows_text(records: Sequence[TraceRecord], reveal: bool) -> str:
    """Rows as tab-separated text for the clipboard (a spreadsheet pastes it)."""
    lines = ["\t".join(COLUMNS[:2] + COLUMNS[3:9] + ("Response",))]
    for r in records:
        why = explanation(r)
        sw = r.sw
        lines.append("\t".join([
            str(r.seq), clock(r.time), r.reader, r.origin,
            command_label(r) if r.kind is Kind.EXCHANGE else "",
            command_hex(r, reveal) if r.kind is Kind.EXCHANGE else r.detail,
            "" if sw is None else f"{sw >> 8:02X} {sw & 0xFF:02X}",
            r.error or (why.text if why else ""),
            r.response.hex(" ").upper(),
        ]))
    return "\n".join(lines) + "\n"
