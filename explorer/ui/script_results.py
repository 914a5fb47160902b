"""The script panel's results: a table model of what each command gave on each reader, the
gutter mark each line earns, and the link from a result to its trace record. No widgets: tests
drive these directly.

A row is one command as it ran: its place and the how-manieth time that place ran (repeats),
so the same command on several readers shares a row even when one reader skipped something
another did not. The columns: line, command (masked as the runner shows it), SW, one verdict
column per reader, expected, ms, and the SW's meaning last (the longest). SW, ms and meaning
are the first reader's to run the row; each verdict cell's tooltip gives its own reader's SW,
time and failures.

GUI thread only. Results come in batches (`add`): one insert per batch, whatever its size.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFontDatabase

from explorer.core.exchange import Exchange
from explorer.core.status_words import Severity, explain
from explorer.script.model import Place
from explorer.script.runner import StepResult, Verdict
from explorer.trace.records import Kind, Records
from explorer.ui.console_transcript import MUTED, SEVERITY_COLOURS
from explorer.ui.model_cells import CellsAtOnce

AnyIndex = QModelIndex | QPersistentModelIndex
RESULT_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's first StepResult

VERDICT_COLOURS = {Verdict.PASSED: SEVERITY_COLOURS[Severity.SUCCESS],
                   Verdict.FAILED: SEVERITY_COLOURS[Severity.ERROR],
                   Verdict.ERROR: SEVERITY_COLOURS[Severity.ERROR], Verdict.SKIPPED: MUTED}
FAILURE_BACKGROUND = "#fde7e9"
#: Worse first: a line that ran several times (repeats, readers) shows its worst verdict.
RANK = {Verdict.ERROR: 3, Verdict.FAILED: 2, Verdict.PASSED: 1, Verdict.SKIPPED: 0}


class Col(enum.Enum):
    LINE = "Line"
    COMMAND = "Command"
    SW = "SW"
    VERDICT = "Verdict"
    EXPECTED = "Expected"
    MS = "ms"
    MEANING = "Meaning"  # last: the longest text, stretched to the view's edge


def worst(verdicts: Iterable[Verdict]) -> Verdict | None:
    return max(verdicts, key=RANK.__getitem__, default=None)


def sw_of(result: StepResult) -> int | None:
    reply = result.reply
    if reply is None or not reply.exchanges or reply.exchanges[-1].sw is None:
        return None
    return reply.sw


def meaning_of(result: StepResult) -> str:
    sw = sw_of(result)
    if sw is not None:
        exchanges = result.exchanges
        return explain(sw, exchanges[0].command if exchanges else None).text
    if result.atr:
        return f"ATR {result.atr.hex(' ').upper()}"
    return result.failures[0] if result.failures else ""


def result_tip(reader: str, result: StepResult) -> str:
    sw = sw_of(result)
    status = f", SW {sw >> 8:02X} {sw & 0xFF:02X}" if sw is not None else ""
    lines = [f"{reader}: {result.verdict.value}{status}, {result.seconds * 1000:.1f} ms"]
    lines += result.failures
    return "\n".join(lines)


@dataclass(slots=True)
class ResultRow:
    place: Place
    turn: int  # 1 the first time this place ran, 2 the second (a repeat)...
    shown: str
    expected: str
    results: list[StepResult | None] = field(default_factory=list)  # per reader column

    @property
    def first(self) -> StepResult:
        return next(r for r in self.results if r is not None)


class ScriptResultsModel(CellsAtOnce, QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ResultRow] = []
        self._readers: list[str] = []
        self._file = ""
        self._where: dict[tuple[Place, int], int] = {}  # (place, turn) -> row
        self._turns: list[dict[Place, int]] = []  # per reader: how often each place ran
        self._last: list[int] = []  # per reader: the row of its latest result
        self._columns: list[tuple[Col, int]] = []
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def start(self, file: str, readers: Sequence[str]) -> None:
        """A new run of the script `file` on `readers`: no rows, a verdict column per reader."""
        self.beginResetModel()
        self._rows, self._where = [], {}
        self._readers, self._file = list(readers), file
        self._turns = [{} for _ in readers]
        self._last = [-1 for _ in readers]
        self._columns = [(Col.LINE, 0), (Col.COMMAND, 0), (Col.SW, 0),
                         *((Col.VERDICT, i) for i in range(len(readers))),
                         (Col.EXPECTED, 0), (Col.MS, 0), (Col.MEANING, 0)]
        self.endResetModel()

    @property
    def readers(self) -> list[str]:
        return list(self._readers)

    def column(self, col: Col, reader: int = 0) -> int:
        return self._columns.index((col, reader))

    def column_at(self, section: int) -> Col:
        return self._columns[section][0]

    def add(self, reader: int, results: Sequence[StepResult]) -> None:
        """Results of the reader in column `reader`, in the order they ran. Thousands come a second:
        this loop is kept flat (no call per result but the row's making)."""
        rows, where, turns = self._rows, self._where, self._turns[reader]
        width, last = len(self._readers), self._last[reader]
        new: list[ResultRow] = []
        base = len(rows)
        low, high = base, -1  # the committed rows whose cells changed
        for result in results:
            place = result.place
            turn = turns[place] = turns.get(place, 0) + 1
            key = (place, turn)
            row = where.get(key)
            if row is None:
                row = last + 1
                if row == base + len(new):
                    cells: list[StepResult | None] = [None] * width
                    cells[reader] = result
                    new.append(ResultRow(place, turn, result.shown, result.expected, cells))
                    where[key] = last = row
                    continue
                # Another reader ran ahead (this one went where that one did not): after its own last.
                self._commit(new)
                new = []
                made = ResultRow(place, turn, result.shown, result.expected, [None] * width)
                self._insert(row, made)
                base = len(rows)
                low, high = low + (low >= row), high + (high >= row)
                where[key] = row
            elif row < base:
                low, high = min(low, row), max(high, row)
            (rows[row] if row < base else new[row - base]).results[reader] = result
            last = row
        self._last[reader] = last
        self._commit(new)
        if high >= low:
            self.dataChanged.emit(self.index(low, 0), self.index(high, len(self._columns) - 1))

    def _commit(self, new: list[ResultRow]) -> None:
        if new:
            end = len(self._rows)
            self.beginInsertRows(QModelIndex(), end, end + len(new) - 1)
            self._rows.extend(new)
            self.endInsertRows()

    def _insert(self, at: int, row: ResultRow) -> int:
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, row)
        where = self._where  # shifted in place: `add` holds it
        for key, r in where.items():
            if r >= at:
                where[key] = r + 1
        self._last = [r + 1 if r >= at else r for r in self._last]
        self.endInsertRows()
        return at

    def row(self, row: int) -> ResultRow:
        return self._rows[row]

    def rows(self) -> list[ResultRow]:
        return list(self._rows)

    # -- QAbstractTableModel ---------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        col, reader = self._columns[section]
        several = col is Col.VERDICT and len(self._readers) > 1
        if role == Qt.ItemDataRole.DisplayRole:
            return self._readers[reader] if several else col.value
        if role == Qt.ItemDataRole.ToolTipRole and several:
            return f"Verdicts on {self._readers[reader]}"
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col, reader = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, col, reader)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(row, col, reader)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col is Col.VERDICT:
                result = row.results[reader]
                return QColor(VERDICT_COLOURS[result.verdict]) if result is not None else None
            return QColor(MUTED) if col is Col.EXPECTED and not row.expected else None
        if role == Qt.ItemDataRole.BackgroundRole:
            failed = any(r is not None and r.verdict in (Verdict.FAILED, Verdict.ERROR) for r in row.results)
            return QColor(FAILURE_BACKGROUND) if failed else None
        if role == Qt.ItemDataRole.FontRole and col in (Col.COMMAND, Col.SW):
            return self._mono
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (Col.LINE, Col.MS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == RESULT_ROLE:
            return row.first
        return None

    def _text(self, row: ResultRow, col: Col, reader: int) -> str:
        if col is Col.LINE:
            where = str(row.place.line)
            return where if row.place.file == self._file else f"{row.place.file}:{where}"
        if col is Col.COMMAND:
            return row.shown
        if col is Col.VERDICT:
            result = row.results[reader]
            return "" if result is None else result.verdict.value
        if col is Col.EXPECTED:
            return row.expected or "(SW checks)"
        first = row.first
        if col is Col.SW:
            sw = sw_of(first)
            return "" if sw is None else f"{sw >> 8:02X} {sw & 0xFF:02X}"
        if col is Col.MEANING:
            return meaning_of(first)
        return f"{first.seconds * 1000:.1f}"

    def _tip(self, row: ResultRow, col: Col, reader: int) -> str | None:
        if col is Col.LINE:
            nth = f", run {row.turn} of this line" if row.turn > 1 else ""
            return f"{row.place}{nth}" + (f"\ntest case: {row.first.case}" if row.first.case else "")
        if col is Col.VERDICT:
            result = row.results[reader]
            return None if result is None else result_tip(self._readers[reader], result)
        if col is Col.EXPECTED:
            return row.expected or "No expectation written: the status-word checks decide"
        if col is Col.COMMAND:
            return row.shown
        results = [(self._readers[i], r) for i, r in enumerate(row.results) if r is not None]
        return "\n\n".join(result_tip(name, r) for name, r in results) or None


class TraceLinks:
    """Finds the trace record of a result. The key is what the trace copies from the command's
    first exchange: its reader, start time (time.time() as a float, the same value in the
    record) and bytes. Two exchanges on one reader never start at the same instant (each takes
    far longer than the clock's step), so the key is unique within a run; only records from
    the run's first trace index on are looked at, indexed as they come."""

    def __init__(self, records: Records, start: int = 0) -> None:
        self._records = records
        self._scanned = start
        self._index: dict[tuple[str, float, bytes], int] = {}

    def seq_of(self, result: StepResult) -> int | None:
        exchanges = result.exchanges
        if not exchanges:
            return None  # refused before anything was sent (a malformed command): nothing traced
        return self.seq_of_exchange(exchanges[0])

    def seq_of_exchange(self, first: Exchange) -> int | None:
        """The record of a command whose first exchange is `first` (an analysis's replies too)."""
        records, end = self._records, len(self._records)
        for i in range(self._scanned, end):
            r = records[i]
            if r.kind is Kind.EXCHANGE and r.parent is None:
                self._index[(r.reader, r.time, r.command)] = r.seq
        self._scanned = end
        return self._index.get((first.reader, first.started, first.command))
