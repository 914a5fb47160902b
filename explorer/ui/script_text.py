"""The text of a script: a plain-text editor with a gutter (line numbers and run marks), the
diagnostics of the last check underlined where they point, and the lines of a run tinted.

Places are the parser's: lines and columns from 1, columns counted in characters. Qt counts
positions in UTF-16 units, so a column is converted before it becomes a cursor position (a
character outside the BMP earlier on the line would otherwise shift every underline after it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QRect, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QHelpEvent,
    QResizeEvent,
    QTextBlock,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from explorer.core.sw_tables import Severity
from explorer.script.model import Level
from explorer.ui.console_transcript import SEVERITY_COLOURS
from explorer.ui.script_gutter import MARK_WORDS, RUNNING_COLOUR, Gutter, LineMark

MAX_UNDERLINES = 1000  # beyond these the message line still counts them all
MAX_TINTS = 2000
_WORD = re.compile(r"\S*")
_RED = SEVERITY_COLOURS[Severity.ERROR]
_TINTS = {LineMark.RUNNING: RUNNING_COLOUR, LineMark.FAILED: _RED, LineMark.ERROR: _RED}
_UNDERLINE_COLOURS = {Level.ERROR: _RED, Level.WARNING: SEVERITY_COLOURS[Severity.WARNING]}


@dataclass(frozen=True)
class Underline:
    """A diagnostic of this editor's own text, at its line and column (from 1)."""

    line: int
    column: int
    level: Level
    message: str


def utf16_index(text: str, index: int) -> int:
    """Where character `index` of `text` is, in Qt's UTF-16 units."""
    head = text[:index]
    return len(head) + sum(1 for ch in head if ord(ch) > 0xFFFF)


