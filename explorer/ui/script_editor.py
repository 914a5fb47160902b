"""The script editor pane: the text of a script, its file, and its validation.

A row of file actions (New, Open…, Save, Save as…, Recent, Examples) with the script's name,
the editor (line numbers, run marks, highlighting), and under it the message of the last
check, which takes the cursor to the place it names. The panel (ui/script_panel.py) builds
on this API. GUI thread only.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.input_error import InputError
from explorer.core.sw_tables import Severity
from explorer.script.files import MAX_SCRIPT, loader_beside, read_script, write_script
from explorer.script.model import Diagnostic, Level, Script
from explorer.ui.background import Background
from explorer.ui.console_transcript import MUTED, SEVERITY_COLOURS
from explorer.ui.script_check import (
    Check,
    CheckRequest,
    DiagnosticLine,
    ScriptChecker,
    placed,
    placements,
    summary,
)
from explorer.ui.script_files import RecentScripts, fill_examples_menu, fill_recent_menu
from explorer.ui.script_gutter import LineMark
from explorer.ui.script_highlight import ScriptHighlighter
from explorer.ui.script_text import ScriptTextEdit, Underline

__all__ = ["Discard", "LineMark", "ScriptEditorPane"]

UNTITLED = "untitled.apdu"
_FILTER = "Scripts (*.apdu *.script);;All files (*)"


class Discard(enum.Enum):
    """The answer to "the script has unsaved changes": save them first, drop them, or stop."""

    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class ScriptEditorPane(QWidget):
    """The editor (`editor`), with its file actions and the validation message.

    The questions it asks (unsaved changes, which file) go through `ask_discard`,
    `ask_open_path` and `ask_save_path`, which a caller (or a test) may replace."""

    changed = Signal()  # the text changed (validation follows on its own)
    file_changed = Signal(str)  # the file now edited ("" for an unsaved new script)
    modified_changed = Signal(bool)  # the text differs from its file (or is new and typed in)
    checked = Signal(object)  # Check: the diagnostics of the text as last checked, and its counts

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._path = ""
        self._untitled = UNTITLED
        self._newline = "\n"
        self._loading = False
        self._modified_said = False
        self._known: frozenset[str] = frozenset()
        self._last: Check | None = None
        self._targets: list[tuple[int, int, Diagnostic, str]] = []  # where each diagnostic shows
        self._target: tuple[int, int] | None = None
        self.recent = RecentScripts(settings)
        self.ask_discard: Callable[[str], Discard] = self._ask_discard
        self.ask_open_path: Callable[[], str] = self._ask_open_path
        self.ask_save_path: Callable[[str], str] = self._ask_save_path

        self.editor = ScriptTextEdit()
        self.highlighter = ScriptHighlighter(self.editor.document())
        self._colour_timer = QTimer(self)
        self._colour_timer.setSingleShot(True)
        self._colour_timer.setInterval(0)
        self._colour_timer.timeout.connect(self._colour_visible)
        self.checker = ScriptChecker(self._request, self)
        self._background = Background(self)
        self.message = DiagnosticLine()
        self.file_message = QLabel()  # why a file could not be opened or saved
        self.file_message.setWordWrap(True)
        self.file_message.setStyleSheet(f"color:{SEVERITY_COLOURS[Severity.ERROR]};")
        self.file_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file_message.hide()
        self.name_label = QLabel()
        self.name_label.setStyleSheet(f"color:{MUTED};")

        self.new_action = self._action("New", QKeySequence.StandardKey.New, self.new_script)
        self.open_action = self._action("Open…", QKeySequence.StandardKey.Open, self.open_dialog)
        self.save_action = self._action("Save", QKeySequence.StandardKey.Save, self.save)
        self.save_as_action = self._action("Save as…", QKeySequence.StandardKey.SaveAs, self.save_as)
        self.recent_menu = QMenu("Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.examples_menu = QMenu("Examples", self)
        self.examples_menu.aboutToShow.connect(self._fill_examples)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(2)
        for action in (self.new_action, self.open_action, self.save_action, self.save_as_action):
            bar.addWidget(_button(action))
        self.menu_buttons: list[QToolButton] = []
        for menu in (self.recent_menu, self.examples_menu):
            button = QToolButton()
            button.setMenu(menu)
            button.setText(menu.title())
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            button.setAutoRaise(True)
            bar.addWidget(button)
            self.menu_buttons.append(button)
        bar.addSpacing(8)
        bar.addWidget(self.name_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.file_message)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.message)

        document = self.editor.document()
        self.editor.textChanged.connect(self.changed)
        self.editor.updateRequest.connect(lambda *_: self._colour_timer.start())
        self.editor.textChanged.connect(self.checker.schedule)
        document.modificationChanged.connect(self._modification_changed)
        self.editor.cursorPositionChanged.connect(self._show_message)
        self.checker.checked.connect(self._checked)
        self.checker.failed.connect(lambda text: self.message.show_message(text, Level.ERROR, False))
        self.message.activated.connect(self._go_to_message)
        self._show_name()
        self.checker.check_now()

    def _action(self, text: str, keys: QKeySequence.StandardKey, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(keys)
        # Only while the focus is in the pane: the window's own shortcuts stay the window's.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda: slot())
        self.addAction(action)
        return action

    # -- the script and its file ----------------------------------------------------------

    @property
    def file_path(self) -> str:
        """The file edited, "" when the script has never been saved."""
        return self._path

    @property
    def display_name(self) -> str:
        """What results and the trace call this script (its file, or the name of an unsaved one)."""
        return self._path or self._untitled

    @property
    def is_modified(self) -> bool:
        return self.editor.document().isModified()

    @property
    def file_error(self) -> str:
        """Why the last Open or Save failed ("" when it did not)."""
        return self.file_message.text() if self.file_message.isVisibleTo(self) else ""

    def set_text(self, text: str, path: str = "", untitled: str = UNTITLED) -> None:
        """Show `text` as the contents of `path` ("" for a script never saved, called `untitled`)."""
        self._newline = "\r\n" if "\r\n" in text else "\n"
        self.highlighter.window = (0, self._lines_shown())  # the new text shows from its top
        self._loading = True  # no "modified" back and forth while the text is replaced
        try:
            self.editor.setPlainText(text.replace("\r\n", "\n"))
            self.editor.document().setModified(False)
        finally:
            self._loading = False
        self._modification_changed(False)
        self.editor.clear_marks()
        self._path = os.path.abspath(path) if path else ""
        self._untitled = untitled
        self._last = None
        self._show_name()
        self.checker.schedule()
        self.file_changed.emit(self._path)

    def text(self) -> str:
        return self.editor.toPlainText()

    def open_file(self, path: str) -> bool:
        """Load a script file; False (with the reason shown) when it cannot be read, or when the
        tester keeps unsaved changes instead."""
        text = self._read(path)
        if text is None or not self.may_discard():
            return False
        self.set_text(text, path)
        self.recent.add(path)
        return True

    def open_example(self, path: str | Path) -> bool:
        """An example script as a new, unsaved copy: saving it never overwrites the shipped file."""
        text = self._read(str(path))
        if text is None or not self.may_discard():
            return False
        self.set_text(text, "", Path(path).name)
        return True

    def new_script(self) -> bool:
        if not self.may_discard():
            return False
        self._clear_file_message()
        self.set_text("")
        return True

    def open_dialog(self) -> bool:
        path = self.ask_open_path()
        return bool(path) and self.open_file(path)

    def save(self) -> bool:
        """Write the script to its file (asking for one when it has none)."""
        return self.save_as(self._path) if self._path else self.save_as()

    def save_as(self, path: str = "") -> bool:
        if not path:
            path = self.ask_save_path(self._path or os.path.join(self.recent.folder(), self._untitled))
            if not path:
                return False
            if not Path(path).suffix:
                path += ".apdu"
        text = self.text()
        if len(text.encode("utf-8", "surrogatepass")) > MAX_SCRIPT:
            self._file_problem(f"{path}: not saved: a script is at most {MAX_SCRIPT >> 20} MiB, "
                               f"and a larger one could not be opened again")
            return False
        try:
            write_script(path, text, self._newline)
        except OSError as exc:
            self._file_problem(f"{path}: not saved: {exc.strerror or exc}")
            return False
        except UnicodeEncodeError as exc:
            self._file_problem(f"{path}: not saved: character {exc.start + 1} cannot be written as UTF-8")
            return False
        self._clear_file_message()
        moved = os.path.abspath(path) != self._path
        self._path = os.path.abspath(path)
        self.editor.document().setModified(False)
        self.recent.add(self._path)
        self._show_name()
        if moved:
            self.checker.schedule()  # includes are now read beside the new file
            self.file_changed.emit(self._path)
        return True

    def may_discard(self) -> bool:
        """True when nothing unsaved would be lost (asking the tester when something would)."""
        if not self.is_modified:
            return True
        answer = self.ask_discard(self.display_name)
        if answer is Discard.SAVE:
            return self.save()
        return answer is Discard.DISCARD

    def _read(self, path: str) -> str | None:
        try:
            text = read_script(path)
        except InputError as exc:
            self._file_problem(f"Cannot open {path}: {exc.problem}")
            return None
        self._clear_file_message()
        return text

    def _file_problem(self, text: str) -> None:
        self.file_message.setText(text)
        self.file_message.show()

    def _clear_file_message(self) -> None:
        self.file_message.clear()
        self.file_message.hide()

    def _modification_changed(self, modified: bool) -> None:
        if self._loading or modified == self._modified_said:
            return
        self._modified_said = modified
        self._show_name()
        self.modified_changed.emit(modified)

    def _show_name(self) -> None:
        name = Path(self._path).name if self._path else f"{self._untitled} (not saved)"
        self.name_label.setText(name + (" — modified" if self.is_modified else ""))
        self.name_label.setToolTip(self._path or "This script has no file yet: Save as… gives it one.")

    # -- the questions (replaceable) --------------------------------------------------------

    def _ask_discard(self, name: str) -> Discard:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self, "Unsaved script", f"{name} has changes that are not saved.",
                                      buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        return {buttons.Save: Discard.SAVE, buttons.Discard: Discard.DISCARD}.get(answer, Discard.CANCEL)

    def _ask_open_path(self) -> str:
        return QFileDialog.getOpenFileName(self, "Open a script", self.recent.folder(), _FILTER)[0]

    def _ask_save_path(self, suggested: str) -> str:
        return QFileDialog.getSaveFileName(self, "Save the script", suggested, _FILTER)[0]

    # -- menus ----------------------------------------------------------------------------

    def _fill_recent(self) -> None:
        fill_recent_menu(self.recent_menu, self.recent, self.open_file)

    def _fill_examples(self) -> None:
        fill_examples_menu(self.examples_menu, self.open_example)

    # -- validation -----------------------------------------------------------------------

    def set_known(self, names: set[str] | frozenset[str]) -> None:
        """Variables given from outside a run (--var): a script may use them unset."""
        if frozenset(names) != self._known:
            self._known = frozenset(names)
            self.checker.schedule()

    def _request(self, known: frozenset[str] | None = None) -> CheckRequest:
        folder = Path(self._path).parent if self._path else None
        return CheckRequest(self.text(), self.display_name, self._known if known is None else known,
                            loader_beside(folder))

    def script(self, known: set[str] | frozenset[str] = frozenset()) -> Script:
        """The text parsed now (includes resolved beside the file), with its diagnostics. On the
        GUI thread: a script of 20,000 lines takes about a third of a second."""
        request = self._request(frozenset(known) | self._known)
        last = self._last
        if last is not None and last.script is not None and not last.includes and \
                (last.request.text, last.request.file, last.request.known) == \
                (request.text, request.file, request.known):
            return last.script  # (an included file may have changed since: those are read again)
        return request.parse()

    def script_later(self, known: set[str] | frozenset[str], done: Callable[[Script], None],
                     failed: Callable[[BaseException], None]) -> None:
        """`script(known)` read on a background thread, for a large script: `done(script)` on the
        GUI thread (unless the pane is gone by then)."""
        request = self._request(frozenset(known) | self._known)
        self._background.run("script-parse", request.parse, done, failed, large=True)

    @property
    def last_check(self) -> Check | None:
        """The outcome of the last check (None before the first one ends)."""
        return self._last

    def _checked(self, found: Check) -> None:
        self._last = found
        self._targets = placements(found)
        underlines = [Underline(line, column, d.level, message) for line, column, d, message in self._targets]
        self.editor.set_underlines(underlines)
        self._show_message()
        self.checked.emit(found)

    def _show_message(self) -> None:
        found = self._last
        if found is None:
            return
        if not found.diagnostics:
            self._target = None
            self.message.show_message(summary(found), None, False)
            return
        line = self.editor.textCursor().blockNumber() + 1
        here = [t for t in self._targets if t[0] == line]
        errors = [d for d in found.diagnostics if d.level is Level.ERROR]
        diagnostic = here[0][2] if here else (errors or list(found.diagnostics))[0]
        target = here[0] if here else next((t for t in self._targets if t[2] is diagnostic), None)
        self._target = (target[0], target[1]) if target else None
        extra = f"  ({summary(found)})" if len(found.diagnostics) > 1 else ""
        self.message.show_message(placed(diagnostic, found.request.file) + extra, diagnostic.level,
                                  self._target is not None)

    def _go_to_message(self) -> None:
        if self._target is not None:
            self.editor.go_to(*self._target)

    def _lines_shown(self) -> int:
        return self.editor.viewport().height() // max(1, self.editor.fontMetrics().lineSpacing()) + 1

    def _colour_visible(self) -> None:
        self.highlighter.show_lines(self.editor.firstVisibleBlock().blockNumber(), self._lines_shown())

    # -- runs -----------------------------------------------------------------------------

    def current_line(self) -> int:
        """The line of the text cursor, from 1 (for Run to cursor)."""
        return self.editor.textCursor().blockNumber() + 1

    def set_mark(self, line: int, mark: LineMark, detail: str = "") -> None:
        """The gutter mark beside `line` (from 1); `detail` joins its tooltip."""
        self.editor.set_mark(line, mark, detail)

    def mark(self, line: int) -> LineMark:
        return self.editor.mark(line)

    def mark_text(self, line: int) -> str:
        """The mark beside `line` in words, as its tooltip says it ("" for none)."""
        return self.editor.mark_text(line)

    def marks(self) -> dict[int, LineMark]:
        """Every mark, by line."""
        return self.editor.marks()

    def clear_marks(self) -> None:
        """No marks (a new run starts)."""
        self.editor.clear_marks()

    def reveal_line(self, line: int) -> None:
        """Scroll `line` into view, the text cursor staying where it is (the line running)."""
        self.editor.reveal_line(line)

    def set_read_only(self, read_only: bool) -> None:
        """While a script runs its text is not edited, nor replaced by another script."""
        self.editor.setReadOnly(read_only)
        for action in (self.new_action, self.open_action):
            action.setEnabled(not read_only)
        for button in self.menu_buttons:
            button.setEnabled(not read_only)


def _button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setAutoRaise(True)
    return button

