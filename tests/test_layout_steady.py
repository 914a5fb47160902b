"""Messages that come and go (a command's check, an ATR error, a field's meaning, why Send is
off) never move the widgets below them: the tester's eye and mouse stay where they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from explorer.link.manager import ConnectionManager
from explorer.ui.atr_panel import AtrPanel
from explorer.ui.console_panel import ConsolePanel

pytestmark = pytest.mark.gui


def top(widget: QWidget, panel: QWidget) -> int:
    return widget.mapTo(panel, QPoint(0, 0)).y()


def test_the_console_does_not_jump(qtbot: QtBot, tmp_path: Path) -> None:
    def no_link(reader: str) -> object:
        raise AssertionError("no reader is opened here")

    panel = ConsolePanel(ConnectionManager(no_link),  # type: ignore[arg-type]
                         QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(panel)
    panel.resize(560, 500)
    panel.show()
    qtbot.waitExposed(panel)
    seen = set()
    for text in ("", "00 A4 0G", "00 A4 04 00 09 A0 00 00 00 04 10 10 " * 3, "00 A4 04 00", "", "00 A4 04"):
        panel.input.set_command(text)
        qtbot.wait(10)  # let the layout settle: what is measured is where things end up
        seen.add((top(panel.structure, panel), top(panel.send_button, panel)))
    assert len(seen) == 1, f"the console moved: {sorted(seen)}"


def atr_panel(qtbot: QtBot, tmp_path: Path, width: int) -> AtrPanel:
    panel = AtrPanel(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                     read_database=lambda path: None)
    qtbot.addWidget(panel)
    panel.resize(width, 560)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_the_atr_panel_does_not_jump(qtbot: QtBot, tmp_path: Path) -> None:
    panel = atr_panel(qtbot, tmp_path, 520)
    seen = set()

    def where() -> None:
        # The bytes view itself grows with a longer ATR (more rows of bytes): that is content, not
        # a message. Above it and between it and the field tree, nothing may move.
        qtbot.wait(10)
        below = top(panel.tree, panel) - top(panel.bytes_view, panel) - panel.bytes_view.height()
        seen.add((top(panel.bytes_view, panel), below))

    where()
    for text in ("3B 0G", "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A", "", "3B"):
        panel.edit.setText(text)
        panel._typed(text)  # as textEdited does for a typed change
        where()
        if panel.model.rowCount():
            panel.tree.setCurrentIndex(panel.model.index(1, 0))  # a field's meaning spelt out
            where()
    assert len(seen) == 1, f"the ATR panel moved: {sorted(seen)}"


@pytest.mark.parametrize("width", [380, 520, 900])
def test_the_atr_meaning_column_stays_in_sight(qtbot: QtBot, tmp_path: Path, width: int) -> None:
    """At 1024x700 the ATR dock is under 400 px wide: Field and Value took 400 px of fixed caps
    and the Meaning column was pushed out of the view."""
    panel = atr_panel(qtbot, tmp_path, 900)
    # Long values: 15 historical bytes, and T=15 global bytes with long field names.
    panel.show_atr(bytes.fromhex("3BDA18FF81B1FE751F030031C573C001400090000C"), "typed")
    panel.resize(width, 560)  # the dock narrowed after the decode, as a tester drags it

    def meaning_in_sight() -> bool:
        header = panel.tree.header()
        return header.sectionViewportPosition(2) + 40 <= panel.tree.viewport().width()

    qtbot.waitUntil(meaning_in_sight, timeout=3000)
