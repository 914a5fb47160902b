"""Labels for messages that come and go (a check's verdict, an error, a selected field's
meaning): the widgets below them must not move when a message appears, grows or goes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class MessageLine(QLabel):
    """`lines` lines high whatever it holds, and keeping its place when hidden. Text that does
    not fit is cut; the whole of it is in the tooltip. Its width never widens the window."""

    def __init__(self, lines: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(lines > 1)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 2 * self.margin() + 2)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)
