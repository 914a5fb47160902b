"""A progress bar for work that reports many times a second.

QProgressBar.setValue repaints the bar at once, synchronously, whenever the filled part grows
by a pixel: fed by a script's results thirty times a second while a card worker holds the GIL,
each call took 15-20 ms of the GUI thread. This one only schedules a paint (update), which Qt
merges with the window's next one. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyleOptionProgressBar, QWidget


class ProgressLine(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value = 0
        self._maximum = 1
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_progress(self, value: int, maximum: int, text: str) -> None:
        self._value, self._maximum, self._text = value, max(1, maximum), text
        self.update()

    def value(self) -> int:
        return self._value

    def maximum(self) -> int:
        return self._maximum

    def text(self) -> str:
        return self._text

    def sizeHint(self) -> QSize:
        return QSize(200, self.fontMetrics().height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.fontMetrics().height() + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        option = QStyleOptionProgressBar()
        option.initFrom(self)
        option.minimum, option.maximum = 0, self._maximum
        option.progress = min(self._value, self._maximum)
        option.text = self._text
        option.textVisible = True
        option.textAlignment = Qt.AlignmentFlag.AlignCenter
        option.state |= QStyle.StateFlag.State_Horizontal
        painter = QPainter(self)
        self.style().drawControl(QStyle.ControlElement.CE_ProgressBar, option, painter, self)
