"""The console's answers: they follow the newest unless the tester scrolled up; Clear and Save
(secrets masked unless asked), without a card or PC/SC."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from explorer.core.exchange import Exchange, Origin, Reply
from explorer.core.sensitive import AUTHENTICATION
from explorer.link.bridge import EventBridge
from explorer.link.manager import ConnectionManager
from explorer.ui.console_panel import ConsolePanel
from explorer.ui.console_transcript import Transcript
from explorer.ui.main_window import MainWindow
from tests.conftest import connect_demo_card, until

pytestmark = pytest.mark.gui

READER = "Virtual reader 1"
SELECT_APP = "00 A4 04 00 08 F0 43 41 52 44 45 58 50 00"  # the demo card's application
VERIFY = bytes.fromhex("0020008008313233343536FFFF")  # PIN 123456, format 2 padding


def reply(command: bytes, response: bytes, at: float = 1_700_000_000.0) -> Reply:
    exchange = Exchange(READER, command, response, at, 0.001, Origin.CONSOLE)
    return Reply((exchange,), response[:-2], response[-2] << 8 | response[-1])


def long_reply(n: int) -> Reply:
    return reply(bytes.fromhex("00B0000000"), bytes(range(256))[: 200] + b"\x90\x00", 1_700_000_000.0 + n)


@pytest.fixture
def transcript(qtbot: QtBot) -> Transcript:
    view = Transcript()
    qtbot.addWidget(view)
    view.resize(500, 200)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_the_newest_answer_is_in_view(transcript: Transcript, qtbot: QtBot) -> None:
    bar = transcript.verticalScrollBar()
    for n in range(40):
        transcript.add_reply(long_reply(n))
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=3000)
    transcript.add_note("! the card answered 6A 82")
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=3000)
    assert transcript.following


def test_scrolled_up_stays_put_until_back_at_the_bottom(transcript: Transcript, qtbot: QtBot) -> None:
    bar = transcript.verticalScrollBar()
    for n in range(40):
        transcript.add_reply(long_reply(n))
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=3000)
    bar.setValue(10)  # the tester reads an earlier answer
    assert not transcript.following
    before = bar.maximum()
    for n in range(20):
        transcript.add_reply(long_reply(100 + n))
    qtbot.waitUntil(lambda: bar.maximum() > before, timeout=3000)
    assert bar.value() == 10
    bar.setValue(bar.maximum())  # back at the bottom: following again
    transcript.add_reply(long_reply(200))
    grown = bar.maximum()
    qtbot.waitUntil(lambda: bar.maximum() > grown - 1 and bar.value() == bar.maximum(), timeout=3000)
    assert transcript.following


def test_saved_text_masks_secrets_unless_asked(transcript: Transcript) -> None:
    transcript.add_reply(reply(VERIFY, b"\x90\x00"))
    assert any("31 32 33 34 35 36" in line for line in transcript.plain_lines)  # shown to the tester
    masked = transcript.saved_text()
    assert "31 32 33 34" not in masked
    assert "> 00 20 00 80 08 •• •• •• •• •• •• •• ••   VERIFY" in masked
    assert masked.startswith("# Card Explorer console transcript; "
                             "secret data (PINs, keys, cryptograms) masked")
    assert "00 20 00 80 08 31 32 33 34 35 36 FF FF" in transcript.saved_text(reveal_secrets=True)


def test_saved_text_masks_an_authentication_cryptogram_got_by_get_response(transcript: Transcript) -> None:
    sent, got = bytes(range(0x40, 0x68)), bytes(range(0xC0, 0xE8))
    first = Exchange(READER, bytes.fromhex("0082000028") + sent + b"\x28", b"\x61\x28", 1.0, 0.001,
                     Origin.CONSOLE, note=AUTHENTICATION)
    fetched = Exchange(READER, bytes.fromhex("00C0000028"), got + b"\x90\x00", 1.0, 0.001,
                       Origin.GET_RESPONSE, note=AUTHENTICATION)
    transcript.add_reply(Reply((first, fetched), got, 0x9000))
    plain, masked = (transcript.saved_text(reveal).replace(" ", "") for reveal in (True, False))
    assert sent.hex().upper() in plain and got.hex().upper()[:32] in plain
    assert sent.hex().upper() not in masked and got.hex().upper()[:32] not in masked
    assert got.hex().upper()[32:64] not in masked and "9000" in masked


@pytest.fixture
def panel(qtbot: QtBot, tmp_path: Path) -> ConsolePanel:  # no PC/SC: a manager that opens nothing
    def no_link(reader: str) -> object:
        raise AssertionError("no reader is opened in these tests")

    manager = ConnectionManager(no_link)  # type: ignore[arg-type]
    p = ConsolePanel(manager, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(p)
    return p


def test_save_writes_a_private_masked_file_off_the_gui_thread(panel: ConsolePanel, qtbot: QtBot,
                                                             tmp_path: Path) -> None:
    panel.transcript.add_reply(reply(VERIFY, b"\x63\xc2"))
    path = tmp_path / "answers.txt"
    with qtbot.waitSignal(panel.saved, timeout=3000) as signal:
        panel.save_transcript(str(path))
    assert signal.args == [str(path), ""]
    text = path.read_text(encoding="utf-8")
    assert "31 32 33" not in text and "•• ••" in text and "63 C2" in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_failed_save_is_said_in_the_answers(panel: ConsolePanel, qtbot: QtBot, tmp_path: Path) -> None:
    with qtbot.waitSignal(panel.saved, timeout=3000) as signal:
        panel.save_transcript(str(tmp_path / "no-such-folder" / "answers.txt"))
    assert "No such file or directory" in signal.args[1]
    assert any("Could not save the answers" in line for line in panel.transcript.plain_lines)


def test_clear_empties_the_answers_and_follows_again(panel: ConsolePanel) -> None:
    panel.transcript.add_reply(reply(VERIFY, b"\x90\x00"))
    panel.transcript.following = False
    panel.clear_button.click()
    assert panel.transcript.plain_lines == [] and panel.transcript.masked_lines == []
    assert panel.transcript.toPlainText() == "" and panel.transcript.following


def test_in_the_window_the_answers_follow_the_newest(qtbot: QtBot, settings: QSettings,
                                                     aloop: qasync.QEventLoop) -> None:
    """The defect as found: after the first screenful the view stayed near the top (QTextEdit.append
    stops following once its idea of the bottom lags the layout), so new errors went unseen."""
    bridge = EventBridge()
    window = MainWindow(bridge, settings)
    qtbot.addWidget(window)
    window.show()
    console = window.console
    bar = console.transcript.verticalScrollBar()
    positions: list[tuple[int, int]] = []

    async def scenario() -> None:
        await connect_demo_card(window, bridge)
        for i in range(30):
            console.input.set_command(SELECT_APP if i % 2 else "00 B0 00 00 00")
            qtbot.keyClick(console.input, Qt.Key.Key_Return)
            await until(console.idle, what="the answer")
            positions.append((bar.value(), bar.maximum()))

    try:
        aloop.run_until_complete(scenario())
    finally:
        window.close()
    assert positions[-1][1] > 0, "the answers never filled the pane"
    assert [value for value, maximum in positions if maximum > 0 and value != maximum] == []
