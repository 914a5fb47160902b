"""The script editor's gutter: line numbers, and beside each line the mark its last run left.

A mark is a glyph as well as a colour (✓ ✗ ! – ▶), so it reads without colour, and its words
are in the gutter's tooltip. Only the lines on screen are painted, so a script of 200,000 lines
costs what a short one does.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QHelpEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QToolTip, QWidget

from explorer.core.sw_tables import Severity
from explorer.script.model import Level
from explorer.ui.console_transcript import MUTED, SEVERITY_COLOURS

if TYPE_CHECKING:
    from explorer.ui.script_text import ScriptTextEdit


class LineMark(enum.Enum):
    """The mark in the gutter beside a line, from the last run."""

    NONE = "none"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


RUNNING_COLOUR = "#1f6fd0"
_RED = SEVERITY_COLOURS[Severity.ERROR]
MARK_COLOURS = {LineMark.RUNNING: RUNNING_COLOUR, LineMark.PASSED: SEVERITY_COLOURS[Severity.SUCCESS],
                LineMark.FAILED: _RED, LineMark.ERROR: _RED, LineMark.SKIPPED: MUTED}
MARK_GLYPHS = {LineMark.RUNNING: "▶", LineMark.PASSED: "✓", LineMark.FAILED: "✗", LineMark.ERROR: "!",
               LineMark.SKIPPED: "–"}
MARK_WORDS = {LineMark.RUNNING: "running", LineMark.PASSED: "passed", LineMark.FAILED: "failed",
              LineMark.ERROR: "error (the card or the reader failed)", LineMark.SKIPPED: "skipped"}
_FLAG_COLOURS = {Level.ERROR: _RED, Level.WARNING: SEVERITY_COLOURS[Severity.WARNING]}
_PAD = 4
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class Gutter(QWidget):
    """Painted by its editor's blocks; a click selects the line (as editors do)."""

    def __init__(self, editor: ScriptTextEdit) -> None:
        super().__init__(editor)
        self.editor = editor
        self.setMouseTracking(True)

    def mark_width(self) -> int:
        return self.fontMetrics().height() + _PAD

    def width_needed(self) -> int:
        digits = max(3, len(str(max(1, self.editor.blockCount()))))
        return _PAD + self.fontMetrics().horizontalAdvance("9" * digits) + _PAD + self.mark_width()

    def sizeHint(self) -> QSize:
        return QSize(self.width_needed(), 0)

    def line_at(self, y: int) -> int:
        """The line (from 1) drawn at height `y`, 0 below the last one."""
        block = self.editor.firstVisibleBlock()
        offset = self.editor.contentOffset()
        while block.isValid():
            geometry = self.editor.blockBoundingGeometry(block).translated(offset)
            if geometry.top() > y:
                break
            if block.isVisible() and geometry.bottom() >= y:
                return block.blockNumber() + 1
            block = block.next()
        return 0

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.alternateBase())
        number_colour = QColor(MUTED)
        current = self.editor.textCursor().blockNumber()
        mark_w = self.mark_width()
        number_right = self.width() - mark_w - _PAD
        bold = QFont(self.font())
        bold.setBold(True)
        glyphs = QFont(bold)
        glyphs.setPointSizeF(bold.pointSizeF() * 1.2)
        block = self.editor.firstVisibleBlock()
        offset = self.editor.contentOffset()
        line_h = self.fontMetrics().height()
        bottom_limit = event.rect().bottom()
        while block.isValid():
            geometry = self.editor.blockBoundingGeometry(block).translated(offset)
            top = round(geometry.top())
            if top > bottom_limit:
                break
            if block.isVisible() and geometry.bottom() >= event.rect().top():
                number = block.blockNumber()
                flagged = self.editor.flagged.get(number + 1)
                painter.setFont(bold if number == current or flagged else self.font())
                painter.setPen(QColor(_FLAG_COLOURS[flagged]) if flagged else
                               palette.text().color() if number == current else number_colour)
                painter.drawText(QRect(0, top, number_right, line_h), _RIGHT, str(number + 1))
                mark = self.editor.mark(number + 1)
                if mark is not LineMark.NONE:
                    self._paint_mark(painter, mark, QRect(self.width() - mark_w, top, mark_w, line_h), glyphs)
            block = block.next()
        painter.end()

    @staticmethod
    def _paint_mark(painter: QPainter, mark: LineMark, box: QRect, font: QFont) -> None:
        colour = QColor(MARK_COLOURS[mark])
        painter.setFont(font)
        if mark is LineMark.ERROR:  # a failed card or reader: a filled disc, unlike a failed expectation
            side = min(box.width(), box.height()) - 4
            disc = QRect(0, 0, side, side)
            disc.moveCenter(box.center())
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(disc)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(disc, int(Qt.AlignmentFlag.AlignCenter), MARK_GLYPHS[mark])
            return
        painter.setPen(colour)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), MARK_GLYPHS[mark])

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            line = self.line_at(event.pos().y())
            text = self.editor.mark_text(line) if line else ""
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        line = self.line_at(round(event.position().y()))
        if line:
            self.editor.go_to(line, 1)
        super().mousePressEvent(event)

