"""A window's first size fits the screen it opens on: the main window wants 1200x800, and on a
smaller screen (the offscreen test screen is 800x800, a laptop 1024x700) it opens within the
available area, frame room left, rather than running off the right and bottom edges."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from explorer.link.bridge import EventBridge
from explorer.ui.main_window import MainWindow
from explorer.ui.screen_fit import fitted

pytestmark = pytest.mark.gui


def test_the_main_window_opens_within_the_screen(virtual_window: tuple[MainWindow, EventBridge]) -> None:
    window, _ = virtual_window
    room = window.screen().availableGeometry()
    assert room.width() < 1200  # the test screen is smaller than what the window wants
    assert window.width() <= room.width() * 96 // 100 and window.height() <= room.height() * 96 // 100
    assert window.height() == min(800, room.height() * 96 // 100)


def test_a_screen_large_enough_gives_the_size_asked(qtbot: QtBot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    room = widget.screen().availableGeometry()
    assert fitted(widget, 300, 200) == QSize(300, 200)
    assert fitted(widget, room.width() * 2, 10) == QSize(room.width() * 96 // 100, 10)
