"""The Analysis dock: Analyze the card in the selected reader with the chosen analyzers, the tree
of findings with their explanations, the bytes each was read from, and the analysis exported.

Thin: the job is ui/analysis_run.py (on the reader's worker), the tree ui/analysis_model.py, the
bytes ui/analysis_bytes.py, the reports explorer/apps/report.py. GUI thread only.

Two switches are never saved: "Allow commands that change the card" is off at start and off
again after every run (an EMV GET PROCESSING OPTIONS raises the card's ATC: allowed once, not
for good), and "Reveal sensitive values" starts off in every session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QFontDatabase, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QToolBar,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from explorer.apps.analysis import Analysis
from explorer.core.status_words import Severity
from explorer.link.manager import ConnectionManager
from explorer.trace.records import Records
from explorer.ui.analysis_bytes import FindingBytes
from explorer.ui.analysis_model import Col, FindingsModel
from explorer.ui.analysis_run import AnalysisEnd, AnalysisJob, Progress
from explorer.ui.background_write import BackgroundWrite, write_private_text
from explorer.ui.console_transcript import MUTED, SEVERITY_COLOURS
from explorer.ui.message_line import MessageLine
from explorer.ui.mrz_entry import MrzEntry
from explorer.ui.progress_line import ProgressLine
from explorer.ui.script_results import TraceLinks
from explorer.ui.splitters import stacked

_ERROR = SEVERITY_COLOURS[Severity.ERROR]
_EXPAND_ALL = 300  # findings: a tree up to this size opens in full, a larger one two levels deep
_SKIPPED_KEY = "analysis/skipped"  # analyzers unticked (new ones are ticked)
#: kind -> (what the menu and the file dialog call it, file suffix)
EXPORTS = {"json": ("JSON", ".json"), "html": ("HTML report", ".html")}


def _report(kind: str, analysis: Analysis, reveal: bool) -> str:
    """Made on the writing thread: a large analysis must not hold the window."""
    from explorer.apps.report import analysis_html, analysis_json

    if kind == "html":
        return analysis_html(analysis, reveal)
    import json

    return json.dumps(analysis_json(analysis, reveal), ensure_ascii=False, indent=1) + "\n"


class AnalysisPanel(QWidget):
    record_wanted = Signal(int)  # the trace record (seq) of the selected finding's command
    exported = Signal(str, str)  # path, error ("" when written)
    finished = Signal()  # an analysis ended (or never started: the message says why)

    def __init__(self, manager: ConnectionManager, records: Records, settings: QSettings,
                 selected_reader: Callable[[], str | None], cards: Callable[[], Mapping[str, bytes]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._manager, self._records, self._settings = manager, records, settings
        self._selected_reader, self._cards = selected_reader, cards
        skipped = settings.value(_SKIPPED_KEY, [], list)
        self._skipped: set[str] = {str(k) for k in skipped} if isinstance(skipped, list) else set()
        self._titles: dict[str, str] = {}
        self.job: AnalysisJob | None = None
        self.links = TraceLinks(records)
        self.model = FindingsModel(self)
        self._writer = BackgroundWrite(self)
        self._writer.finished.connect(self._written)
        self._build()
        self._update_controls()

    def _build(self) -> None:
        bar = QToolBar()
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.analyze_action = QAction("Analyze", self)
        self.analyze_action.triggered.connect(self.analyze)
        self.cancel_action = QAction("Cancel", self)
        self.cancel_action.setToolTip("Stop before the next command; what was found so far stays")
        self.cancel_action.triggered.connect(self.cancel)
        bar.addAction(self.analyze_action)
        bar.addAction(self.cancel_action)
        bar.addSeparator()
        self.analyzers_button = QToolButton()
        self.analyzers_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.analyzers_menu = QMenu(self.analyzers_button)
        self.analyzers_menu.aboutToShow.connect(self._fill_analyzers)
        self.analyzers_button.setMenu(self.analyzers_menu)
        bar.addWidget(self.analyzers_button)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.export_actions = [menu.addAction(f"{what}…", functools.partial(self.choose_export, kind))
                               for kind, (what, _) in EXPORTS.items()]
        for action in self.export_actions:
            action.setToolTip("The analysis shown, sensitive values masked unless revealed")
        self.export_button.setMenu(menu)
        bar.addWidget(self.export_button)

        self.allow_changes = QCheckBox("Allow commands that change the card")
        self.allow_changes.setToolTip("For the next run only: EMV GET PROCESSING OPTIONS (the card's "
                                      "transaction counter goes up) and the like. Off again after the run.")
        self.reveal = QCheckBox("Reveal sensitive values")
        self.reveal.setToolTip("Show PANs and track 2 data in full, here and in exports (never saved)")
        self.reveal.toggled.connect(self._reveal_toggled)
        # One switch a row, the reveal one beside the progress: side by side they made the dock
        # 440 px wide at least, and the window wider than a 1024 px screen. In a window narrower
        # than 800 px their text is cut (the tooltip has it) rather than the window kept wider.
        for switch in (self.allow_changes, self.reveal):
            switch.setMinimumWidth(switch.fontMetrics().horizontalAdvance("x" * 14))
        self.mrz = MrzEntry()
        self.mrz.returnPressed.connect(self.analyze)  # typed the MRZ: Enter reads the passport
        switches = QHBoxLayout()
        switches.addWidget(self.allow_changes)
        switches.addWidget(self.mrz, 1)

        self.progress = ProgressLine()
        self.progress.set_progress(0, 1, "No analysis yet")
        self.status = MessageLine(1)
        state = QHBoxLayout()
        state.setSpacing(6)
        state.addWidget(self.progress, 2)
        state.addWidget(self.status, 3)
        state.addWidget(self.reveal)

        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.selectionModel().currentRowChanged.connect(self._finding_selected)
        self._natural = (160, 160)  # the widest name and value of the analysis shown
        self.tree.viewport().installEventFilter(self)
        self.bytes = FindingBytes()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addWidget(bar)
        layout.addLayout(switches)
        layout.addLayout(state)
        layout.addWidget(stacked(self.tree, self.bytes, 1, 1), 1)

    def menu_actions(self) -> list[QAction | None]:
        """What the window's Analysis menu offers (None: a separator)."""
        return [self.analyze_action, self.cancel_action, None, *self.export_actions]

    # -- the analyzers to run ------------------------------------------------------------------

    def _registry(self) -> list[str]:
        from explorer.apps.registry import ANALYZERS

        return list(ANALYZERS)

    def chosen(self) -> list[str]:
        return [key for key in self._registry() if key not in self._skipped]

    def choose_analyzers(self, keys: list[str]) -> None:
        self._skipped = {key for key in self._registry() if key not in keys}
        self._settings.setValue(_SKIPPED_KEY, sorted(self._skipped))
        self._update_controls()

    def _title(self, key: str) -> str:
        if key not in self._titles:
            from explorer.apps.registry import ANALYZERS, Choices

            self._titles[key] = ANALYZERS[key](Choices()).title  # the package is imported when first named
        return self._titles[key]

    def _fill_analyzers(self) -> None:
        menu = self.analyzers_menu
        menu.clear()
        keys = self._registry()
        if not keys:
            menu.addAction("No analyzer is installed").setEnabled(False)
        for key in keys:
            action = menu.addAction(f"{self._title(key)} ({key})")
            action.setCheckable(True)
            action.setChecked(key not in self._skipped)
            action.toggled.connect(lambda on, k=key: self.choose_analyzers(
                [x for x in self.chosen() if x != k] + ([k] if on else [])))

    # -- running --------------------------------------------------------------------------------

    def analyze(self) -> bool:
        """Analyze the card in the selected reader; False (and why said) when nothing starts."""
        if self.job is not None:
            return False
        reader = self._selected_reader()
        if not reader or reader not in self._cards():
            self._say("Select a reader with a card in the reader tree first.", _ERROR)
            return False
        from explorer.apps.registry import Choices, analyzers

        try:
            mrz = self.mrz.information() if "emrtd" in self.chosen() else None
        except ValueError as exc:
            self._say(f"Nothing was sent: MRZ: {exc}", _ERROR)
            return False
        try:
            chosen = analyzers(self.chosen(), Choices(mrz_information=mrz)) if self.chosen() else []
        except ValueError as exc:
            chosen, why = [], str(exc)
        else:
            why = "choose at least one analyzer (Analyzers)"
        if not chosen:
            self._say(f"Nothing was sent: {why}.", _ERROR)
            return False
        self.links = TraceLinks(self._records, len(self._records))
        self.model.set_analysis(None)
        self.bytes.show_finding(None, None, [])
        job = AnalysisJob(self._manager, reader, chosen, allow_changes=self.allow_changes.isChecked(),
                          parent=self)
        job.progressed.connect(self._progressed)
        job.finished.connect(self._finished)
        self.job = job
        self.progress.set_progress(0, 1000, "Connecting…")
        self._say(f"Analysing the card in {reader}…")
        self._update_controls()
        job.start()
        return True

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self._say("Cancelling: the analysis stops before its next command…")

    def _progressed(self, progress: Progress) -> None:
        of = f" ({progress.number} of {progress.count})" if progress.count > 1 else ""
        text = f"{progress.title}{of}: {progress.what}"
        self.progress.set_progress(int(progress.overall * 1000), 1000, text)

    def _finished(self, end: AnalysisEnd) -> None:
        self.job = None
        self.allow_changes.setChecked(False)  # allowed for that run only
        analysis = end.analysis
        if analysis is None:
            self.progress.set_progress(0, 1, "Not analysed")
            self._say(f"{end.reader}: {end.error}", _ERROR)
        else:
            self._show(analysis)
        self._update_controls()
        self.finished.emit()
        if end.crash is not None:
            raise end.crash  # a bug: the crash dialog reports it

    def _show(self, analysis: Analysis) -> None:
        self.model.set_analysis(analysis)
        found = sum(1 for r in analysis.results for depth, _ in r.finding.walk() if depth)
        if found <= _EXPAND_ALL:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(1)
        self._size_columns(analysis)
        stopped = [r for r in analysis.results if r.error and r.error != "cancelled"]
        self.progress.set_progress(1, 1, f"{found} finding{'s' * (found != 1)}")
        self.progress.setToolTip(f"{found} findings by {len(analysis.results)} analyzer"
                                 f"{'s' * (len(analysis.results) != 1)}, {len(analysis.replies)} commands")
        if analysis.cancelled:
            self._say("Cancelled: what was found until then is shown.", _ERROR)
        elif stopped:
            last = stopped[-1]
            self._say(f"{last.title} stopped early ({last.error}): what was found is shown.", _ERROR)
        else:
            self._say(f"Analysed the card in {analysis.reader}.")

    def _size_columns(self, analysis: Analysis) -> None:
        """Name and value as wide as the widest (the first few hundred), within a share of the view:
        the explanation keeps the rest."""
        metrics, indent = self.tree.fontMetrics(), self.tree.indentation()
        mono = QFontMetrics(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        names, values = [80], [60]
        for _, (depth, f) in zip(range(500), (x for r in analysis.results for x in r.finding.walk()),
                                 strict=False):
            names.append(indent * (depth + 1) + metrics.horizontalAdvance(f.name) + 12)
            values.append((mono if f.raw else metrics).horizontalAdvance(f.shown(self.model.reveal)) + 12)
        self._natural = (max(names), max(values))
        self._fit_columns()

    def _fit_columns(self) -> None:
        name, value = self._natural
        width = max(self.tree.viewport().width(), 200)
        self.tree.setColumnWidth(Col.NAME, min(name, width * 2 // 5))
        self.tree.setColumnWidth(Col.VALUE, min(value, width * 3 // 10))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The dock's width settles after the first show and changes with the window: the columns
        # follow, so the explanation never goes out of sight behind a scroll bar.
        if watched is self.tree.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def on_monitor_event(self, event: object) -> None:
        """A card or reader came or went: Analyze follows the selected reader's card (a running
        analysis sees its card go by itself, and ends with what it found)."""
        self._update_controls()

    def on_targets_changed(self) -> None:
        self._update_controls()

    def shutdown(self) -> None:
        """The window closes: a running analysis stops at its next command."""
        if self.job is not None:
            self.job.cancel()

    # -- findings -------------------------------------------------------------------------------

    def _finding_selected(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._show_bytes(current)
        finding = self.model.finding(current)
        reply = self.model.reply_of(finding) if finding is not None else None
        if reply is not None and reply.exchanges:
            seq = self.links.seq_of_exchange(reply.exchanges[0])
            if seq is not None:
                self.record_wanted.emit(seq)

    def _show_bytes(self, index: QModelIndex) -> None:
        finding = self.model.finding(index)
        reply = self.model.reply_of(finding) if finding is not None else None
        source = finding.source if finding is not None else None
        hidden = self.model.hidden_spans(source.exchange) if source is not None else []
        self.bytes.show_finding(finding, reply, hidden, self.model.reveal)

    def _reveal_toggled(self, on: bool) -> None:
        self.model.set_reveal(on)
        self._show_bytes(self.tree.currentIndex())

    # -- exports --------------------------------------------------------------------------------

    def choose_export(self, kind: str) -> None:
        from PySide6.QtWidgets import QFileDialog  # dialogs are imported when opened

        what, suffix = EXPORTS[kind]
        path, _ = QFileDialog.getSaveFileName(self, "Export the analysis",
                                              str(Path.home() / f"analysis{suffix}"),
                                              f"{what} (*{suffix});;All files (*)")
        if path:
            self.export_analysis(kind, path)

    def export_analysis(self, kind: str, path: str) -> bool:
        """Write the analysis shown as `kind` (json, html) to `path` (0600), off the GUI thread,
        masked unless revealed; `exported` tells how it went. False, and why said, when nothing
        is written."""
        analysis = self.model.analysis
        if kind not in EXPORTS or analysis is None:
            why = "analyze a card first" if analysis is None else f"no {kind} export"
            self._say(f"Not exported: {why}", _ERROR)
            return False
        reveal = self.model.reveal
        self._writer.start(path, lambda target: write_private_text(target, _report(kind, analysis, reveal)),
                           name="analysis-export")
        self._say(f"Writing {path}…")
        return True

    def _written(self, path: str, error: str) -> None:
        if error:
            self._say(f"Export failed: {error}", _ERROR)
        else:
            self._say(f"Analysis written to {path}")
        self.exported.emit(path, error)

    # -- state ----------------------------------------------------------------------------------

    def _say(self, text: str, colour: str = MUTED) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color:{colour};")

    def _update_controls(self) -> None:
        running = self.job is not None
        reader = self._selected_reader()
        has_card = bool(reader) and reader in self._cards()
        self.analyze_action.setEnabled(not running and has_card)
        self.analyze_action.setToolTip(f"Read the card in {reader} with the analyzers ticked" if has_card
                                       else "Select a reader with a card in the reader tree first")
        self.cancel_action.setEnabled(running)
        self.analyzers_button.setEnabled(not running)
        self.allow_changes.setEnabled(not running)
        exportable = not running and self.model.analysis is not None
        self.export_button.setEnabled(exportable)
        for action in self.export_actions:
            action.setEnabled(exportable)
        keys = self._registry()
        chosen = len(self.chosen())
        self.analyzers_button.setText("Analyzers: all" if keys and chosen == len(keys)
                                      else f"Analyzers: {chosen} of {len(keys)}")
