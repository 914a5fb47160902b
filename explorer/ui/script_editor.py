"""The script editor pane: the text of a script, its file, and its validation.

INTERFACE STUB (issue 14): the panel (ui/script_panel.py) builds on this API;
the full editor (line numbers, gutter marks, highlighting, live validation,
Open/Save/recent/examples) replaces the bodies, not the names.
GUI thread only.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from explorer.script.model import Script
from explorer.script.parser import parse_script


class LineMark(enum.Enum):
    """The mark in the gutter beside a line, from the last run."""

    NONE = "none"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class ScriptEditorPane(QWidget):
    """The editor (`editor`), with its file actions and the validation message."""

    changed = Signal()  # the text changed (validation follows on its own)
    file_changed = Signal(str)  # the file now edited ("" for an unsaved new script)

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._path = ""
        self._marks: dict[int, LineMark] = {}
        self.editor = QPlainTextEdit()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)
        self.editor.textChanged.connect(self.changed)

    @property
    def file_path(self) -> str:
        """The file edited, "" when the script has never been saved."""
        return self._path

    @property
    def display_name(self) -> str:
        """What results and the trace call this script (the file's name, or "untitled")."""
        return self._path or "untitled.apdu"

    def set_text(self, text: str, path: str = "") -> None:
        self.editor.setPlainText(text)
        self._path = path
        self.file_changed.emit(path)

    def text(self) -> str:
        return self.editor.toPlainText()

    def open_file(self, path: str) -> bool:
        """Load a script file; False (with the reason shown) when it cannot be read."""
        with open(path, encoding="utf-8") as f:
            self.set_text(f.read(), path)
        return True

    def script(self, known: set[str] | frozenset[str] = frozenset()) -> Script:
        """The text parsed now (includes resolved beside the file), with its diagnostics."""
        return parse_script(self.text(), self.display_name, known=set(known))

    def current_line(self) -> int:
        """The line of the text cursor, from 1 (for Run to cursor)."""
        return self.editor.textCursor().blockNumber() + 1

    def set_mark(self, line: int, mark: LineMark) -> None:
        """The gutter mark beside `line` (from 1)."""
        self._marks[line] = mark

    def mark(self, line: int) -> LineMark:
        return self._marks.get(line, LineMark.NONE)

    def clear_marks(self) -> None:
        """No marks (a new run starts)."""
        self._marks.clear()

    def set_read_only(self, read_only: bool) -> None:
        """While a script runs its text is not edited."""
        self.editor.setReadOnly(read_only)
