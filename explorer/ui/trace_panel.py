"""The trace log panel: every exchange and event of a TraceStore, live,
filtered, folded, copied and exported; the selected record in full below.

GUI thread only. The store fills from reader threads; a 100 ms timer takes
what came in (`TraceTableModel.refresh`), and the view follows the end when
it was already there. Filters are worked out by the model off this thread;
the search box waits for a pause in the typing (SEARCH_PAUSE_MS) before it
asks, so a word typed into a million-record trace starts one search, not
one per key. Exports run on a short-lived thread too: a million records take
seconds to write and the window must not wait on them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer, Signal, SignalInstance
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

from explorer.trace.export import CONTROL, ExportFormat, write_export
from explorer.trace.filter import SwClass, TraceFilter
from explorer.trace.records import Kind, TraceRecord
from explorer.trace.store import TraceStore
from explorer.ui.background import Background
from explorer.ui.console_transcript import MUTED
from explorer.ui.splitters import stacked
from explorer.ui.trace_columns import ColumnFitter
from explorer.ui.trace_detail import TraceDetail
from explorer.ui.trace_model import RECORD_ROLE, TraceTableModel, rows_text

REVEAL_KEY = "trace/reveal_secrets"
_ALL = "All"
_CLASSES = (("All results", None), ("Failures", frozenset({SwClass.ERROR})),
            ("Warnings and failures", frozenset({SwClass.WARNING, SwClass.ERROR})),
            ("Successes", frozenset({SwClass.SUCCESS})), ("Events", frozenset({SwClass.EVENT})))
SEARCH_PAUSE_MS = 200  # typing pauses this long before the search starts


class TracePanel(QWidget):
    exported = Signal(str, str)  # path, error
    #: From a row's menu: put the record's command back to work (the window wires them to the console).
    send_again = Signal(object)  # TraceRecord
    edit_in_console = Signal(object)  # TraceRecord

    def __init__(self, store: TraceStore, settings: QSettings, parent: QWidget | None = None,
                 live: bool = True, values: tuple[Iterable[str], Iterable[str]] | None = None) -> None:
        """`values`: the readers and origins of the store's records when already
        known (an opened trace learns them on its reading thread)."""
        super().__init__(parent)
        self._settings = settings
        self._readers: set[str] = set()
        self._origins: set[str] = set()
        self._noted = 0
        self._keep_seq: int | None = None  # the record selected when the filter changed
        self.model = TraceTableModel(store, self)
        self.model.set_reveal_secrets(self.reveal_secrets)
        self._build()
        if values is not None:
            self._add_values(*values)
            self._noted = len(store)
        self._note_new_values()
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self.poll)
        if live:
            self._timer.start()
        self._background = Background(self)

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
        self.fold_box.setToolTip("Hide GET RESPONSE and re-send steps; their command shows how many "
                                 "and where they ended (the data joined, the last SW)")
        for box in (self.reader_box, self.origin_box, self.class_box):
            box.currentIndexChanged.connect(self._apply_filter)
        self.fold_box.toggled.connect(self._apply_filter)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(SEARCH_PAUSE_MS)
        self._pause.timeout.connect(self._apply_filter)
        self.search.textChanged.connect(self._pause.start)
        self.model.filtered.connect(self._filtered)
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
        for label, box, tip in (("Reader", self.reader_box, "Show the records of one reader"),
                                ("Origin", self.origin_box, "Show what one source sent (console, "
                                 "script, GET RESPONSE…) or one kind of event"),
                                ("Result", self.class_box, "Show failures, warnings, successes or events")):
            caption = QLabel(label)
            caption.setBuddy(box)
            box.setToolTip(tip)
            choices.addWidget(caption)
            choices.addWidget(box, 1)
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
        self.columns = ColumnFitter(self.view)
        self.view.selectionModel().currentRowChanged.connect(self._row_changed)
        copy = QAction("Copy rows", self.view)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_rows)
        self.view.addAction(copy)
        self.send_again_action = QAction("Send again", self.view)
        self.send_again_action.setToolTip("Send this command again to its reader, from the console")
        self.send_again_action.triggered.connect(lambda: self._command_action(self.send_again))
        self.edit_action = QAction("Edit in console", self.view)
        self.edit_action.setToolTip("Put this command in the console, for its reader, to change and send")
        self.edit_action.triggered.connect(lambda: self._command_action(self.edit_in_console))
        for action in (self.send_again_action, self.edit_action):
            action.setEnabled(False)
            self.view.addAction(action)
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
        new = store.since(self._noted)
        self._add_values((r.reader for r in new), (r.origin for r in new))
        self._noted = len(store)

    def _add_values(self, readers: Iterable[str], origins: Iterable[str]) -> None:
        for reader in readers:
            if reader and reader not in self._readers:
                self._readers.add(reader)
                self.reader_box.addItem(reader)
        for origin in origins:
            if origin not in self._origins:
                self._origins.add(origin)
                self.origin_box.addItem(origin)

    def _update_status(self) -> None:
        journal = self.model.store.journal
        where = f"; journal {journal.path}" if journal is not None else ""
        total = len(self.model.store)
        if self.busy:
            self.status.setText(f"Searching {total} records…{where}")
        else:
            self.status.setText(f"{self.model.rowCount()} shown of {total} records{where}")

    # -- filters, selection, copy -------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether the rows shown are about to change: typing paused or a filter being worked out."""
        return self._pause.isActive() or self.model.busy

    def current_filter(self) -> TraceFilter:
        """The filter the widgets ask for."""
        reader, origin = self.reader_box.currentText(), self.origin_box.currentText()
        return TraceFilter(
            readers=None if reader == _ALL else frozenset({reader}),
            origins=None if origin == _ALL else frozenset({origin}),
            classes=_CLASSES[max(0, self.class_box.currentIndex())][1],
            text=self.search.text(),
            fold=self.fold_box.isChecked(),
            reveal=self.reveal_secrets,
        )

    def _apply_filter(self) -> None:
        self._pause.stop()
        wanted = self.current_filter()
        if wanted != self.model.filter:
            self._keep_seq = self._current_seq()
            self.model.set_filter(wanted)
        self._update_status()

    def _current_seq(self) -> int | None:
        current = self.view.currentIndex()
        return self.model.record(current.row()).seq if current.isValid() else None

    def _filtered(self) -> None:
        """The new rows are in: the record that was selected stays selected if it still shows."""
        seq, self._keep_seq = self._keep_seq, None
        if seq is None or not self.select_seq(seq):
            self.detail.show_record(None)
        self._update_status()

    def current_command(self) -> TraceRecord | None:
        """The selected record if it is a command that can be sent again (an APDU exchange)."""
        record = self.view.currentIndex().data(RECORD_ROLE)
        if not isinstance(record, TraceRecord) or record.kind is not Kind.EXCHANGE:
            return None
        return None if record.origin == CONTROL or not record.command else record

    def _command_action(self, signal: SignalInstance) -> None:
        record = self.current_command()
        if record is not None:
            signal.emit(record)

    def _row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.detail.show_record(current.data(RECORD_ROLE) if current.isValid() else None)
        can = self.current_command() is not None
        self.send_again_action.setEnabled(can)
        self.edit_action.setEnabled(can)

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
        self._keep_seq = self._current_seq()  # a search re-runs: masked bytes become searchable or not
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
        records, reveal = self.model.records_later(), self.reveal_secrets

        def work() -> None:
            write_export(path, records(), fmt, reveal_secrets=reveal)

        self._background.run("trace-export", work, lambda _: self._export_finished(path, ""),
                             functools.partial(self._export_failed, path))

    def _export_failed(self, path: str, error: BaseException) -> None:
        if not isinstance(error, OSError):
            raise error  # a bug: the crash dialog reports it
        self._export_finished(path, f"{error.strerror or error} ({path})")

    def _export_finished(self, path: str, error: str) -> None:
        self.status.setText(f"Export failed: {error}" if error else f"Exported to {path}")
        self.exported.emit(path, error)

    def stop(self) -> None:
        self._timer.stop()
        self._pause.stop()
        self.model.stop()
