"""The Script dock: the editor over the results, and the buttons that run a script on the
selected reader, on several readers at once, or on every card inserted.

Thin: the editor is ui/script_editor.py, the runs ui/script_session.py (jobs on the readers'
workers, results in batches), the table ui/script_results.py. GUI thread only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.reader_events import MonitorEvent
from explorer.core.status_words import Severity
from explorer.link.manager import ConnectionManager
from explorer.script.model import Script
from explorer.script.runner import StepResult, Verdict
from explorer.trace.records import Records
from explorer.ui.console_transcript import MUTED, SEVERITY_COLOURS
from explorer.ui.message_line import MessageLine
from explorer.ui.progress_line import ProgressLine
from explorer.ui.script_cards import CardsList
from explorer.ui.script_check import INLINE_LIMIT
from explorer.ui.script_editor import LineMark, ScriptEditorPane
from explorer.ui.script_export import ResultsExport, ask_export_path, export_menu
from explorer.ui.script_results import RESULT_ROLE, Col
from explorer.ui.script_session import Phase, ScriptSession, parse_variables, summary
from explorer.ui.splitters import stacked

_MARKS = {Verdict.PASSED: LineMark.PASSED, Verdict.FAILED: LineMark.FAILED, Verdict.ERROR: LineMark.ERROR,
          Verdict.SKIPPED: LineMark.SKIPPED}
_ERROR = SEVERITY_COLOURS[Severity.ERROR]
_SUCCESS = SEVERITY_COLOURS[Severity.SUCCESS]


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


class ScriptPanel(QWidget):
    record_wanted = Signal(int)  # the trace record (seq) of the selected result
    exported = Signal(str, str)  # path, error ("" when written)

    def __init__(self, manager: ConnectionManager, records: Records, settings: QSettings,
                 selected_reader: Callable[[], str | None], cards: Callable[[], Mapping[str, bytes]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._selected_reader = selected_reader
        self._cards = cards
        self._chosen: list[str] = []  # readers ticked in the chooser (none: the selected reader)
        self._reading = False  # a large script is being read before its run
        self.session = ScriptSession(manager, records, cards, self)
        self.session.changed.connect(self._update_controls)
        self.session.progressed.connect(self._progressed)
        self.session.finished.connect(self._finished)
        self.session.message.connect(self._say)
        self._export = ResultsExport(self)
        self._export.exported.connect(self._written)
        self.pane = ScriptEditorPane(settings)
        self._build()
        self.session.card_done.connect(self.cards_view.add)
        self._update_controls()

    # -- layout ------------------------------------------------------------------------

    def _build(self) -> None:
        bar = QToolBar()
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.run_action = self._action(bar, "Run", "Run the script on the reader(s) (F5)",
                                       self._run_clicked, "F5")
        self.stop_action = self._action(bar, "Stop", "Stop after the command that is running", self.stop)
        self.pause_action = self._action(bar, "Pause", "Pause before the next command", self.toggle_pause)
        self.step_action = self._action(bar, "Step", "Run one command, then pause (F10)", self.step, "F10")
        self.run_to_action = self._action(bar, "Run to cursor", "Run, and pause before the first command "
                                          "at or after the editor's line", self.run_to_cursor)
        bar.addSeparator()
        self.readers_button = QToolButton()
        self.readers_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.readers_menu = QMenu(self.readers_button)
        self.readers_menu.aboutToShow.connect(self._fill_readers)
        self.readers_button.setMenu(self.readers_menu)
        bar.addWidget(self.readers_button)
        self.each_card_action = QAction("Each card", self)
        self.each_card_action.setCheckable(True)
        self.each_card_action.setToolTip("Run on every card inserted: wait for a card, run, note its ATR and "
                                         "verdict, wait for its removal, again, until Stop")
        self.each_card_action.toggled.connect(self._update_controls)
        bar.addAction(self.each_card_action)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_actions = export_menu(self.export_button, self.choose_export)
        bar.addWidget(self.export_button)

        self.variables = QLineEdit()
        self.variables.setPlaceholderText("Variables for ${NAME}: PIN=31323334FFFFFFFF, AID=F0…  "
                                          "(never saved)")
        self.variables.setToolTip("Values for ${NAME} in the script, NAME=HEX separated by commas or spaces; "
                                  "kept for this session only, never written to the settings")
        self.variables.setClearButtonEnabled(True)
        self.variables.textChanged.connect(self._variables_changed)

        self.progress = ProgressLine()
        widest = "00,000 / 00,000 commands · about 00:00 left"
        self.progress.setFixedWidth(self.fontMetrics().horizontalAdvance(widest) + 24)
        self.progress.set_progress(0, 1, "No run yet")
        self.status = MessageLine(1)
        self.view = QTableView()
        self.view.setModel(self.session.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().hide()
        rows = self.view.verticalHeader()
        # Never measured row by row: a run has thousands.
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.view.horizontalHeader()
        header.setTextElideMode(Qt.TextElideMode.ElideLeft)  # readers differ at the end of their names
        header.setStretchLastSection(True)
        self.session.model.modelReset.connect(self._size_columns)
        self.view.selectionModel().currentRowChanged.connect(self._row_selected)
        self.view.doubleClicked.connect(self._row_opened)
        self.cards_view = CardsList()
        self.cards_view.setVisible(False)

        results = QWidget()
        lower = QVBoxLayout(results)
        lower.setContentsMargins(0, 0, 0, 0)
        lower.setSpacing(2)
        state = QHBoxLayout()
        state.setSpacing(6)
        state.addWidget(self.progress)
        state.addWidget(self.status, 1)
        lower.addLayout(state)
        lower.addWidget(self.view, 1)
        lower.addWidget(self.cards_view)
        split = stacked(self.pane, results, 1, 1)  # the editor above its toolbar and message: as tall
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addWidget(bar)
        layout.addWidget(self.variables)
        layout.addWidget(split, 1)

    def _action(self, bar: QToolBar, text: str, tip: str, slot: Callable[[], None], key: str = "") -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        if key:
            action.setShortcut(key)
        action.triggered.connect(slot)
        bar.addAction(action)
        return action

    def _size_columns(self) -> None:
        model, metrics = self.session.model, self.fontMetrics()
        widths = {Col.LINE: "0000", Col.COMMAND: "00 A4 04 00 08 F0 43 41", Col.SW: "90 00 ",
                  Col.VERDICT: "skipped ", Col.EXPECTED: "SW 61 xx | 90 00", Col.MS: "0000.0",
                  Col.MEANING: "x" * 30}
        for section in range(model.columnCount()):
            col = model.column_at(section)
            if col in widths:
                self.view.setColumnWidth(section, metrics.horizontalAdvance(widths[col]) + 16)

    def menu_actions(self) -> list[QAction | None]:
        """What the window's Script menu offers (None: a separator)."""
        return [self.run_action, self.stop_action, self.pause_action, self.step_action, self.run_to_action,
                None, self.each_card_action, None, *self.export_actions]

    def on_targets_changed(self) -> None:
        """The selected reader changed (the reader tree)."""
        self._update_controls()

    # -- targets ------------------------------------------------------------------------

    def targets(self) -> list[str]:
        """The readers a run goes to: those ticked that still hold a card, else the selected one."""
        cards = self._cards()
        chosen = [reader for reader in self._chosen if reader in cards]
        if chosen:
            return chosen
        selected = self._selected_reader()
        return [selected] if selected else []

    def choose_readers(self, readers: list[str]) -> None:
        """Run on these readers together (empty: on the selected reader)."""
        self._chosen = list(dict.fromkeys(readers))  # a reader once: one job per reader
        self._update_controls()

    def _fill_readers(self) -> None:
        menu = self.readers_menu
        menu.clear()
        only = menu.addAction("The selected reader only", lambda: self.choose_readers([]))
        only.setCheckable(True)
        only.setChecked(not self._chosen)
        menu.addSeparator()
        cards = self._cards()
        if not cards:
            empty = menu.addAction("No reader holds a card")
            empty.setEnabled(False)
        for reader in cards:
            action = menu.addAction(reader)
            action.setCheckable(True)
            action.setChecked(reader in self._chosen)
            action.toggled.connect(lambda on, r=reader: self.choose_readers(
                [x for x in self._cards() if (x == r and on) or (x != r and x in self._chosen)]))

    # -- running ------------------------------------------------------------------------

    def run(self, *, run_to: int | None = None, step: bool = False) -> bool:
        """Parse, then run on the targets; False (and the reason shown) when nothing is sent.
        A large script is read on a background thread first (a 5,000-line script would hold
        the window ~100 ms): True then means it is being read, and an error in it is shown
        when the reading ends."""
        if self.session.running or self._reading:
            return False
        readers = self.targets()
        if not readers:
            self._say("Select a reader with a card in the reader tree (or tick readers in Readers).", _ERROR)
            return False
        try:
            variables = parse_variables(self.variables.text())
        except ValueError as exc:
            self._say(f"Variables: {exc}. Nothing was sent.", _ERROR)
            return False
        known = set(variables)
        if len(self.pane.text()) <= INLINE_LIMIT:
            return self._start(self.pane.script(known), readers, variables, run_to, step)
        self._reading = True
        self.pane.set_read_only(True)
        self._say("Reading the script…")
        self._update_controls()

        def read(script: Script) -> None:
            self._reading = False
            self.pane.set_read_only(False)
            if not self._start(script, self.targets(), variables, run_to, step):
                self._update_controls()

        def failed(exc: BaseException) -> None:
            self._reading = False
            self.pane.set_read_only(False)
            self._say(f"The script could not be read: {exc}. Nothing was sent.", _ERROR)
            self._update_controls()

        self.pane.script_later(known, read, failed)
        return True

    def _start(self, script: Script, readers: list[str], variables: dict[str, bytes],
               run_to: int | None, step: bool) -> bool:
        errors = [d for d in script.diagnostics if d.level.value == "error"]
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            self._say(f"{errors[0]}{more}. Nothing was sent.", _ERROR)
            return False
        if not script.steps:
            self._say("The script has no command to run.", _ERROR)
            return False
        if not readers:
            self._say("The reader's card went while the script was read. Nothing was sent.", _ERROR)
            return False
        self.pane.clear_marks()
        self.pane.set_read_only(True)
        self.cards_view.clear()
        self.cards_view.setVisible(self.each_card_action.isChecked())
        self._say(f"Running on {', '.join(readers)}…")
        self.session.start(script, readers, variables, each_card=self.each_card_action.isChecked(),
                           run_to=run_to, step=step)
        self._progressed()
        return True

    def _run_clicked(self) -> None:
        self.run()

    def stop(self) -> None:
        self.session.stop()

    def toggle_pause(self) -> None:
        if self.session.paused:
            self.session.resume()
        else:
            self.session.pause()

    def step(self) -> None:
        if self.session.running:
            self.session.step()
        else:
            self.run(step=True)

    def run_to_cursor(self) -> None:
        line = self.pane.current_line()
        if self.session.running:
            self.session.run_to(line)
        else:
            self.run(run_to=line)

    def on_monitor_event(self, event: MonitorEvent) -> None:
        self.session.on_monitor_event(event)
        self._update_controls()

    def shutdown(self) -> None:
        self.session.shutdown()

    # -- what the session says ------------------------------------------------------------

    def _progressed(self) -> None:
        s = self.session
        for line in s.take_changed_lines():
            verdict = s.marks.get(line)
            self.pane.set_mark(line, LineMark.RUNNING if line in s.running_lines
                               else _MARKS[verdict] if verdict is not None else LineMark.NONE)
        total = max(s.total, s.done)
        scale = max(1, -(-total // 2_000_000_000))  # the style counts in int: scale a huge repeat down
        left = s.time_left()
        eta = f" · about {_duration(left)} left" if left is not None and s.done < total else ""
        self.progress.set_progress(s.done // scale, total // scale, f"{s.done:,} / {total:,} commands{eta}")
        waiting = s.waiting_at
        if waiting is not None:
            self._say(f"Paused before line {waiting}: Resume, Step or Run to cursor.")
        view = self.view
        if not view.selectionModel().hasSelection():
            view.scrollToBottom()

    def _variables_changed(self, text: str) -> None:
        """Names given here are set for the editor's live check too (as --var is for the CLI)."""
        with contextlib.suppress(ValueError):  # said when Run is pressed; the names stay as they were
            self.pane.set_known(set(parse_variables(text)))

    def _finished(self) -> None:
        s = self.session
        self._progressed()
        if s.runs and s.done < s.total:  # ended early (a failure, a stop, a card error)
            self.progress.set_progress(1, 1, f"{s.done:,} of {s.total:,} commands run")
        for line in s.skipped_lines():
            self.pane.set_mark(line, LineMark.SKIPPED)
        self.pane.set_read_only(False)
        if s.runs:
            short, full = summary(s.runs)
            failed = any(run.result.verdict is not Verdict.PASSED for run in s.runs)
            self._say(short, _ERROR if failed else _SUCCESS)
            self.status.setToolTip(full)
        self._update_controls()

    def _say(self, text: str, colour: str = MUTED) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color:{colour};")

    def _update_controls(self) -> None:
        s = self.session
        running, paused = s.running or self._reading, s.paused
        in_run = s.phase is Phase.RUNNING
        can_start = not running and bool(self.targets())
        self.run_action.setEnabled(can_start)
        self.stop_action.setEnabled(running)
        self.pause_action.setEnabled(in_run)
        self.pause_action.setText("Resume" if paused else "Pause")
        each = self.each_card_action.isChecked()
        self.step_action.setEnabled((can_start and not each) or (in_run and paused))
        self.run_to_action.setEnabled(self.step_action.isEnabled())
        self.each_card_action.setEnabled(not running)
        self.readers_button.setEnabled(not running)
        self.variables.setReadOnly(running)
        self.export_button.setEnabled(not running and bool(s.runs))
        for action in self.export_actions:
            action.setEnabled(self.export_button.isEnabled())
        chosen = [r for r in self._chosen if r in self._cards()]
        self.readers_button.setText(f"{len(chosen)} readers" if len(chosen) > 1
                                    else "Selected reader" if not chosen else "1 reader")
        self.readers_button.setToolTip("Run on: " + (", ".join(chosen) if chosen else
                                                     "the reader selected in the reader tree")
                                       + " (choose several to run on them side by side)")
        if not running and not can_start:
            self.run_action.setToolTip("Select a reader with a card in the reader tree first")
        else:
            self.run_action.setToolTip("Run the script on the reader(s) (F5)")

    # -- results and the trace ----------------------------------------------------------------

    def _row_selected(self, current: QModelIndex, previous: QModelIndex) -> None:
        result = current.data(RESULT_ROLE) if current.isValid() else None
        if not isinstance(result, StepResult):
            return
        seq = self.session.links.seq_of(result)
        if seq is not None:
            self.record_wanted.emit(seq)

    def _row_opened(self, index: QModelIndex) -> None:
        """Double-click: the editor's cursor to the command's line (of this script's own file)."""
        result = index.data(RESULT_ROLE)
        script_file = self.pane.display_name
        if not isinstance(result, StepResult) or result.place.file != script_file:
            return
        editor = self.pane.editor
        block = editor.document().findBlockByNumber(result.place.line - 1)
        if block.isValid():
            cursor = QTextCursor(block)
            editor.setTextCursor(cursor)
            editor.centerCursor()
            editor.setFocus()

    # -- exports ----------------------------------------------------------------------------------

    def choose_export(self, kind: str) -> None:
        path = ask_export_path(self, kind, Path(self.pane.display_name).stem or "script")
        if path:
            self.export_results(kind, path)

    def export_results(self, kind: str, path: str) -> bool:
        """Write the results of the last run (every reader, every card) as `kind` (a key of
        script_export.REPORTS) to `path`, off the GUI thread; `exported` tells how
        it went. False, and why said, when nothing is written."""
        why = self._export.start(kind, path, self.session.runs)
        self._say(f"Writing {path}…" if not why else f"Not exported: {why}", MUTED if not why else _ERROR)
        return not why

    def _written(self, path: str, error: str) -> None:
        if error:
            self._say(f"Export failed: {error}", _ERROR)
        else:
            self._say(f"Results written to {path}")
        self.exported.emit(path, error)
