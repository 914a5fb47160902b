"""The ATR panel's tree model: the decoded fields of one ATR, with the bytes
each came from (SPAN_ROLE) and a hover mark the byte view drives.

GUI thread only. Rows are addressed by their path of row numbers, the same
paths `atr_fields.field_path` returns for a byte, so the byte view and the
tree talk in one currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase

from explorer.core.atr_fields import AtrField, Level, span_text
from explorer.ui.column_headers import ColumnHeaders

AnyIndex = QModelIndex | QPersistentModelIndex
COLUMNS = ("Field", "Value", "Meaning")
SPAN_ROLE = Qt.ItemDataRole.UserRole + 1  # (start, end) of the field's bytes
PATH_ROLE = Qt.ItemDataRole.UserRole + 2  # tuple of row numbers from the top
LEVEL_COLOURS = {Level.ERROR: "#c0162b", Level.WARNING: "#b35c00", Level.NOTE: "#6b6b6b"}
HOVER_COLOUR = "#fff1a8"


@dataclass(frozen=True)
class _Node:
    field: AtrField
    path: tuple[int, ...]
    parent: int  # node number of the parent, -1 at the top
    children: tuple[int, ...]


class AtrFieldModel(ColumnHeaders, QAbstractItemModel):
    COLUMNS = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._nodes: list[_Node] = []
        self._top: tuple[int, ...] = ()
        self._by_path: dict[tuple[int, ...], int] = {}
        self._hover: tuple[int, ...] | None = None
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def set_fields(self, fields: Sequence[AtrField]) -> None:
        self.beginResetModel()
        self._nodes, self._by_path, self._hover = [], {}, None
        self._top = self._add(fields, (), -1)
        self.endResetModel()

    def _add(self, fields: Sequence[AtrField], path: tuple[int, ...], parent: int) -> tuple[int, ...]:
        numbers = []
        for row, f in enumerate(fields):
            number = len(self._nodes)
            self._nodes.append(_Node(f, (*path, row), parent, ()))
            self._by_path[(*path, row)] = number
            children = self._add(f.children, (*path, row), number)
            self._nodes[number] = _Node(f, (*path, row), parent, children)
            numbers.append(number)
        return tuple(numbers)

    def index_for_path(self, path: Sequence[int]) -> QModelIndex:
        number = self._by_path.get(tuple(path))
        if number is None:
            return QModelIndex()
        return self.createIndex(self._nodes[number].path[-1], 0, number)

    def set_hover(self, path: Sequence[int] | None) -> None:
        """Mark the row a hovered byte belongs to (None clears it)."""
        new = tuple(path) if path else None
        if new == self._hover:
            return
        old, self._hover = self._hover, new
        for p in (old, new):
            index = self.index_for_path(p) if p else QModelIndex()
            if index.isValid():
                self.dataChanged.emit(index, index.siblingAtColumn(len(COLUMNS) - 1),
                                      [Qt.ItemDataRole.BackgroundRole])

    # -- QAbstractItemModel ----------------------------------------------------------

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:
        siblings = self._nodes[parent.internalId()].children if parent.isValid() else self._top
        if not (0 <= row < len(siblings) and 0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, siblings[row])

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        up = self._nodes[index.internalId()].parent
        if up < 0:
            return QModelIndex()
        return self.createIndex(self._nodes[up].path[-1], 0, up)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._top)
        if parent.column() != 0:
            return 0
        return len(self._nodes[parent.internalId()].children)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return len(COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._nodes[index.internalId()]
        f, column = node.field, index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (f.name, f.value, f.meaning)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{f.name} ({span_text(f.start, f.end)}): {f.meaning}"
        if role == SPAN_ROLE:
            return (f.start, f.end)
        if role == PATH_ROLE:
            return node.path
        if role == Qt.ItemDataRole.FontRole and column == 1:
            return self._mono
        if role == Qt.ItemDataRole.FontRole and column == 0 and node.parent < 0:
            bold = QFont()
            bold.setBold(True)
            return bold
        if role == Qt.ItemDataRole.ForegroundRole and f.level is not None:
            return QColor(LEVEL_COLOURS[f.level])
        if role == Qt.ItemDataRole.BackgroundRole and self._hover == node.path:
            return QColor(HOVER_COLOUR)
        return None
