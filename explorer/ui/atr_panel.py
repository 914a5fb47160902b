"""The ATR panel: the selected card's ATR (or one typed or pasted), byte by
byte, with every field explained, the findings, and what card the pcsc-tools
list says it is.

Byte and field point at each other: hovering a byte marks its field in the
tree (and the other bytes of that field), clicking it selects the field;
selecting a field highlights its bytes. GUI thread only; the list is read on
a short-lived thread so a slow disk never freezes the window, once the panel
has been painted (never before the window's first frame) or as soon as an ATR
needs it. ATR decoding and the list are imported when first used.
"""

from __future__ import annotations

import functools
import html
import re
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTextBrowser,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from explorer.core.atr_fields import AtrField, Level, field_by_path, field_path, span_text
from explorer.core.hexfmt import HexError, parse_hex, to_hex
from explorer.core.reader_events import CardInserted, CardRemoved, MonitorEvent
from explorer.ui.atr_bytes_view import AtrBytesView, ByteCell
from explorer.ui.atr_model import LEVEL_COLOURS, PATH_ROLE, SPAN_ROLE, AtrFieldModel
from explorer.ui.console_transcript import MUTED
from explorer.ui.message_line import MessageLine
from explorer.ui.relay import post, weak_callback
from explorer.ui.splitters import stacked

if TYPE_CHECKING:
    from PySide6.QtCore import QUrl

    from explorer.core.atr import Atr
    from explorer.core.atrdb import AtrDatabase, AtrMatch

DATABASE_KEY = "atr/database_path"
_LABEL_PREFIX = re.compile(r"^\s*(ATR\s*[:=]?\s*)", re.IGNORECASE)
_URL = re.compile(r"(https?://[^\s<>\"]+)")
_KINDS = {"TS": "format", "T0": "format", "Historical bytes": "historical", "TCK": "check",
          "Extra bytes": "extra"}


def byte_cells(atr: Atr) -> list[ByteCell]:
    """One cell per byte, labelled with its role in the ATR."""
    cells: list[ByteCell] = []
    for f in atr.fields:
        kind = _KINDS.get(f.name, "interface")
        error = f.level is Level.ERROR
        for i in range(f.start, f.end):
            if kind == "historical":
                label = f"H{i - f.start + 1}"
            elif kind == "extra":
                label = f"+{i - f.start + 1}"
            else:
                label = f.name
            cells.append(ByteCell(atr.raw[i], label, kind, error))
    return cells


def read_list(path: str | None) -> AtrDatabase | None:
    """The panel's default list reader, run on the loader's thread (where the list code is imported)."""
    from explorer.core.atrdb import load_database

    return load_database(path)


