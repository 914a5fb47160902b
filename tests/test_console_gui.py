"""The APDU console (offscreen), on a qasync loop, talking to the virtual card through pcscd + vpcd."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import QSettings, Qt, QTimer
from pytestqt.qtbot import QtBot

from explorer.core.exchange import Origin
from explorer.link.manager import ConnectionManager
from explorer.pcsc.connection import PcscLink
from explorer.pcsc.qt_monitor import MonitorBridge
from explorer.ui.console_panel import ConsolePanel
from explorer.ui.main_window import MainWindow
from explorer.ui.reader_model import READER_ROLE
from tests.conftest import CardFactory, until
from tests.test_connection import Gate

pytestmark = pytest.mark.pcsc
SELECT = "00 A4 04 00 07 A0 00 00 00 04 10 10"
FCI = bytes.fromhex("6F1A8407A0000000041010A50F500A4D617374657243617264870101")


def t0_card(apdu: bytes) -> bytes:
    """SELECT gives 61xx, as a T=0 card does; GET RESPONSE hands out the FCI."""
    if apdu[1] == 0xA4:
        return bytes([0x61, len(FCI)])
    if apdu[1] == 0xC0:
        return FCI[: apdu[4]] + b"\x90\x00"
    return b"\x6d\x00"


@pytest.fixture
def manager() -> Iterator[ConnectionManager]:
    m = ConnectionManager(PcscLink)
    yield m
    assert m.close_all(), "a card worker was still busy"


@pytest.fixture
def panel(qtbot: QtBot, manager: ConnectionManager, settings: QSettings) -> ConsolePanel:
    p = ConsolePanel(manager, settings)
    qtbot.addWidget(p)
    p.show()
    return p


def test_type_send_and_see_the_answer(panel: ConsolePanel, qtbot: QtBot, aloop: qasync.QEventLoop,
                                      insert_card: CardFactory, readers: list[str]) -> None:
    link = insert_card(readers[0], handler=t0_card)
    assert not panel.send_button.isEnabled()
    assert "Select a reader" in panel.reason_label.text()
    panel.set_target(readers[0])
    assert "Not connected" in panel.reason_label.text() and not panel.send_button.isEnabled()

    async def scenario() -> None:
        qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
        await until(panel.idle, what="connect")
        assert panel.state_label.text() == "Connected · T=1 · shared"
        qtbot.keyClicks(panel.input, SELECT)
        assert panel.validation_label.text() == "SELECT · case 3 short · 12 bytes"
        fields = [panel.structure.topLevelItem(i).text(0) for i in range(panel.structure.topLevelItemCount())]
        assert fields == ["CLA", "INS", "P1", "P2", "Lc", "Data", "Le"]  # Le: an empty row to type in
        assert panel.structure.topLevelItem(6).text(1) == ""
        assert panel.send_button.isEnabled() and not panel.reason_label.isVisible()
        qtbot.keyClick(panel.input, Qt.Key.Key_Return)
        (reply,) = await until(panel.reply_shown, what="the answer")
        assert reply.data == FCI and reply.sw == 0x9000
        assert [e.origin for e in reply.exchanges] == [Origin.CONSOLE, Origin.GET_RESPONSE]

    aloop.run_until_complete(scenario())
    assert link.card.received == [bytes.fromhex(SELECT.replace(" ", "")), bytes.fromhex("00C000001C")]
    lines = panel.transcript.plain_lines
    assert any(line.startswith("> 00 A4 04 00 07 A0") and line.endswith("SELECT") for line in lines)
    assert any("[auto get response] > 00 C0 00 00 1C" in line for line in lines)
    assert any(line.startswith("< 61 1C") and "0x1C (28) bytes still available" in line for line in lines)
    assert any(line.startswith("= 28 data bytes, SW 90 00, 2 exchanges") for line in lines)
    assert any("0010  61 73 74 65 72 43 61 72 64 87 01 01" in line and "asterCard..." in line
               for line in lines), "hex + ASCII of the joined data"
    assert any(line.startswith("    < 90 00") and " ms  Normal processing" in line and "(success)" in line
               for line in lines)
    # the history keeps the command; Up brings it back on an empty line
    panel.input.clear()
    qtbot.keyClick(panel.input, Qt.Key.Key_Up)
    assert panel.input.toPlainText() == SELECT


@pytest.mark.parametrize(("typed", "message", "marked"), [
    ("00 A4 04 00 0", "'0' at column 13 has no partner", "0"),
    ("00 A4 04 00 07 A0 0G", "'G' at column 20 is not a hex digit", "G"),
    ("00 A4 04 00 09 A0 00 00 00 04 10 10", "byte 4 (Lc = 09) announces 9 data bytes but 7 follow", "09"),
    ("00 D6 00 00 02 " + "11 " * 300, "byte 4 (Lc = 02) announces 2 data bytes", "11 " * 296 + "11"),
    ("00 D6 00 00 00 FF FF " + "AB" * 65540,
     "announce 65535 data bytes and at most 2 Le bytes, but 65540 bytes follow", "ABABAB"),
])
def test_bad_input_is_explained_and_nothing_is_sent(
    panel: ConsolePanel, qtbot: QtBot, aloop: qasync.QEventLoop, insert_card: CardFactory,
    readers: list[str], typed: str, message: str, marked: str,
) -> None:
    link = insert_card(readers[0])
    panel.set_target(readers[0])

    async def scenario() -> None:
        panel.connect_button.click()
        await until(panel.idle, what="connect")
        panel.input.set_command(typed)
        assert message in panel.validation_label.text()
        (selection,) = panel.input.extraSelections()
        assert selection.cursor.selectedText() == marked  # type: ignore[attr-defined]
        assert not panel.send_button.isEnabled()
        assert "nothing will be sent" in panel.reason_label.text()
        panel.send_button.click()
        qtbot.keyClick(panel.input, Qt.Key.Key_Return)

    aloop.run_until_complete(scenario())
    assert not panel.busy and panel.transcript.replies == []
    assert link.card.received == []


def test_gui_stays_live_while_the_card_takes_30_s(panel: ConsolePanel, aloop: qasync.QEventLoop,
                                                  insert_card: CardFactory, readers: list[str]) -> None:
    gate = Gate(hold=30.0)  # nobody releases it: the card answers when its 30 s are up
    insert_card(readers[0], handler=gate)
    panel.set_target(readers[0])
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))

    async def scenario() -> float:
        panel.connect_button.click()
        await until(panel.idle, what="connect")
        panel.input.set_command("80 EE 00 00")
        timer.start()
        t0 = time.monotonic()
        panel.send_button.click()
        assert panel.busy and panel.stop_button.isVisible() and not panel.send_button.isEnabled()
        await until(panel.reply_shown, timeout=40, what="the slow answer")
        timer.stop()
        return time.monotonic() - t0

    took = aloop.run_until_complete(scenario())
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    print(f"card answered after {took:.2f} s; {len(ticks)} timer ticks, "
          f"longest gap {max(gaps) * 1000:.1f} ms")
    assert took >= 30.0
    assert len(ticks) > 30.0 / 0.020 * 0.8, "the event loop missed ticks while the card was silent"
    assert max(gaps) < 0.25, f"the event loop stalled for {max(gaps):.3f} s"


def test_stop_waiting_on_a_silent_card(panel: ConsolePanel, aloop: qasync.QEventLoop,
                                       insert_card: CardFactory, readers: list[str]) -> None:
    gate = Gate()
    insert_card(readers[0], handler=gate)
    panel.set_target(readers[0])

    async def scenario() -> None:
        panel.connect_button.click()
        await until(panel.idle, what="connect")
        panel.input.set_command("80 EE 00 00")
        panel.send_button.click()
        await asyncio.sleep(0)  # one turn of the loop: the send task submits to the worker
        assert gate.entered.wait(5)
        panel.stop_button.click()
        await until(panel.idle, what="stop")

    try:
        aloop.run_until_complete(scenario())
        assert any("Stopped waiting" in line for line in panel.transcript.plain_lines)
        assert panel.send_button.isEnabled()
    finally:
        gate.release.set()


def test_send_disabled_until_connected_and_favourites(panel: ConsolePanel, settings: QSettings,
                                                      manager: ConnectionManager) -> None:
    panel.set_target("Virtual PCD 00 00")
    panel.input.set_command(SELECT)
    assert not panel.send_button.isEnabled()
    assert panel.send_button.toolTip() == "Not connected: press Connect to talk to the card."
    panel.favourite_button.click()
    assert panel.history.favourites == [SELECT] and panel.favourite_button.text() == "★"
    again = ConsolePanel(manager, settings)
    assert again.history.favourites == [SELECT]
    again.deleteLater()


def test_window_console_follows_the_tree_and_card_removal(qtbot: QtBot, settings: QSettings,
                                                          aloop: qasync.QEventLoop, insert_card: CardFactory,
                                                          readers: list[str]) -> None:
    bridge = MonitorBridge()
    window = MainWindow(bridge, settings)
    qtbot.addWidget(window)
    try:
        link = insert_card(readers[1])
        # Watched from before the start: under load the event can come before a coroutine listens.
        with qtbot.waitSignal(bridge.card_inserted, timeout=5000,
                              check_params_cb=lambda e: e.reader == readers[1]):
            bridge.start()
        console = window.console

        async def scenario() -> None:
            model = window.readers.model
            window.readers.view.setCurrentIndex(model.index(0, 0, model.reader_index(readers[1])))
            assert console.reader_label.text() == f"<b>{readers[1]}</b>"
            console.connect_button.click()
            await until(console.idle, what="connect")
            assert console.state_label.text().startswith("Connected")
            link.remove()
            await until(console.idle, timeout=5, what="the console to notice the removal")

        aloop.run_until_complete(scenario())
        assert console.state_label.text() == "Not connected"
        assert any("card was removed" in line for line in console.transcript.plain_lines)
        index = window.readers.view.currentIndex()
        assert index.data(READER_ROLE) == readers[1]
    finally:
        window.close()
        assert bridge.stop()


def test_extended_apdu_on_t0_is_flagged_not_refused(panel: ConsolePanel, aloop: qasync.QEventLoop,
                                                    insert_card: CardFactory, readers: list[str]) -> None:
    link = insert_card(readers[0], bytes.fromhex("3B021450"))  # T=0 only
    panel.set_target(readers[0])

    async def scenario() -> None:
        panel.connect_button.click()
        await until(panel.idle, what="connect")
        assert panel.state_label.text() == "Connected · T=0 · shared"
        panel.input.set_command("80 EE 00 00 00 00 02 AB CD")
        assert "extended lengths on a T=0 connection" in panel.validation_label.text()
        assert panel.send_button.isEnabled()
        panel.send_button.click()
        await until(panel.reply_shown, what="the answer")

    aloop.run_until_complete(scenario())
    assert link.card.received == [bytes.fromhex("80EE0000000002ABCD")]
