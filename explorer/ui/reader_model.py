"""The reader tree's model: readers, each with its card when one is in.

Fed with monitor events (`apply`) on the GUI thread. Two levels: a reader row,
and under it at most one card row. Internal ids are stable per reader (not
row numbers), so card indexes stay right when readers above them leave.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase

from explorer.core.hexfmt import to_hex
from explorer.core.reader_events import (
    CardInserted,
    CardRemoved,
    MonitorEvent,
    ReaderAdded,
    ReaderRemoved,
    ReaderStateChanged,
    ServiceLost,
    ServiceRestored,
)
from explorer.core.reader_state import ReaderFlag, flag_words
from explorer.ui.column_headers import ColumnHeaders

AnyIndex = QModelIndex | QPersistentModelIndex
COLUMNS = ("Reader / card", "ATR / state", "Since")
READER_ROLE = Qt.ItemDataRole.UserRole + 1  # the reader name, on both levels
ATR_ROLE = Qt.ItemDataRole.UserRole + 2  # the card's ATR as bytes, on card rows


@dataclass
class _Card:
    atr: bytes
    inserted_at: float


@dataclass
class _Reader:
    key: int
    name: str
    flags: ReaderFlag
    added_at: float
    embedded: bool = False  # in-process: untouched by the PC/SC service's state
    card: _Card | None = field(default=None)


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%H:%M:%S")


class ReaderTreeModel(ColumnHeaders, QAbstractItemModel):
    COLUMNS = COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._readers: list[_Reader] = []
        self._keys = itertools.count(1)
        self._service_up = True
        self._fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._italic = QFont()
        self._italic.setItalic(True)

    # -- what the rest of the window asks -----------------------------------

    @property
    def service_up(self) -> bool:
        return self._service_up

    def reader_names(self) -> list[str]:
        return [r.name for r in self._readers]

    def card_count(self) -> int:
        return sum(r.card is not None for r in self._readers)

    def cards(self) -> dict[str, bytes]:
        """The readers with a card in, and each card's ATR (b"" for a mute card), in tree order."""
        return {r.name: r.card.atr for r in self._readers if r.card is not None}

    def reader_index(self, name: str) -> QModelIndex:
        for row, reader in enumerate(self._readers):
            if reader.name == name:
                return self.index(row, 0)
        return QModelIndex()

    # -- feeding ------------------------------------------------------------

    def apply(self, event: MonitorEvent) -> None:
        match event:
            case ReaderAdded(name, flags, at, embedded):
                if self._find(name) is None:
                    end = len(self._readers)
                    self.beginInsertRows(QModelIndex(), end, end)
                    self._readers.append(_Reader(next(self._keys), name, flags, at, embedded))
                    self.endInsertRows()
            case ReaderRemoved(name, _):
                if (row := self._find(name)) is not None:
                    self.beginRemoveRows(QModelIndex(), row, row)
                    del self._readers[row]
                    self.endRemoveRows()
            case CardInserted(name, atr, at):
                if (row := self._find(name)) is not None:
                    self._set_card(row, _Card(atr, at))
            case CardRemoved(name, _):
                if (row := self._find(name)) is not None:
                    self._set_card(row, None)
            case ReaderStateChanged(name, flags, _):
                if (row := self._find(name)) is not None:
                    self._readers[row].flags = flags
                    self._changed(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
            case ServiceLost():
                self._set_service(False)
            case ServiceRestored():
                self._set_service(True)

    def _find(self, name: str) -> int | None:
        return next((i for i, r in enumerate(self._readers) if r.name == name), None)

    def _set_card(self, row: int, card: _Card | None) -> None:
        reader = self._readers[row]
        parent = self.index(row, 0)
        if reader.card is not None:
            self.beginRemoveRows(parent, 0, 0)
            reader.card = None
            self.endRemoveRows()
        if card is not None:
            self.beginInsertRows(parent, 0, 0)
            reader.card = card
            self.endInsertRows()
        self._changed(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _set_service(self, up: bool) -> None:
        if up == self._service_up:
            return
        self._service_up = up
        if self._readers:
            self._changed(self.index(0, 0), self.index(len(self._readers) - 1, len(COLUMNS) - 1))
            for row, reader in enumerate(self._readers):
                if reader.card is not None:
                    parent = self.index(row, 0)
                    self._changed(self.index(0, 0, parent), self.index(0, len(COLUMNS) - 1, parent))

    def _changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        self.dataChanged.emit(top_left, bottom_right)

    # -- QAbstractItemModel ---------------------------------------------------

    def _reader_of(self, index: AnyIndex) -> tuple[_Reader, bool]:
        """(reader, is_card_row) for a valid index."""
        key = index.internalId()
        if key == 0:
            return self._readers[index.row()], False
        reader = next(r for r in self._readers if r.key == key)
        return reader, True

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:
        if column < 0 or column >= len(COLUMNS) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row < len(self._readers):
                return self.createIndex(row, column, 0)
            return QModelIndex()
        reader, is_card = self._reader_of(parent)
        if is_card or row != 0 or reader.card is None:
            return QModelIndex()
        return self.createIndex(0, column, reader.key)

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        key = index.internalId()
        row = next((i for i, r in enumerate(self._readers) if r.key == key), None)
        return QModelIndex() if row is None else self.createIndex(row, 0, 0)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._readers)
        if parent.column() != 0:
            return 0
        reader, is_card = self._reader_of(parent)
        return 0 if is_card or reader.card is None else 1

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return len(COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        reader, is_card = self._reader_of(index)
        if role == READER_ROLE:
            return reader.name
        if is_card:
            return self._card_data(reader, index.column(), role)
        return self._reader_data(reader, index.column(), role)

    def _greyed(self, reader: _Reader) -> bool:
        return not self._service_up and not reader.embedded

    def is_embedded(self, name: str) -> bool:
        row = self._find(name)
        return row is not None and self._readers[row].embedded

    def _reader_state(self, reader: _Reader) -> str:
        if self._greyed(reader):
            return "state unknown: PC/SC service lost"
        words = flag_words(reader.flags)
        words.insert(0, "card present" if reader.card is not None else "empty")
        if reader.embedded:
            words.append("virtual, in this app")
        return ", ".join(words)

    def _reader_data(self, reader: _Reader, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return (reader.name, self._reader_state(reader), _clock(reader.added_at))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{reader.name}\n{self._reader_state(reader)}\nseen since {_clock(reader.added_at)}"
        if role == Qt.ItemDataRole.ForegroundRole and self._greyed(reader):
            return QColor(Qt.GlobalColor.gray)
        if role == Qt.ItemDataRole.FontRole and self._greyed(reader):
            return self._italic
        return None

    def _card_data(self, reader: _Reader, column: int, role: int) -> Any:
        card = reader.card
        assert card is not None
        mute = not card.atr
        if role == ATR_ROLE:
            return card.atr
        if role == Qt.ItemDataRole.DisplayRole:
            label = "Mute card" if mute else "Card"
            atr = "no ATR (card does not answer)" if mute else to_hex(card.atr)
            return (label, atr, _clock(card.inserted_at))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            atr = "no ATR" if mute else to_hex(card.atr)
            return f"ATR {atr}\n{len(card.atr)} bytes, inserted {_clock(card.inserted_at)}"
        if role == Qt.ItemDataRole.FontRole and column == 1 and not mute:
            return self._fixed
        if role == Qt.ItemDataRole.ForegroundRole:
            if self._greyed(reader):
                return QColor(Qt.GlobalColor.gray)
            if mute:
                return QColor(Qt.GlobalColor.darkRed)
        return None