class _DatabaseLoader:
    """Reads the list on a thread; `done(db)` is called on the GUI thread. The thread holds neither
    the panel nor any Qt object (explorer.ui.relay): the panel may go while the list is read."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []

    def start(self, read: Callable[[], AtrDatabase | None],
              done: Callable[[AtrDatabase | None], None]) -> None:
        target = weak_callback(done)

        def run() -> None:
            post(target, read())

        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=run, name="atr-database", daemon=True)
        self._threads.append(thread)
        thread.start()

    def wait(self, timeout: float) -> None:
        """Let the reads in flight finish (each for at most `timeout` seconds)."""
        for thread in self._threads:
            thread.join(timeout)


class AtrPanel(QWidget):
    decoded = Signal(object)  # Atr, after each decode (None when the input is cleared or bad)
    database_ready = Signal(object)  # AtrDatabase | None

    def __init__(self, settings: QSettings, parent: QWidget | None = None,
                 read_database: Callable[[str | None], AtrDatabase | None] = read_list) -> None:
        super().__init__(parent)
        self._settings = settings
        self._read_database = read_database
        self._atr: Atr | None = None
        self._matches: tuple[AtrMatch, ...] = ()
        self._db: AtrDatabase | None = None
        self._db_loading = True  # until the first read is over
        self._db_requested = False
        self._stopped = False
        self._reader: str | None = None
        self._build()
        self._loader = _DatabaseLoader()
        # The list is read once the panel is painted: never in the way of the window's first frame.
        self.installEventFilter(self)
        self._show_identification()

    # -- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.source_label = QLabel("No card selected")
        self.source_label.setStyleSheet(f"color: {MUTED}")
        self.edit = QLineEdit()
        self.edit.setFont(mono)
        self.edit.setPlaceholderText("Type or paste an ATR, e.g. 3B 8F 80 01 80 4F 0C A0 00 00 03 06 …")
        self.edit.setClearButtonEnabled(True)
        self.edit.textEdited.connect(self._typed)
        # One split button, so the panel stays narrow enough to sit beside the console.
        self.copy_text_action = QAction("Copy as text", self)
        self.copy_text_action.setToolTip("Copy the whole decode, findings and identification as plain text")
        self.copy_text_action.triggered.connect(self.copy_text)
        self.copy_json_action = QAction("Copy as JSON", self)
        self.copy_json_action.setToolTip("Copy the decode as JSON (the schema of card-explorer atr --json)")
        self.copy_json_action.triggered.connect(self.copy_json)
        self.copy_button = QToolButton()
        self.copy_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.copy_button.setDefaultAction(self.copy_text_action)
        menu = QMenu(self.copy_button)
        menu.addActions([self.copy_text_action, self.copy_json_action])
        self.copy_button.setMenu(menu)
        self.list_button = QToolButton()
        self.list_button.setText("List…")
        self.list_button.setToolTip("Choose the smartcard_list.txt cards are identified with")
        self.list_button.clicked.connect(self._choose_database)
        top = QHBoxLayout()
        top.addWidget(self.edit, 1)
        top.addWidget(self.copy_button)
        top.addWidget(self.list_button)
        # The error and the summary take turns in one place (a bad ATR decodes to nothing), of a
        # fixed height: what is below never moves as the tester types.
        self.error_label = MessageLine(2)
        self.error_label.setStyleSheet(f"color: {LEVEL_COLOURS[Level.ERROR]}")
        self.error_label.hide()
        self.summary_label = MessageLine(2)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        verdict = QGridLayout()
        verdict.addWidget(self.summary_label, 0, 0)
        verdict.addWidget(self.error_label, 0, 0)
        self.bytes_view = AtrBytesView()
        self.bytes_view.hovered.connect(self._byte_hovered)
        self.bytes_view.clicked.connect(self.select_byte)
        # The meaning column is cut at the panel's edge: the selected field is spelt out in full here.
        self.detail_label = MessageLine(2)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.model = AtrFieldModel(self)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setMouseTracking(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setWordWrap(False)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.tree.selectionModel().currentChanged.connect(self._field_selected)
        self.tree.entered.connect(self._field_hovered)
        self.tree.viewport().installEventFilter(self)

        self.info = QTextBrowser()
        self.info.setOpenLinks(False)
        self.info.anchorClicked.connect(self._link_clicked)
        splitter = stacked(self.tree, self.info, 3, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.source_label)
        layout.addLayout(top)
        layout.addLayout(verdict)
        layout.addWidget(self.bytes_view)
        layout.addWidget(self.detail_label)
        layout.addWidget(splitter, 1)
        self._update_buttons()

    # -- what to decode --------------------------------------------------------------

    def set_target(self, reader: str, atr: bytes | None) -> None:
        """The reader tree's selection: a card row decodes its ATR; a reader row
        without a card leaves whatever is shown, so a typed ATR survives."""
        self._reader = reader
        if atr is not None:
            self.show_atr(atr, f"Card in {reader}")

    def on_monitor_event(self, event: MonitorEvent) -> None:
        if self._reader is None or getattr(event, "reader", None) != self._reader:
            return
        if isinstance(event, CardInserted):
            self.show_atr(event.atr, f"Card in {event.reader}")
        elif isinstance(event, CardRemoved) and self.source_label.text() == f"Card in {event.reader}":
            self.source_label.setText(f"Card removed from {event.reader}: its last ATR")

    def show_atr(self, raw: bytes, source: str) -> None:
        self.edit.setText(to_hex(raw))
        self.edit.setCursorPosition(0)  # a long ATR is read from its start
        self.source_label.setText(source)
        self._decode(raw)

    def _typed(self, text: str) -> None:
        self.source_label.setText("Typed ATR")
        # The label becomes blanks, not nothing: columns in errors stay those the tester sees.
        cleaned = _LABEL_PREFIX.sub(lambda m: " " * len(m.group(0)), text)
        if not cleaned.strip():
            self.error_label.hide()
            self._decode(None)
            return
        try:
            raw = parse_hex(cleaned)
        except HexError as e:
            self.error_label.setText(f"Not an ATR: {e}. Nothing decoded.")
            self.error_label.show()
            self._decode(None)
            return
        self.error_label.hide()
        self._decode(raw)

    def _decode(self, raw: bytes | None) -> None:
        from explorer.core.atr import decode_atr
        from explorer.core.atr_report import summary

        if raw is not None:
            self._want_database()
        self._atr = decode_atr(raw) if raw is not None else None
        self._matches = self._lookup()
        atr = self._atr
        self.model.set_fields(atr.fields if atr else ())
        self.tree.expandAll()
        self._fit_columns()
        self.detail_label.setText("")
        self.bytes_view.set_cells(byte_cells(atr) if atr else [])
        self.summary_label.setText(f"<b>{html.escape(summary(atr))}</b>" if atr else "")
        self._show_identification()
        self._update_buttons()
        self.decoded.emit(atr)

    def _lookup(self) -> tuple[AtrMatch, ...]:
        if self._atr is None or self._db is None or not self._atr.raw:
            return ()
        return self._db.lookup(self._atr.raw)

    @property
    def atr(self) -> Atr | None:
        return self._atr

    @property
    def matches(self) -> tuple[AtrMatch, ...]:
        return self._matches

    # -- byte <-> field ------------------------------------------------------------------

    def select_byte(self, index: int) -> None:
        """Select the field that explains byte `index` (what a click does)."""
        if self._atr is None:
            return
        path = field_path(self._atr.fields, index)
        self.select_path(path)
        self.bytes_view.set_selected(self.bytes_view.selected_span, current=index)

    def select_path(self, path: Sequence[int]) -> None:
        index = self.model.index_for_path(path)
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)

    def selected_field(self) -> AtrField | None:
        if self._atr is None:
            return None
        path = self.tree.currentIndex().data(PATH_ROLE)
        return field_by_path(self._atr.fields, path) if path else None

    def _field_selected(self, current: QModelIndex, previous: QModelIndex) -> None:
        span = current.data(SPAN_ROLE) if current.isValid() else None
        self.bytes_view.set_selected(span if span and span[1] > span[0] else None)
        f = self.selected_field()
        if f is None:
            self.detail_label.setText("")
            return
        where = span_text(f.start, f.end)
        self.detail_label.setText(f"<b>{html.escape(f.name)}</b> = <code>{html.escape(f.value)}</code> "
                                  f'<span style="color:{MUTED}">({where})</span>: {html.escape(f.meaning)}')

    def _byte_hovered(self, index: int) -> None:
        if self._atr is None or index < 0:
            self.model.set_hover(None)
            self.bytes_view.set_hover(None)
            return
        path = field_path(self._atr.fields, index)
        self.model.set_hover(path)
        hovered = field_by_path(self._atr.fields, path)
        self.bytes_view.set_hover((hovered.start, hovered.end) if hovered else None)
        target = self.model.index_for_path(path)
        if target.isValid():
            self.tree.scrollTo(target)

    def _field_hovered(self, index: QModelIndex) -> None:
        span = index.data(SPAN_ROLE)
        self.bytes_view.set_hover(span if span and span[1] > span[0] else None)

    def _fit_columns(self) -> None:
        """Field and Value as wide as their contents, but at most 35 % and 25 % of the view: a long
        name or historical-bytes value must not push the meanings out of sight, at any panel width."""
        width = self.tree.viewport().width()
        header = self.tree.header()
        for column, share in ((0, 0.35), (1, 0.25)):
            self.tree.resizeColumnToContents(column)
            header.resizeSection(column, min(header.sectionSize(column), max(60, int(width * share))))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.tree.viewport() and event.type() == QEvent.Type.Leave:
            self.bytes_view.set_hover(None)
        elif watched is self.tree.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        elif watched is self and event.type() == QEvent.Type.Paint:
            self.removeEventFilter(self)
            QTimer.singleShot(0, self._want_database)  # runs once this frame is painted
        return super().eventFilter(watched, event)

    # -- findings and identification ---------------------------------------------------

    def _show_identification(self) -> None:
        parts: list[str] = []
        atr = self._atr
        if atr is not None and atr.findings:
            parts.append("<h4>Findings</h4><ul>")
            for f in atr.findings:
                where = span_text(f.start, f.end)
                parts.append(f'<li style="color:{LEVEL_COLOURS[f.level]}">{html.escape(f.message)} '
                             f'(<a href="bytes:{f.start}:{f.end}">{where}</a>)</li>')
            parts.append("</ul>")
        parts.append("<h4>Identification</h4>")
        if self._db_loading:
            parts.append(f'<p style="color:{MUTED}">Reading the ATR list…</p>')
        elif self._db is None:
            from explorer.core.atrdb import database_paths

            tried = ", ".join(html.escape(str(p)) for p in database_paths(self._user_path()))
            parts.append(f"<p>No smartcard_list.txt found (looked in {tried}).</p>")
        elif atr is None or not atr.raw:
            parts.append(f'<p style="color:{MUTED}">{self._db_size()}</p>')
        elif not self._matches:
            parts.append(f"<p>Not in the list ({self._db_size()}).</p>")
        for m in self._matches:
            kind = "exact ATR" if m.exact else "matches the pattern"
            parts.append(f'<p><code>{html.escape(m.entry.pattern)}</code> '
                         f'<span style="color:{MUTED}">({kind}, line {m.entry.line})</span><br>')
            parts.append("<br>".join(_URL.sub(r'<a href="\1">\1</a>', html.escape(d))
                                     for d in m.entry.descriptions) + "</p>")
        self.info.setHtml("".join(parts))

    def _db_size(self) -> str:
        assert self._db is not None
        return f"{len(self._db)} ATRs in {html.escape(self._db.source)}"

    def _link_clicked(self, url: QUrl) -> None:
        if url.scheme() == "bytes":
            start, end = (int(x) for x in url.path().split(":"))
            self.bytes_view.set_selected((start, end) if end > start else None)
        else:
            from PySide6.QtGui import QDesktopServices

            QDesktopServices.openUrl(url)

    # -- the list -------------------------------------------------------------------------

    def _user_path(self) -> str | None:
        value = self._settings.value(DATABASE_KEY, "")
        return str(value) if value else None

    def stop(self, timeout: float = 2.0) -> None:
        """Before the window goes: a list read in flight finishes first, so its thread never reports
        to a panel being deleted (quitting just after start, as the start-up bench does, raced it);
        none starts afterwards."""
        self._stopped = True
        self._loader.wait(timeout)

    def _want_database(self) -> None:
        """Read the list unless it is read or being read (the panel was painted, or an ATR needs it)."""
        if not self._db_requested:
            self._load_database()

    def _load_database(self) -> None:
        if self._stopped:
            return
        self._db_requested = True
        self._db_loading = True
        path = self._user_path()
        self._loader.start(functools.partial(self._read_database, path), self._database_loaded)

    def _database_loaded(self, db: AtrDatabase | None) -> None:
        self._db, self._db_loading = db, False
        self._matches = self._lookup()
        self._show_identification()
        self.database_ready.emit(db)

    def _choose_database(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # dialogs are imported when opened

        path, _ = QFileDialog.getOpenFileName(self, "ATR list (smartcard_list.txt)", self._user_path() or "",
                                              "ATR lists (*.txt);;All files (*)")
        if path:
            self.set_database_path(path)

    def set_database_path(self, path: str | None) -> None:
        self._settings.setValue(DATABASE_KEY, path or "")
        self._load_database()
        self._show_identification()

    # -- copy ----------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        for action in (self.copy_text_action, self.copy_json_action):
            action.setEnabled(self._atr is not None)

    def report_text(self) -> str:
        if self._atr is None:
            return ""
        from explorer.core.atr_report import atr_text

        return atr_text(self._atr, self._matches, self._db.source if self._db else None)

    def report_json(self) -> str:
        if self._atr is None:
            return ""
        import json

        from explorer.core.atr_report import atr_json

        return json.dumps(atr_json(self._atr, self._matches), indent=2, ensure_ascii=False)

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(self.report_text())

    def copy_json(self) -> None:
        QGuiApplication.clipboard().setText(self.report_json())
