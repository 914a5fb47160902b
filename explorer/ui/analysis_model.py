"""The analysis panel's findings: a tree model over each analyzer's tree of `Finding`s, three
columns (name, value, explanation), sensitive values masked unless revealed. No widgets: tests
drive it directly. GUI thread only.

A top-level row is one analyzer (its title; why it stopped early, if it did, in red). Below it,
its findings as the analyzer made them. The model never holds a value revealed longer than the
user asks: `set_reveal(False)` repaints the values masked again, and nothing here is saved.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFontDatabase

from explorer.apps.analysis import Analysis, AnalyzerResult
from explorer.apps.findings import Finding
from explorer.core.exchange import Reply
from explorer.ui.console_transcript import MUTED

AnyIndex = QModelIndex | QPersistentModelIndex
FINDING_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's Finding
STOPPED_COLOUR = "#c0162b"


class Col(enum.IntEnum):
    NAME = 0
    VALUE = 1
    EXPLANATION = 2


_HEADERS = {Col.NAME: "Finding", Col.VALUE: "Value", Col.EXPLANATION: "Explanation"}


@dataclass(eq=False)
class _Node:
    finding: Finding
    parent: _Node | None
    row: int
    result: AnalyzerResult | None = None  # set on an analyzer's own (top-level) row
    children: list[_Node] = field(default_factory=list)


def _build(finding: Finding, parent: _Node | None, row: int, result: AnalyzerResult | None = None) -> _Node:
    # An explicit stack: a card's answer decides how deep a tree goes.
    top = _Node(finding, parent, row, result)
    stack = [top]
    while stack:
        node = stack.pop()
        node.children = [_Node(child, node, i) for i, child in enumerate(node.finding.children)]
        stack.extend(node.children)
    return top


class FindingsModel(QAbstractItemModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.reveal = False
        self._tops: list[_Node] = []
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def set_analysis(self, analysis: Analysis | None) -> None:
        self.beginResetModel()
        self.analysis = analysis
        results = analysis.results if analysis is not None else ()
        self._tops = [_build(r.finding, None, i, r) for i, r in enumerate(results)]
        self.endResetModel()

    def set_reveal(self, reveal: bool) -> None:
        if reveal == self.reveal:
            return
        self.reveal = reveal
        self._changed_values(QModelIndex())

    def _changed_values(self, parent: QModelIndex) -> None:
        rows = self.rowCount(parent)
        if rows:
            self.dataChanged.emit(self.index(0, Col.VALUE, parent), self.index(rows - 1, Col.VALUE, parent))
        for row in range(rows):
            self._changed_values(self.index(row, 0, parent))

    # -- what a row stands for ---------------------------------------------------------------

    def finding(self, index: AnyIndex) -> Finding | None:
        node = self._node(index)
        return node.finding if node is not None else None

    def reply_of(self, finding: Finding) -> Reply | None:
        """The reply a finding's bytes are in, None when it has no source (a group, a note)."""
        analysis, source = self.analysis, finding.source
        if analysis is None or source is None or not 0 <= source.exchange < len(analysis.replies):
            return None
        return analysis.replies[source.exchange]

    def hidden_spans(self, exchange: int) -> list[tuple[int, int]]:
        """The response bytes of `exchange` that sensitive findings came from: shown masked
        wherever bytes are shown, unless revealed."""
        if self.reveal or self.analysis is None:
            return []
        return [(f.source.start, f.source.end) for r in self.analysis.results for _, f in r.finding.walk()
                if f.sensitive and f.source is not None and f.source.exchange == exchange]

    def index_of(self, name: str) -> QModelIndex:
        """The first row (depth first) whose finding is called `name` (tests and summaries)."""
        stack = [self.index(row, 0) for row in reversed(range(self.rowCount()))]
        while stack:
            index = stack.pop()
            if index.data() == name:
                return index
            stack.extend(self.index(row, 0, index) for row in reversed(range(self.rowCount(index))))
        return QModelIndex()

    def _node(self, index: AnyIndex) -> _Node | None:
        if not index.isValid():
            return None
        node = index.internalPointer()
        return node if isinstance(node, _Node) else None

    # -- QAbstractItemModel -----------------------------------------------------------------

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:
        if not 0 <= column < len(Col):
            return QModelIndex()
        owner = self._node(parent)
        rows = self._tops if owner is None else owner.children
        if not 0 <= row < len(rows):
            return QModelIndex()
        return self.createIndex(row, column, rows[row])

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        node = self._node(index)
        if node is None or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        owner = self._node(parent)
        return len(self._tops) if owner is None else len(owner.children)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return len(Col)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(Col):
            return _HEADERS[Col(section)]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node(index)
        if node is None:
            return None
        col, f = Col(index.column()), node.finding
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(node, col, role == Qt.ItemDataRole.ToolTipRole)
        if role == Qt.ItemDataRole.ForegroundRole:
            if node.result is not None and node.result.error and col is Col.EXPLANATION:
                return QColor(STOPPED_COLOUR)
            return QColor(MUTED) if col is Col.EXPLANATION else None
        if role == Qt.ItemDataRole.FontRole and col is Col.VALUE and f.raw:
            return self._mono
        if role == FINDING_ROLE:
            return f
        return None

    def _text(self, node: _Node, col: Col, tip: bool) -> str | None:
        f = node.finding
        if col is Col.NAME:
            return f.name
        if col is Col.VALUE:
            value = f.shown(self.reveal)
            if tip and f.sensitive and not self.reveal:
                return f"{value}\n(masked: tick Reveal sensitive values to see it)"
            return value or (None if tip else "")
        result = node.result
        if result is not None and result.error:
            return f"stopped: {result.error}"
        if tip and f.source is not None and f.source.end > f.source.start:
            where = f"exchange {f.source.exchange}, response bytes {f.source.start}-{f.source.end - 1}"
            return f"{f.explanation}\n({where})" if f.explanation else where
        return f.explanation or (None if tip else "")