class ScriptTextEdit(QPlainTextEdit):
    """GUI thread only. Marks are kept by line, each with a text cursor at the start of its line's
    text: an edit that adds or removes lines moves the marks with their text (the cursors move
    as Qt moves every cursor), and of two marks that end on one line the first set stays."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.setPlaceholderText("# A script: one APDU a line, in hex; `expect 90 00` under a command "
                                "checks its answer (docs/scripts.md)")
        self.gutter = Gutter(self)
        self._marks: dict[int, tuple[LineMark, str]] = {}
        self._tinted: dict[int, str] = {}  # the marked lines with a tint (failed, error, running): colour
        self._anchors: dict[int, QTextCursor] = {}
        self._underlines: list[Underline] = []
        # line -> (start, end, underline), in UTF-16 units of that line: for the tooltip
        self._spans: dict[int, list[tuple[int, int, Underline]]] = {}
        self.flagged: dict[int, Level] = {}  # lines with a diagnostic: their numbers are coloured
        self._blocks = self.blockCount()
        self._selections = QTimer(self)
        self._selections.setSingleShot(True)
        self._selections.setInterval(0)  # many marks in one go (a fast run) cost one rebuild
        self._selections.timeout.connect(self._apply_selections)
        self.blockCountChanged.connect(self._fit_gutter)
        self.updateRequest.connect(self._scroll_gutter)
        self.cursorPositionChanged.connect(self.gutter.update)
        self.document().contentsChange.connect(self._shift_marks)
        self._fit_gutter()

    # -- gutter geometry -------------------------------------------------------------------

    def _fit_gutter(self, _count: int = 0) -> None:
        self.setViewportMargins(self.gutter.width_needed(), 0, 0, 0)
        self.gutter.update()

    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        area = self.contentsRect()
        self.gutter.setGeometry(QRect(area.left(), area.top(), self.gutter.width_needed(), area.height()))

    # -- marks ----------------------------------------------------------------------------

    def set_mark(self, line: int, mark: LineMark, detail: str = "") -> None:
        was = self._marks.get(line, (LineMark.NONE, ""))[0]
        if mark is LineMark.NONE:
            self._marks.pop(line, None)
            self._anchors.pop(line, None)
        else:
            block = self.document().findBlockByNumber(line - 1)
            if not block.isValid():
                return
            self._marks[line] = (mark, detail)
            if line not in self._anchors:
                self._anchors[line] = QTextCursor(block)
        self.gutter.update()
        if mark in _TINTS:
            self._tinted[line] = _TINTS[mark]
        else:
            self._tinted.pop(line, None)
        if (mark in _TINTS) or (was in _TINTS):
            # Tints change with failed, error and running lines only: a run's thousands of passed
            # lines do not rebuild them.
            self._selections.start()

    def mark(self, line: int) -> LineMark:
        return self._marks.get(line, (LineMark.NONE, ""))[0]

    def mark_text(self, line: int) -> str:
        """The mark in words ("line 12: failed: expected 90 00, got 6A 82"), "" for none."""
        mark, detail = self._marks.get(line, (LineMark.NONE, ""))
        if mark is LineMark.NONE:
            return ""
        return f"line {line}: {MARK_WORDS[mark]}" + (f": {detail}" if detail else "")

    def marks(self) -> dict[int, LineMark]:
        return {line: mark for line, (mark, _) in self._marks.items()}

    def clear_marks(self) -> None:
        self._marks.clear()
        self._tinted.clear()
        self._anchors.clear()
        self.gutter.update()
        self._selections.start()

    def _shift_marks(self, _position: int, _removed: int, _added: int) -> None:
        count = self.blockCount()
        if count == self._blocks or not self._marks:
            self._blocks = count
            return
        self._blocks = count
        marks: dict[int, tuple[LineMark, str]] = {}
        anchors: dict[int, QTextCursor] = {}
        for line, cursor in self._anchors.items():
            moved = cursor.blockNumber() + 1
            if moved not in marks:
                marks[moved] = self._marks[line]
                anchors[moved] = cursor
        self._marks, self._anchors = marks, anchors
        self._tinted = {line: colour for line, (mark, _) in marks.items() if (colour := _TINTS.get(mark))}
        self._selections.start()

    # -- diagnostics ----------------------------------------------------------------------

    def set_underlines(self, underlines: list[Underline]) -> None:
        self._underlines = underlines[:MAX_UNDERLINES]
        self._apply_selections()

    def underlines(self) -> list[tuple[int, int, int, Level]]:
        """(line, first column, last column + 1, level) of each underline drawn, columns from 1:
        what a tester sees, for tests."""
        out = []
        for line, spans in sorted(self._spans.items()):
            text = self.document().findBlockByNumber(line - 1).text()
            for start, end, underline in spans:
                out.append((line, _char_index(text, start) + 1, _char_index(text, end) + 1, underline.level))
        return out

    def _apply_selections(self) -> None:
        self._selections.stop()
        selections: list[QTextEdit.ExtraSelection] = []
        document = self.document()
        # Only failed, error and running lines are tinted: a run's thousands of passed lines are
        # not looked at again on every batch of results.
        for line, colour in list(self._tinted.items())[:MAX_TINTS]:
            block = document.findBlockByNumber(line - 1)
            if not block.isValid():
                continue
            tint = QColor(colour)
            tint.setAlpha(28)
            fmt = QTextCharFormat()
            fmt.setBackground(tint)
            fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selections.append(_selection(QTextCursor(block), fmt))
        self._spans = {}
        for underline in self._underlines:
            block = document.findBlockByNumber(underline.line - 1)
            span = _word_span(block, underline.column)
            if span is None:
                continue
            start, end = span
            fmt = QTextCharFormat()
            underline_colour = QColor(_UNDERLINE_COLOURS[underline.level])
            if underline.level is Level.ERROR:
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                background = QColor(underline_colour)
                background.setAlpha(60)
                fmt.setBackground(background)
            else:
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DashUnderline)
            fmt.setUnderlineColor(underline_colour)
            cursor = QTextCursor(block)
            cursor.setPosition(block.position() + start)
            cursor.setPosition(block.position() + end, QTextCursor.MoveMode.KeepAnchor)
            selections.append(_selection(cursor, fmt))
            self._spans.setdefault(underline.line, []).append((start, end, underline))
        self.flagged = {}
        for underline in self._underlines:
            if self.flagged.get(underline.line) is not Level.ERROR:
                self.flagged[underline.line] = underline.level
        self.setExtraSelections(selections)
        self.gutter.update()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            cursor = self.cursorForPosition(event.pos())
            at = cursor.positionInBlock()
            spans = self._spans.get(cursor.blockNumber() + 1, [])
            found = [f"{u.level.value}: {u.message}" for start, end, u in spans if start <= at <= end]
            if found:
                QToolTip.showText(event.globalPos(), "\n".join(found), self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    # -- moving about ---------------------------------------------------------------------

    def go_to(self, line: int, column: int) -> None:
        """The text cursor to `line`:`column` (from 1), shown, and the focus here."""
        block = self.document().findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            block = self.document().lastBlock()
        text = block.text()
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + utf16_index(text, min(max(0, column - 1), len(text))))
        self.setTextCursor(cursor)
        self.ensureCursorVisible()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def reveal_line(self, line: int) -> None:
        """Scroll so that `line` is on screen, leaving the text cursor where it is."""
        bar = self.verticalScrollBar()  # in lines: a plain-text edit scrolls by blocks
        shown = max(1, self.viewport().height() // max(1, self.fontMetrics().lineSpacing()))
        if not bar.value() <= line - 1 < bar.value() + shown - 1:
            bar.setValue(max(0, line - 1 - shown // 2))


def _selection(cursor: QTextCursor, fmt: QTextCharFormat) -> QTextEdit.ExtraSelection:
    selection = QTextEdit.ExtraSelection()
    selection.cursor = cursor  # type: ignore[attr-defined]
    selection.format = fmt  # type: ignore[attr-defined]
    return selection


def _word_span(block: QTextBlock, column: int) -> tuple[int, int] | None:
    """The UTF-16 span of the word that starts at `column` (from 1) of `block`: to the next
    space, at least one character; past the end of the line, its last character."""
    if not block.isValid():
        return None
    text = block.text()
    if not text:
        return None
    start = min(max(0, column - 1), len(text) - 1)
    match = _WORD.match(text, start)
    end = max(match.end() if match else start + 1, start + 1)
    return utf16_index(text, start), utf16_index(text, end)


def _char_index(text: str, utf16: int) -> int:
    """The character index of UTF-16 position `utf16` in `text`."""
    units = 0
    for index, ch in enumerate(text):
        if units >= utf16:
            return index
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)
