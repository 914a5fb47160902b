"""The reader tree panel: every reader and card, live."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QVBoxLayout, QWidget

from explorer.core.reader_events import CardInserted, MonitorEvent, ReaderAdded, ReaderRemoved
from explorer.ui.reader_model import ATR_ROLE, READER_ROLE, ReaderTreeModel


class ReaderTreePanel(QWidget):
    """Owns the reader model; `apply` feeds it monitor events (GUI thread)."""

    #: (reader name, ATR bytes or None when a reader row is selected)
    selection_changed = Signal(str, object)
    #: (reader name, or '' off any row; global position) on a right click
    context_requested = Signal(str, QPoint)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ReaderTreeModel(self)
        self.view = QTreeView(self)
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        reader = index.data(READER_ROLE) if index.isValid() else ""
        self.context_requested.emit(reader, self.view.viewport().mapToGlobal(pos))

    def apply(self, event: MonitorEvent) -> None:
        if isinstance(event, ReaderRemoved) and self.selected_reader() == event.reader:
            # Left to itself, the view makes a neighbour current: the console and the ATR panel
            # would turn silently to another reader, and a command meant for the removed one
            # would go to that one's card. Nothing is selected until the tester chooses.
            self.view.selectionModel().clear()
        self.model.apply(event)
        # A new card is what the tester came for: show it.
        if isinstance(event, CardInserted | ReaderAdded):
            index = self.model.reader_index(event.reader)
            self.view.expand(index)

    def selected_reader(self) -> str | None:
        current = self.view.currentIndex()
        return current.data(READER_ROLE) if current.isValid() else None

    def select_card(self, reader: str) -> None:
        """Make the reader's card (or the reader, when empty) the current row."""
        index = self.model.reader_index(reader)
        if not index.isValid():
            return
        card = self.model.index(0, 0, index)
        self.view.setCurrentIndex(card if card.isValid() else index)

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():
            self.selection_changed.emit(current.data(READER_ROLE), current.data(ATR_ROLE))
