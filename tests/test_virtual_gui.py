"""The window with the embedded virtual reader: no PC/SC service, no PC/SC library, the Virtual menu."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from explorer.core.exchange import Origin
from explorer.core.hexfmt import to_hex
from explorer.link.bridge import EventBridge
from explorer.trace.export import ExportFormat, write_export
from explorer.trace.records import Kind
from explorer.ui.main_window import MainWindow
from explorer.virtual.card_sources import CardSource, SourceKind
from explorer.virtual.embedded import READER_PREFIX
from explorer.virtual.replay import ReplayMode
from tests.conftest import until
from tests.testbed import PcscBed

DEMO_ATR = bytes.fromhex("3B8E800180 31C073F60100 5643454465 6D6F89".replace(" ", ""))
FIRST = f"{READER_PREFIX} 0"
SELECT_APP = "00 A4 04 00 08 F0 43 41 52 44 45 58 50 00"


def _session(qtbot: QtBot, window: MainWindow, aloop: qasync.QEventLoop, bridge: EventBridge) -> None:
    """Connect the console to the selected virtual card, send a SELECT, and check every panel."""
    console, atr = window.console, window.atr

    async def scenario() -> None:
        (event,) = await until(bridge.card_inserted, what="the demo card")
        assert event.reader == FIRST and event.atr == DEMO_ATR
        assert window.readers.selected_reader() == FIRST  # selected for the tester
        assert console.reader_label.text() == f"<b>{FIRST}</b>"
        if atr.atr is None:
            await until(atr.decoded, what="the ATR decode")
        assert atr.atr is not None and atr.atr.raw == DEMO_ATR
        assert atr.source_label.text() == f"Card in {FIRST}"
        console.connect_button.click()
        await until(console.idle, what="connect")
        assert console.state_label.text() == "Connected · T=0 · shared"
        qtbot.keyClicks(console.input, SELECT_APP)
        qtbot.keyClick(console.input, Qt.Key.Key_Return)
        (reply,) = await until(console.reply_shown, what="the answer")
        assert reply.sw == 0x9000 and reply.data[0] == 0x6F  # the FCI, through 61xx + GET RESPONSE
        assert [e.origin for e in reply.exchanges] == [Origin.CONSOLE, Origin.GET_RESPONSE]

    aloop.run_until_complete(scenario())
    window.trace.poll()
    shown = window.trace.model.records()
    exchanges = [r for r in shown if r.kind is Kind.EXCHANGE]
    assert [r.origin for r in exchanges][-2:] == [Origin.CONSOLE.value, Origin.GET_RESPONSE.value]
    assert exchanges[-2].command == bytes.fromhex(SELECT_APP.replace(" ", ""))
    assert any(r.kind is Kind.EVENT and r.reader == FIRST and r.detail == to_hex(DEMO_ATR) for r in shown)


@pytest.mark.pcsc
def test_with_pcscd_stopped_the_window_runs_on_the_virtual_reader(
        qtbot: QtBot, bed: PcscBed, settings: QSettings, aloop: qasync.QEventLoop) -> None:
    from explorer.pcsc.qt_monitor import MonitorBridge

    bed.stop()  # the bed fixture starts it again for the next test
    bridge = MonitorBridge()
    window = MainWindow(bridge, settings)
    qtbot.addWidget(window)
    window.show()
    try:
        bridge.start()
        window.offer_virtual_reader()
        _session(qtbot, window, aloop, bridge)
        assert window.service_label.text().startswith("PC/SC service not running")
        assert window.readers.model.reader_names() == [FIRST]
        index = window.readers.model.reader_index(FIRST)
        assert "virtual" in index.siblingAtColumn(1).data()
        assert window.readers.model.index(0, 1, index).data() == to_hex(DEMO_ATR)
    finally:
        window.close()
        assert bridge.stop()


def test_without_pcsc_support_the_virtual_menu_does_it_all(
        qtbot: QtBot, settings: QSettings, aloop: qasync.QEventLoop, tmp_path: Path) -> None:
    bridge = EventBridge()  # what the app runs on when PC/SC cannot be loaded
    window = MainWindow(bridge, settings)
    qtbot.addWidget(window)
    window.show()
    menu = window.virtual
    model = window.readers.model
    try:
        assert "the virtual readers work" in window.service_label.text()
        window.offer_virtual_reader()
        _session(qtbot, window, aloop, bridge)

        # Export this session, then replay it in a second reader, added from the menu.
        path = tmp_path / "session.jsonl"
        write_export(path, window.store.records(), ExportFormat.JSONL)
        with qtbot.waitSignal(bridge.reader_added, timeout=5000):
            menu.action("add").trigger()
        second = f"{READER_PREFIX} 1"
        assert model.reader_names() == [FIRST, second]
        window.readers.select_card(second)
        with qtbot.waitSignal(bridge.card_inserted, timeout=5000) as inserted:
            menu.insert(CardSource(SourceKind.TRACE, str(path), ReplayMode.ORDER))
        assert inserted.args[0].reader == second and inserted.args[0].atr == DEMO_ATR
        assert window.embedded.card_label(second) == "replay of session.jsonl (2 exchanges, in order)"
        assert window.readers.selected_reader() == second

        # A bad profile: said plainly, nothing inserted, the reader stays empty.
        with qtbot.waitSignal(bridge.card_removed, timeout=5000):
            menu.action("eject").trigger()
        bad = tmp_path / "bad.json"
        bad.write_text('{"format": "card-explorer-profile", "version": 2}')
        with qtbot.waitSignal(menu.message, timeout=5000,
                              check_params_cb=lambda text: text.startswith("No card inserted")) as said:
            menu.insert(CardSource(SourceKind.PROFILE, str(bad)))
        assert "bad.json" in said.args[0]
        boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
        assert len(boxes) == 1 and "bad.json" in boxes[0].text()
        boxes[0].close()
        assert window.embedded.card_label(second) is None and model.card_count() == 1

        # Right click on the second reader: the Virtual menu, acting on it.
        window.readers.select_card(FIRST)
        view = window.readers.view
        rect = view.visualRect(model.reader_index(second))
        view.customContextMenuRequested.emit(rect.center())
        assert menu.isVisible() and menu.target() == second
        menu.hide()
        with qtbot.waitSignal(bridge.reader_removed, timeout=5000):
            menu.action("remove_reader").trigger()
        assert model.reader_names() == [FIRST]
    finally:
        window.close()


def _journal_of(data_home: Path) -> list[dict[str, object]]:
    (journal,) = data_home.rglob("*.jsonl")
    return [json.loads(line) for line in journal.read_text().splitlines()[1:]]


@pytest.mark.parametrize("missing", ["service", "library"])
def test_the_app_starts_on_the_virtual_reader(tmp_path: Path, missing: str) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CARD_EXPLORER_QUIT_AFTER_MS": "3000",
           "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    if missing == "service":
        # pcsc-lite's client honours PCSCLITE_CSOCK_NAME: point it at nothing.
        env["PCSCLITE_CSOCK_NAME"] = str(tmp_path / "nothing.comm")
        code = "from explorer.cli import main; raise SystemExit(main([]))"
    else:
        # As on a machine without libpcsclite: pyscard cannot be imported.
        code = ("import sys; sys.modules['smartcard'] = None\n"
                "from explorer.cli import main; raise SystemExit(main([]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    events = [(r["origin"], r["reader"]) for r in _journal_of(tmp_path) if r["kind"] == "event"]
    assert ("reader added", FIRST) in events and ("card inserted", FIRST) in events
    if missing == "library":
        readers = subprocess.run([sys.executable, "-c", code.replace("main([])", "main(['readers'])")],
                                 capture_output=True, text=True, timeout=60, env=env)
        assert readers.returncode == 3 and "PC/SC support could not be loaded" in readers.stderr
        assert "Traceback" not in readers.stderr
