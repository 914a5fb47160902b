"""The command input: hex as the tester types it, checked on every keystroke."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from explorer.core.apdu_text import CommandCheck, check_command_text
from explorer.core.sensitive import MASK_CHAR
from explorer.ui.console_history import CommandHistory


class ApduEditor(QPlainTextEdit):
    """Emits `checked` after each edit; Enter emits `submitted` (Shift+Enter breaks the line);
    Up on the first line and Down on the last browse the history. GUI thread only."""

    checked = Signal(object)  # CommandCheck
    submitted = Signal()

    def __init__(self, history: CommandHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("00 A4 04 00 07 A0 00 00 00 04 10 10   (spaces, colons, 0x and line breaks "
                                "are fine; Enter sends, ↑/↓ history)")
        self.setTabChangesFocus(True)
        self.setMaximumHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.check: CommandCheck = check_command_text("")
        self.textChanged.connect(self._recheck)

    def set_command(self, text: str) -> None:
        """Show `text`; a masked one (from the history) has its "••" selected, so that typing
        the PIN replaces them."""
        from PySide6.QtGui import QTextCursor  # text formats and cursors: on use, not at start-up

        self.setPlainText(text)
        first = text.find(MASK_CHAR)
        if first < 0:
            self.moveCursor(QTextCursor.MoveOperation.End)
            return
        cursor = self.textCursor()
        cursor.setPosition(first)
        cursor.setPosition(text.rfind(MASK_CHAR) + 1, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)

    def _recheck(self) -> None:
        self.check = check_command_text(self.toPlainText())
        self._mark(self.check.span)
        self.checked.emit(self.check)

    def _mark(self, span: tuple[int, int] | None) -> None:
        """Underline the characters at fault, in the text as typed."""
        selections = []
        if span is not None:
            from PySide6.QtGui import QTextCharFormat, QTextCursor

            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor("#c0162b"))
            fmt.setBackground(QColor(192, 22, 43, 40))
            cursor = QTextCursor(self.document())
            cursor.setPosition(span[0])
            cursor.setPosition(min(span[1], len(self.toPlainText())), QTextCursor.MoveMode.KeepAnchor)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor  # type: ignore[attr-defined]
            selection.format = fmt  # type: ignore[attr-defined]
            selections.append(selection)
        self.setExtraSelections(selections)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not mods & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        cursor = self.textCursor()
        if key == Qt.Key.Key_Up and cursor.blockNumber() == 0:
            entry = self.history.older()
            if entry is not None:
                self.set_command(entry)
            return
        if key == Qt.Key.Key_Down and cursor.blockNumber() == self.blockCount() - 1:
            entry = self.history.newer()
            if entry is not None:
                self.set_command(entry)
            return
        super().keyPressEvent(event)
