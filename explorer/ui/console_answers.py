"""Clear and Save for the console's answers (the transcript): the buttons and the saving, which
runs off the GUI thread and masks secret command data unless the tester asks otherwise."""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from explorer.core.status_words import Severity
from explorer.ui.background_write import BackgroundWrite, write_private_text
from explorer.ui.console_transcript import SEVERITY_COLOURS, Transcript


class AnswerActions(QObject):
    """GUI thread only. `saved(path, error)` after each save ("" when it worked)."""

    saved = Signal(str, str)

    def __init__(self, transcript: Transcript, parent: QWidget) -> None:
        super().__init__(parent)
        self._transcript = transcript
        self._parent = parent
        self.clear_button = QToolButton(parent)
        self.clear_button.setText("Clear")
        self.clear_button.setToolTip("Clear the answers shown here (the trace keeps every exchange)")
        self.clear_button.clicked.connect(transcript.clear_all)
        self.save_button = QToolButton(parent)
        self.save_button.setText("Save…")
        self.save_button.setToolTip("Save the answers as text, secret data (PINs, keys, cryptograms) masked")
        self.save_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.save_button.clicked.connect(lambda: self.choose_save(reveal_secrets=False))
        menu = QMenu(self.save_button)
        menu.addAction("Save with secrets masked…", lambda: self.choose_save(reveal_secrets=False))
        menu.addAction("Save with secrets in clear…", lambda: self.choose_save(reveal_secrets=True))
        self.save_button.setMenu(menu)
        self._writer = BackgroundWrite(self)
        self._writer.finished.connect(self._finished)

    def choose_save(self, reveal_secrets: bool = False) -> None:
        from PySide6.QtWidgets import QFileDialog  # dialogs are imported when opened

        path, _ = QFileDialog.getSaveFileName(self._parent, "Save the console's answers",
                                              str(Path.home() / "console.txt"), "Text (*.txt)")
        if path:
            self.save(path, reveal_secrets)

    def save(self, path: str, reveal_secrets: bool = False) -> None:
        """Write the answers to `path` off the GUI thread; `saved` tells how it went."""
        text = self._transcript.saved_text(reveal_secrets)
        self._writer.start(path, functools.partial(write_private_text, text=text), "console-save")

    def _finished(self, path: str, error: str) -> None:
        if error:
            self._transcript.add_note(f"Could not save the answers: {error}",
                                      SEVERITY_COLOURS[Severity.ERROR])
        self.saved.emit(path, error)
