"""From a trace row back to work: Send again and Edit in console, on the embedded virtual reader
(no PC/SC service); the trace's filter boxes are labelled."""

from __future__ import annotations

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from explorer.core.exchange import SENT_AS_IS, Exchange, Origin
from explorer.link.bridge import EventBridge
from explorer.trace.records import Kind, TraceRecord, from_exchange
from explorer.ui.main_window import MainWindow
from explorer.ui.trace_model import Col
from tests.conftest import connect_demo_card, until

pytestmark = pytest.mark.gui

SELECT_APP = "00 A4 04 00 08 F0 43 41 52 44 45 58 50 00"
VERIFY_81 = "00 20 00 81 08 31 32 33 34 FF FF FF FF"  # the demo card's PIN 81 is 1234


def connect_and_send(main: MainWindow, bridge: EventBridge, qtbot: QtBot, aloop: qasync.QEventLoop,
                     *commands: str) -> None:
    console = main.console

    async def scenario() -> None:
        await connect_demo_card(main, bridge)
        for command in commands:
            console.input.set_command(command)
            qtbot.keyClick(console.input, Qt.Key.Key_Return)
            await until(console.idle, what="the answer")

    aloop.run_until_complete(scenario())
    main.trace.poll()


def select_row(main: MainWindow, qtbot: QtBot, match: str) -> TraceRecord:
    records = [r for r in main.trace.model.records() if r.kind is Kind.EXCHANGE
               and r.command.hex(" ").upper().startswith(match)]
    assert records, f"no {match} in the trace"
    assert main.trace.select_seq(records[-1].seq)
    return records[-1]


def test_edit_in_console_and_send_again(virtual_window: tuple[MainWindow, EventBridge], qtbot: QtBot,
                                        aloop: qasync.QEventLoop) -> None:
    main, bridge = virtual_window
    connect_and_send(main, bridge, qtbot, aloop, SELECT_APP, "00 B0 00 00 00")
    trace = main.trace
    select_row(main, qtbot, "00 A4 04 00")
    assert trace.edit_action.isEnabled() and trace.send_again_action.isEnabled()
    main.console.input.set_command("")
    trace.edit_action.trigger()
    assert main.console.input.toPlainText() == SELECT_APP
    sent_before = sum(1 for r in main.store.records() if r.origin == Origin.CONSOLE.value)

    async def again() -> None:
        trace.send_again_action.trigger()
        (reply,) = await until(main.console.reply_shown, what="the answer sent again")
        assert reply.sw == 0x9000 and reply.exchanges[0].command == bytes.fromhex(SELECT_APP.replace(" ", ""))

    aloop.run_until_complete(again())
    assert sum(1 for r in main.store.records() if r.origin == Origin.CONSOLE.value) == sent_before + 1


def test_a_pin_is_never_sent_again_unseen(virtual_window: tuple[MainWindow, EventBridge], qtbot: QtBot,
                                          aloop: qasync.QEventLoop) -> None:
    """The trace masks PINs by default: the VERIFY comes back with its PIN as ••, Send waits."""
    main, bridge = virtual_window
    connect_and_send(main, bridge, qtbot, aloop, VERIFY_81)
    select_row(main, qtbot, "00 20 00 81")
    sent_before = len(main.store.records())
    main.trace.send_again_action.trigger()
    assert main.console.input.toPlainText() == "00 20 00 81 08 •• •• •• •• •• •• •• ••"
    assert not main.console.send_button.isEnabled()
    assert "Not sent: Type the PIN" in main.statusBar().currentMessage()
    qtbot.wait(50)
    main.trace.poll()
    assert len(main.store.records()) == sent_before


def test_events_cannot_be_sent_and_an_as_is_command_stays_as_is(
        virtual_window: tuple[MainWindow, EventBridge], qtbot: QtBot, aloop: qasync.QEventLoop) -> None:
    main, bridge = virtual_window
    connect_and_send(main, bridge, qtbot, aloop)
    event = next(r for r in main.trace.model.records() if r.kind is Kind.EVENT)
    assert main.trace.select_seq(event.seq)
    row = main.trace.model.row_of_seq(event.seq)
    assert row is not None
    assert main.trace.model.index(row, Col.COMMAND).data() == event.origin  # "reader added": readable
    assert not main.trace.edit_action.isEnabled() and not main.trace.send_again_action.isEnabled()
    reader = main.readers.selected_reader() or ""
    record = from_exchange(999, Exchange(reader, bytes.fromhex("00A40400053F00"),
                                         b"\x67\x00", 1_700_000_000.0, 0.001, Origin.CONSOLE,
                                         note=SENT_AS_IS))
    main.command_to_console(record, send=False)
    assert main.console.as_is_box.isChecked() and main.console.send_button.text() == "Send as is"
    assert main.console.input.toPlainText() == "00 A4 04 00 05 3F 00"


def test_the_filter_boxes_are_labelled(virtual_window: tuple[MainWindow, EventBridge]) -> None:
    main, _ = virtual_window
    buddies = {label.text(): label.buddy() for label in main.trace.findChildren(QLabel) if label.buddy()}
    assert buddies == {"Reader": main.trace.reader_box, "Origin": main.trace.origin_box,
                       "Result": main.trace.class_box}
