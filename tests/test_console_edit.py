"""The console's structured view is editable, and a malformed command can be sent on purpose
(negative tests), traced as such. On the embedded virtual reader: no PC/SC service needed."""

from __future__ import annotations

from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from explorer.core.exchange import SENT_AS_IS, Origin
from explorer.link.bridge import EventBridge
from explorer.link.manager import ConnectionManager
from explorer.trace.records import Kind
from explorer.ui.console_panel import ConsolePanel
from explorer.ui.main_window import MainWindow
from tests.conftest import connect_demo_card, until

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot: QtBot, tmp_path: Path) -> ConsolePanel:  # no PC/SC: a manager that opens nothing
    def no_link(reader: str) -> object:
        raise AssertionError("no reader is opened in these tests")

    p = ConsolePanel(ConnectionManager(no_link),  # type: ignore[arg-type]
                     QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(p)
    p.show()
    return p


def field(panel: ConsolePanel, name: str) -> int:
    rows = [panel.structure.topLevelItem(i).text(0) for i in range(panel.structure.topLevelItemCount())]
    return rows.index(name)


def type_into(panel: ConsolePanel, qtbot: QtBot, name: str, text: str) -> None:
    """As a tester does: double-click the Bytes cell, type, Enter."""
    from PySide6.QtWidgets import QLineEdit

    item = panel.structure.topLevelItem(field(panel, name))
    panel.structure.editItem(item, 1)
    editor = panel.structure.findChild(QLineEdit)
    assert editor is not None, "no editor opened"
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def test_fields_are_typed_and_lc_follows(panel: ConsolePanel, qtbot: QtBot) -> None:
    panel.input.set_command("00 A4 04 00 02 3F 00")
    type_into(panel, qtbot, "P1", "08")
    qtbot.waitUntil(lambda: panel.input.toPlainText() == "00 A4 08 00 02 3F 00", timeout=3000)
    type_into(panel, qtbot, "Data", "3F 00 50 15")
    qtbot.waitUntil(lambda: panel.input.toPlainText() == "00 A4 08 00 04 3F 00 50 15", timeout=3000)
    type_into(panel, qtbot, "Le", "00")  # a row to type in, though the command had no Le
    qtbot.waitUntil(lambda: panel.input.toPlainText() == "00 A4 08 00 04 3F 00 50 15 00", timeout=3000)
    lc = panel.structure.topLevelItem(field(panel, "Lc"))
    assert lc.text(1) == "04" and not lc.flags() & Qt.ItemFlag.ItemIsEditable  # computed, not typed


def test_a_bad_field_is_refused_and_named(panel: ConsolePanel, qtbot: QtBot) -> None:
    panel.input.set_command("00 A4 04 00 02 3F 00")
    type_into(panel, qtbot, "INS", "61")
    qtbot.waitUntil(lambda: "INS:" in panel.validation_label.text(), timeout=3000)
    assert "ISO/IEC 7816-4 excludes INS 6X and 9X" in panel.validation_label.text()
    assert panel.input.toPlainText() == "00 A4 04 00 02 3F 00"
    assert panel.structure.topLevelItem(field(panel, "INS")).text(1) == "A4"  # the cell is put back


def test_send_as_is_sends_a_malformed_command_and_the_trace_says_so(
        virtual_window: tuple[MainWindow, EventBridge], qtbot: QtBot, aloop: qasync.QEventLoop) -> None:
    main, bridge = virtual_window
    console = main.console

    async def scenario() -> None:
        await connect_demo_card(main, bridge)
        console.input.set_command("00 A4 04 00 05 3F 00")  # Lc says 5, two bytes follow
        assert not console.send_button.isEnabled()  # refused by the APDU check...
        console.as_is_box.setChecked(True)  # ...unless the tester asks for it
        assert console.send_button.isEnabled()
        assert "it will be sent as is" in console.validation_label.text()
        qtbot.keyClick(console.input, Qt.Key.Key_Return)
        (reply,) = await until(console.reply_shown, what="the answer")
        assert [e.command for e in reply.exchanges] == [bytes.fromhex("00A40400053F00")]
        assert reply.exchanges[0].note == SENT_AS_IS

    aloop.run_until_complete(scenario())
    assert any(line.startswith("[as is] > 00 A4 04 00 05 3F 00") for line in console.transcript.plain_lines)
    main.trace.poll()
    sent = [r for r in main.trace.model.records() if r.kind is Kind.EXCHANGE][-1]
    assert sent.command == bytes.fromhex("00A40400053F00") and sent.origin == Origin.CONSOLE.value
    assert sent.detail == SENT_AS_IS


def test_the_note_goes_to_every_export_and_back(tmp_path: Path) -> None:
    from explorer.core.exchange import Exchange
    from explorer.trace.export import ExportFormat, text_lines, write_export
    from explorer.trace.journal import read_journal
    from explorer.trace.records import from_exchange

    record = from_exchange(1, Exchange("Virtual reader 0", bytes.fromhex("00A40400053F00"), b"\x67\x00",
                                       1_700_000_000.0, 0.001, Origin.CONSOLE, note=SENT_AS_IS))
    assert f"[{SENT_AS_IS}]" in text_lines(record).splitlines()[0]
    path = tmp_path / "t.jsonl"
    write_export(path, [record], ExportFormat.JSONL)
    (back,) = read_journal(path).records
    assert back.detail == SENT_AS_IS
    write_export(tmp_path / "t.csv", [record], ExportFormat.CSV)
    assert SENT_AS_IS in (tmp_path / "t.csv").read_text(encoding="utf-8")
