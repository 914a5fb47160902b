"""The panels' one way of stacking two views that share the height."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget


def stacked(top: QWidget, bottom: QWidget, top_share: int, bottom_share: int) -> QSplitter:
    """A vertical splitter giving `top` and `bottom` the height in that ratio."""
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(top)
    split.addWidget(bottom)
    split.setStretchFactor(0, top_share)
    split.setStretchFactor(1, bottom_share)
    return split
