"""The panels' one way of stacking two views that share the height."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget


def stacked(top: QWidget, bottom: QWidget, top_share: int, bottom_share: int) -> QSplitter:
    """A vertical splitter giving `top` and `bottom` the height in that ratio."""
    split = QSplitter(Qt.Orientation.Vertical)
    for view in (top, bottom):
        if not view.minimumHeight():
            # Qt keeps a scroll area 70 px high at least: two of them stacked, with a panel's other
            # rows and a dock's tab bar (the console shares its place with the Script dock), and the
            # window no longer fitted a 600 px screen. Two lines of text is enough to drag it open.
            view.setMinimumHeight(2 * view.fontMetrics().lineSpacing() + 12)
    split.addWidget(top)
    split.addWidget(bottom)
    split.setStretchFactor(0, top_share)
    split.setStretchFactor(1, bottom_share)
    return split
