"""A window's first size: what it wants, or less where the screen is smaller (a 1024x700 laptop,
a window manager that does not shrink new windows), so that all of it, frame included, is on
screen. GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

_SHARE = 96  # percent of the available area: room for the frame the window manager adds


def fitted(widget: QWidget, width: int, height: int) -> QSize:
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return QSize(width, height)
    room = screen.availableGeometry()
    return QSize(min(width, room.width() * _SHARE // 100), min(height, room.height() * _SHARE // 100))
