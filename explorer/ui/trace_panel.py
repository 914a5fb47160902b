"""The trace log panel: every exchange and event of a TraceStore, live,
filtered, folded, copied and exported; the selected record in full below.

GUI thread only. The store fills from reader threads; a 100 ms timer takes
what came in (`TraceTableModel.refresh`), and the view follows the end when
it was already there. Exports run on a short-lived thread: a million records
take seconds to write and the window must not wait on them.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontMetrics, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.trace.export import ExportFormat, write_export
from explorer.trace.filter import SwClass, TraceFilter
from explorer.trace.records import TraceRecord
from explorer.trace.store import TraceStore
from explorer.ui.console_transcript import MUTED
from explorer.ui.splitters import stacked
from explorer.ui.trace_detail import TraceDetail
from explorer.ui.trace_model import RECORD_ROLE, TraceTableModel, rows_text

REVEAL_KEY = "trace/reveal_secrets"
_ALL = "All"
_CLASSES = (("All results", None), ("Failures", frozenset({SwClass.ERROR})),
            ("Warnings and failures", frozenset({SwClass.WARNING, SwClass.ERROR})),
            ("Successes", frozenset({SwClass.SUCCESS})), ("Events", frozenset({SwClass.EVENT})))
_WIDTHS = (70, 128, 70, 150, 110, 130, 260, 50, 280, 60)


class _Exporter(QObject):
    finished = Signal(str, str)  # path, error ("" when it worked)

    def start(self, path: str, records: list[TraceRecord], fmt: ExportFormat, reveal: bool) -> None:
        def run() -> None:
            error = ""
            try:
                write_export(path, records, fmt, reveal_secrets=reveal)
            except OSError as e:
                error = f"{e.strerror or e} ({path})"
            with contextlib.suppress(RuntimeError):  # the panel closed meanwhile
                self.finished.emit(path, error)

        threading.Thread(target=run, name="trace-export", daemon=True).start()


class TracePanel(QWidget):
    exported = Signal(str, str)  # path, error

    def __init__(self, store: TraceStore, settings: QSettings, parent: QWidget | None = None,
                 live: bool = True) -> None:
        super().__init__(parent)
        self._settings = settings
        self._readers: set[str] = set()
        self._origins: set[str] = set()
        self._noted = 0
        self.model = TraceTableModel(store, self)
        self.model.set_reveal_secrets(self.reveal_secrets)
        self._build()
        self._note_new_values()
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self.poll)
        if live:
            self._timer.start()
        self._exporter = _Exporter(self)
        self._exporter.finished.connect(self._export_finished)

    @property
    def reveal_secrets(self) -> bool:
        return bool(self._settings.value(REVEAL_KEY, False, bool))

    # -- layout -----------------------------------------------------------------

    def _build(self) -> None:
        self.reader_box = QComboBox()
        self.reader_box.addItem(_ALL)
        self.origin_box = QComboBox()
        self.origin_box.addItem(_ALL)
        self.class_box = QComboBox()
        for text, _ in _CLASSES:
            self.class_box.addItem(text)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search text or hex (e.g. 6A 82)")
        self.search.setClearButtonEnabled(True)
        self.fold_box = QCheckBox("Fold automatic steps")
        self.fold_box.setToolTip("Hide GET RESPONSE and re-send steps; their command shows how many")
        for box in (self.reader_box, self.origin_box, self.class_box):
            box.currentIndexChanged.connect(self._apply_filter)
        self.search.textChanged.connect(self._apply_filter)
        self.fold_box.toggled.connect(self.model.set_fold)
        self.clear_button = QPushButton("Clear view")
        self.clear_button.setToolTip("Start the view afresh; the journal on disk keeps everything")
        self.clear_button.clicked.connect(self.model.clear_view)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for fmt, label in ((ExportFormat.TEXT, "Text (like a pcsc-spy log)…"),
                           (ExportFormat.JSONL, "JSON Lines…"), (ExportFormat.CSV, "CSV…"),
                           (ExportFormat.HTML, "HTML report…")):
            menu.addAction(label, functools.partial(self.choose_export, fmt))
        menu.addSeparator()
        self.reveal_action = QAction("Reveal PINs and keys", self)
        self.reveal_action.setCheckable(True)
        self.reveal_action.setChecked(self.reveal_secrets)
        self.reveal_action.toggled.connect(self.set_reveal_secrets)
        menu.addAction(self.reveal_action)
        self.export_button.setMenu(menu)
        # Two rows, so the panel fits under the console in a small window.
        choices = QHBoxLayout()
        for w in (self.reader_box, self.origin_box, self.class_box):
            choices.addWidget(w, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.search, 1)
        actions.addWidget(self.fold_box)
        actions.addWidget(self.clear_button)
        actions.addWidget(self.export_button)

        self.view = QTableView()
        self.view.setMinimumHeight(60)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(True)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = self.view.verticalHeader()
        rows.hide()
        # Fixed heights: the view never measures a row, so a million of them cost nothing.
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(QFontMetrics(self.view.font()).height() + 6)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for column, width in enumerate(_WIDTHS):
            header.resizeSection(column, width)
        self.view.selectionModel().currentRowChanged.connect(self._row_changed)
        copy = QAction("Copy rows", self.view)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_rows)
        self.view.addAction(copy)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self.detail = TraceDetail()
        self.detail.reveal_secrets = self.reveal_secrets
        self.status = QLabel()
        self.status.setStyleSheet(f"color: {MUTED}")
        split = stacked(self.view, self.detail, 3, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(choices)
        layout.addLayout(actions)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    # -- live ---------------------------------------------------------------------------

    def poll(self) -> None:
        bar = self.view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        if self.model.refresh():
            self._note_new_values()
            if at_end:
                self.view.scrollToBottom()
        self._update_status()

    def _note_new_values(self) -> None:
        store = self.model.store
        for r in store.since(self._noted):
            if r.reader and r.reader not in self._readers:
                self._readers.add(r.reader)
                self.reader_box.addItem(r.reader)
            if r.origin not in self._origins:
                self._origins.add(r.origin)
                self.origin_box.addItem(r.origin)
        self._noted = len(store)

    def _update_status(self) -> None:
        journal = self.model.store.journal
        where = f"; journal {journal.path}" if journal is not None else ""
        self.status.setText(f"{self.model.rowCount()} shown of {len(self.model.store)} records{where}")

    # -- filters, selection, copy -------------------------------------------------------------

    def _apply_filter(self) -> None:
        reader, origin = self.reader_box.currentText(), self.origin_box.currentText()
        self.model.set_filter(TraceFilter(
            readers=None if reader == _ALL else frozenset({reader}),
            origins=None if origin == _ALL else frozenset({origin}),
            classes=_CLASSES[max(0, self.class_box.currentIndex())][1],
            text=self.search.text(),
        ))
        self._update_status()

    def _row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.detail.show_record(current.data(RECORD_ROLE) if current.isValid() else None)

    def select_seq(self, seq: int) -> bool:
        row = self.model.row_of_seq(seq)
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)
        return True

    def selected_records(self) -> list[TraceRecord]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.record(r) for r in rows]

    def copy_rows(self) -> None:
        QGuiApplication.clipboard().setText(rows_text(self.selected_records(), self.reveal_secrets))

    def set_reveal_secrets(self, reveal: bool) -> None:
        self._settings.setValue(REVEAL_KEY, reveal)
        self.model.set_reveal_secrets(reveal)
        self.detail.reveal_secrets = reveal
        current = self.view.currentIndex()
        self.detail.show_record(current.data(RECORD_ROLE) if current.isValid() else None)

    # -- export --------------------------------------------------------------------------------

    def choose_export(self, fmt: ExportFormat) -> None:
        from PySide6.QtWidgets import QFileDialog  # dialogs are imported when opened

        path, _ = QFileDialog.getSaveFileName(self, "Export the trace as shown",
                                              str(Path.home() / f"trace{fmt.suffix}"))
        if path:
            self.export_view(path, fmt)

    def export_view(self, path: str, fmt: ExportFormat) -> None:
        """Write what the view shows (filters applied) to `path`, off the GUI thread."""
        self.status.setText(f"Exporting {self.model.rowCount()} records to {path}…")
        self._exporter.start(path, self.model.records(), fmt, self.reveal_secrets)

    def _export_finished(self, path: str, error: str) -> None:
        self.status.setText(f"Export failed: {error}" if error else f"Exported to {path}")
        self.exported.emit(path, error)

    def stop(self) -> None:
        self._timer.stop()
