"""The ATR as a row of byte cells: offset above, hex in the middle, the
byte's role below (TS, T0, TA1, H1..Hk, TCK), coloured by kind.

Painted rather than built from widgets: 33 cells relayout on every resize,
and a cell must know its exact rectangle for hover and click. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from explorer.core.atr_fields import Level
from explorer.ui.atr_model import HOVER_COLOUR, LEVEL_COLOURS

# Background per kind of byte; pale, so the highlight reads on top of them.
KIND_COLOURS = {
    "format": "#dbe7f7",
    "interface": "#dcefdc",
    "historical": "#f7ead6",
    "check": "#eadcf3",
    "extra": "#e4e4e4",
}
_SELECTED = "#2f6fd0"
_GAP = 4


@dataclass(frozen=True)
class ByteCell:
    value: int
    label: str
    kind: str
    error: bool = False


class AtrBytesView(QWidget):
    hovered = Signal(int)  # byte index under the mouse, -1 when none
    clicked = Signal(int)  # byte index clicked or moved to with the arrow keys

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._cells: list[ByteCell] = []
        self._selected: tuple[int, int] | None = None
        self._hover: tuple[int, int] | None = None
        self._current = -1
        self._hover_index = -1
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._mono.setPointSizeF(self._mono.pointSizeF() * 1.25)
        self._small = QFont(self.font())
        self._small.setPointSizeF(self.font().pointSizeF() * 0.8)
        hex_width = QFontMetrics(self._mono).horizontalAdvance("WW")
        label_width = QFontMetrics(self._small).horizontalAdvance("TCK")
        self._cell_w = max(hex_width, label_width) + 12
        self._small_h = QFontMetrics(self._small).height()
        self._cell_h = self._small_h * 2 + QFontMetrics(self._mono).height() + 8

    def set_cells(self, cells: Sequence[ByteCell]) -> None:
        self._cells = list(cells)
        self._selected = self._hover = None
        self._current = self._hover_index = -1
        self.updateGeometry()
        self.update()

    @property
    def cells(self) -> list[ByteCell]:
        return list(self._cells)

    def set_selected(self, span: tuple[int, int] | None, current: int | None = None) -> None:
        self._selected = span
        if current is not None:
            self._current = current
        self.update()

    def set_hover(self, span: tuple[int, int] | None) -> None:
        self._hover = span
        self.update()

    @property
    def selected_span(self) -> tuple[int, int] | None:
        return self._selected

    @property
    def hover_span(self) -> tuple[int, int] | None:
        return self._hover

    # -- geometry -----------------------------------------------------------------------

    def _per_row(self, width: int) -> int:
        return max(1, (width + _GAP) // (self._cell_w + _GAP))

    def byte_rect(self, index: int) -> QRect:
        per_row = self._per_row(self.width())
        row, column = divmod(index, per_row)
        return QRect(column * (self._cell_w + _GAP), row * (self._cell_h + _GAP), self._cell_w, self._cell_h)

    def index_at(self, pos: QPoint) -> int:
        for i in range(len(self._cells)):
            if self.byte_rect(i).contains(pos):
                return i
        return -1

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        rows = max(1, -(-len(self._cells) // self._per_row(width)))
        return rows * (self._cell_h + _GAP)

    def sizeHint(self) -> QSize:
        width = 16 * (self._cell_w + _GAP)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(self._cell_w * 4, self._cell_h)

    def resizeEvent(self, event: object) -> None:
        self.setMinimumHeight(self.heightForWidth(self.width()))

    # -- painting -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for i, cell in enumerate(self._cells):
            rect = self.byte_rect(i)
            inside_selected = self._selected is not None and self._selected[0] <= i < self._selected[1]
            inside_hover = self._hover is not None and self._hover[0] <= i < self._hover[1]
            fill = QColor(KIND_COLOURS.get(cell.kind, "#ffffff"))
            if inside_hover:
                fill = QColor(HOVER_COLOUR)
            if inside_selected:
                fill = QColor(_SELECTED)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(fill)
            p.drawRoundedRect(rect, 4, 4)
            if cell.error:
                p.setPen(QPen(QColor(LEVEL_COLOURS[Level.ERROR]), 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
            if i == self._current and self.hasFocus():
                p.setPen(QPen(QColor("#000000"), 1, Qt.PenStyle.DotLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 3, 3)
            text = QColor("#ffffff") if inside_selected else self.palette().text().color()
            muted = QColor("#dfe8f7") if inside_selected else QColor("#6b6b6b")
            top = QRect(rect.x(), rect.y() + 2, rect.width(), self._small_h)
            middle = QRect(rect.x(), top.bottom(), rect.width(), rect.height() - 2 * self._small_h - 4)
            bottom = QRect(rect.x(), middle.bottom(), rect.width(), self._small_h)
            p.setFont(self._small)
            p.setPen(muted)
            p.drawText(top, Qt.AlignmentFlag.AlignCenter, str(i))
            p.setFont(self._mono)
            p.setPen(text)
            p.drawText(middle, Qt.AlignmentFlag.AlignCenter, f"{cell.value:02X}")
            p.setFont(self._small)
            p.setPen(muted)
            p.drawText(bottom, Qt.AlignmentFlag.AlignCenter, cell.label)
        p.end()

    # -- input --------------------------------------------------------------------------

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.index_at(event.position().toPoint())
        if index != self._hover_index:
            self._hover_index = index
            self.hovered.emit(index)

    def leaveEvent(self, event: object) -> None:
        if self._hover_index != -1:
            self._hover_index = -1
            self.hovered.emit(-1)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.index_at(event.position().toPoint())
        if index >= 0:
            self._current = index
            self.clicked.emit(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}.get(Qt.Key(event.key()))
        if step is None or not self._cells:
            super().keyPressEvent(event)
            return
        self._current = min(max(0, self._current + step), len(self._cells) - 1)
        self.clicked.emit(self._current)
