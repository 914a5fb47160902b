"""PINs and keys at rest: the console's history and favourites are kept masked (old
settings files are cleaned at the next start), and every file and folder the app
writes is private: settings, journal, exports, log. Nothing here talks to PC/SC
(the window runs on the embedded virtual reader)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from explorer import diagnostics
from explorer.core.apdu_text import check_command_text
from explorer.core.exchange import Origin
from explorer.core.sensitive import masked_text
from explorer.link.bridge import EventBridge
from explorer.trace.export import ExportFormat, write_export
from explorer.trace.journal import Journal
from explorer.trace.records import Kind
from explorer.trace.store import TraceStore
from explorer.ui.apdu_editor import ApduEditor
from explorer.ui.console_history import CommandHistory
from explorer.ui.main_window import MainWindow
from explorer.ui.settings_file import private_settings
from explorer.virtual.embedded import READER_PREFIX
from tests.conftest import until

ROOT = Path(__file__).resolve().parent.parent
PIN = "31 32 33 34 FF FF FF FF"  # the demo card's PIN 81, "1234" padded
VERIFY = f"00 20 00 81 08 {PIN}"
VERIFY_MASKED = "00 20 00 81 08 " + " ".join(["••"] * 8)
SELECT = "00 A4 04 00 08 F0 43 41 52 44 45 58 50"
# How a PIN can appear in a settings file: as typed (spaces or colons), or packed.
PIN_FORMS = ("31 32 33 34", "31:32:33:34", "31323334")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _no_pin_in(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert not [form for form in PIN_FORMS if form in text], text


def _old_settings(path: Path, history: list[str], favourites: list[str]) -> None:
    """A settings file as an older version left it: PINs in clear, 0644 in a 0755 folder."""
    old = QSettings(str(path), QSettings.Format.IniFormat)
    old.setValue("console/history", history)
    old.setValue("console/favourites", favourites)
    old.sync()
    del old
    path.parent.chmod(0o755)
    path.chmod(0o644)
    assert "31 32 33 34" in path.read_text()


# -- the rule: one mechanism with the trace's -------------------------------------------


@pytest.mark.parametrize(("typed", "kept"), [
    (VERIFY, VERIFY_MASKED),
    ("0x00 0x20 0x00 0x81 0x08 31:32:33:34:FF:FF:FF:FF", VERIFY_MASKED),
    ("002000810831323334FFFFFFFF", VERIFY_MASKED),
    (VERIFY_MASKED, VERIFY_MASKED),  # idempotent: a masked entry stays as it is
    ("00 24 00 81 10 31 32 33 34 FF FF FF FF 35 36 37 38 FF FF FF FF",  # CHANGE REFERENCE DATA
     "00 24 00 81 10 " + " ".join(["••"] * 16)),
    ("00 2C 00 81 08 31 32 33 34 35 36 37 38", "00 2C 00 81 08 " + " ".join(["••"] * 8)),  # RESET RETRY
    ("FF 82 00 00 06 FF FF FF FF FF FF", "FF 82 00 00 06 " + " ".join(["••"] * 6)),  # LOAD KEYS
    ("00 20 00 81 08 31 32 33", "00 20 00 81 08 •• •• ••"),  # a lying Lc: all from byte 5 on goes
    ("00 20 00 81", "00 20 00 81"),  # VERIFY without data asks for the retry counter
    (f"  {SELECT}\n", SELECT),  # anything else is kept as typed
    ("00:a4:04:00", "00:a4:04:00"),
    ("not hex", None),  # never sent, unknown contents: not kept
    ("", None),
])
def test_a_command_at_rest_has_its_secret_masked(typed: str, kept: str | None) -> None:
    assert masked_text(typed) == kept


def test_a_masked_command_waits_for_its_pin() -> None:
    check = check_command_text(VERIFY_MASKED)
    assert not check.ok and check.masked and not check.empty
    assert check.span == (VERIFY_MASKED.index("•"), len(VERIFY_MASKED))
    assert "PIN or key" in check.message and "type the real bytes" in check.message
    assert check_command_text(VERIFY).ok and not check_command_text(VERIFY).masked


# -- history and favourites -------------------------------------------------------------


def test_history_and_favourites_are_written_masked(settings: QSettings) -> None:
    history = CommandHistory(settings)
    history.add(SELECT)
    history.add(VERIFY)
    history.add("00 20 00 81 08 39 39 39 39 FF FF FF FF")  # another PIN: the same entry at rest
    assert history.entries == [SELECT, VERIFY_MASKED]
    assert history.toggle_favourite(VERIFY)
    assert history.favourites == [VERIFY_MASKED]
    assert history.is_favourite("00:20:00:81:08:35:35:35:35:FF:FF:FF:FF")
    settings.sync()
    _no_pin_in(Path(settings.fileName()))
    again = CommandHistory(QSettings(settings.fileName(), QSettings.Format.IniFormat))
    assert again.entries == [SELECT, VERIFY_MASKED] and again.favourites == [VERIFY_MASKED]
    assert again.older() == VERIFY_MASKED
    # A masked favourite comes off the list like any other.
    assert not again.toggle_favourite(VERIFY_MASKED) and again.favourites == []


def test_an_old_settings_file_is_cleaned_when_it_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.ini"
    path.parent.mkdir()
    _old_settings(path, [SELECT, VERIFY, "00 20 00 81 08 35 35 35 35 FF FF FF FF", "junk ☺"],
                  ["00:20:00:81:08:31:32:33:34:FF:FF:FF:FF", SELECT, VERIFY])
    history = CommandHistory(QSettings(str(path), QSettings.Format.IniFormat))
    # Rewritten at once, not when the app next saves: the clear PINs are gone from the disk now.
    _no_pin_in(path)
    assert history.entries == [SELECT, VERIFY_MASKED]  # the two VERIFYs are one entry now
    assert history.favourites == [VERIFY_MASKED, SELECT]
    reread = QSettings(str(path), QSettings.Format.IniFormat)
    assert reread.value("console/history") == [SELECT, VERIFY_MASKED]


def test_a_recalled_masked_command_selects_the_mask_for_the_pin(qtbot: QtBot, settings: QSettings) -> None:
    history = CommandHistory(settings)
    history.add(VERIFY)
    editor = ApduEditor(history)
    qtbot.addWidget(editor)
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_Up)
    assert editor.toPlainText() == VERIFY_MASKED
    assert not editor.check.ok and editor.check.masked
    assert editor.textCursor().selectedText() == " ".join(["••"] * 8)
    qtbot.keyClicks(editor, PIN)  # typing replaces the selected mask
    assert editor.toPlainText() == VERIFY and editor.check.ok
    assert editor.check.apdu == bytes.fromhex(VERIFY.replace(" ", ""))


def test_the_console_masks_what_it_keeps_and_sends_the_retyped_pin(
        qtbot: QtBot, tmp_path: Path, aloop: qasync.QEventLoop) -> None:
    """The whole path in the window: an old file is cleaned at start, ↑ brings back the
    masked VERIFY, Send waits for the PIN, the card gets the real one, the file never does."""
    path = tmp_path / "settings.ini"
    _old_settings(path, [SELECT, VERIFY], [VERIFY])
    settings = private_settings(QSettings(str(path), QSettings.Format.IniFormat))
    bridge = EventBridge()
    window = MainWindow(bridge, settings)
    qtbot.addWidget(window)
    window.show()
    _no_pin_in(path)
    console = window.console
    first = f"{READER_PREFIX} 0"
    try:
        async def scenario() -> None:
            window.offer_virtual_reader()
            (event,) = await until(bridge.card_inserted, what="the demo card")
            assert event.reader == first and window.readers.selected_reader() == first
            console.connect_button.click()
            await until(console.idle, what="connect")
            console.input.setFocus()
            qtbot.keyClick(console.input, Qt.Key.Key_Up)
            assert console.input.toPlainText() == VERIFY_MASKED
            assert not console.send_button.isEnabled()
            assert "PIN or key in place of the ••" in console.reason_label.text()
            assert "type the real bytes" in console.validation_label.text()
            # It is a favourite, and one that can be removed even though it cannot be sent.
            assert console.favourite_button.text() == "★" and console.favourite_button.isEnabled()
            qtbot.keyClick(console.input, Qt.Key.Key_Return)  # Enter must not get around it
            await until(console.idle, what="the refused send")
            qtbot.keyClicks(console.input, PIN)
            assert console.send_button.isEnabled()
            qtbot.keyClick(console.input, Qt.Key.Key_Return)
            (reply,) = await until(console.reply_shown, what="the VERIFY answer")
            assert reply.sw == 0x9000  # the card got the real PIN

        aloop.run_until_complete(scenario())
        sent = [r.command for r in window.store.records()
                if r.kind is Kind.EXCHANGE and r.origin == Origin.CONSOLE.value]
        assert sent == [bytes.fromhex(VERIFY.replace(" ", ""))]  # once: Enter on the mask sent nothing
        assert console.history.entries == [SELECT, VERIFY_MASKED]
    finally:
        window.close()
    settings.sync()
    _no_pin_in(path)
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700


# -- private files and folders ----------------------------------------------------------


def test_the_settings_file_and_its_folder_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "Card Explorer"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    path = folder / "Card Explorer.conf"
    settings = private_settings(QSettings(str(path), QSettings.Format.IniFormat))
    assert _mode(folder) == 0o700 and _mode(path) == 0o600  # made before QSettings writes a byte
    for round_ in range(2):  # QSettings replaces the file on every save: it stays private
        settings.setValue("console/history", [SELECT, str(round_)])
        settings.sync()
        assert settings.status() == QSettings.Status.NoError
        assert _mode(path) == 0o600
    assert QSettings(str(path), QSettings.Format.IniFormat).value("console/history") == [SELECT, "1"]
    # An existing 0644 file, as older versions left it, is tightened too.
    path.chmod(0o644)
    private_settings(QSettings(str(path), QSettings.Format.IniFormat))
    assert _mode(path) == 0o600


def test_a_journal_folder_that_exists_open_to_all_is_tightened(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    traces.chmod(0o777)
    store = TraceStore(Journal.new_session(traces))
    try:
        assert store.journal is not None
        assert _mode(traces) == 0o700 and _mode(store.journal.path) == 0o600
    finally:
        store.close()


def test_an_export_is_private_but_its_folder_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)  # the user's choice: not ours to tighten
    target = folder / "trace.txt"
    target.write_text("old")
    target.chmod(0o644)
    write_export(target, [], ExportFormat.TEXT)
    assert _mode(target) == 0o600 and _mode(folder) == 0o755


def test_the_app_cleans_old_settings_and_keeps_everything_private(tmp_path: Path) -> None:
    """The real start-up path (explorer.cli main, no pyscard): the default QSettings file, the
    journal folder and the log folder, all pre-made open by an older version or by hand."""
    config, data, state = tmp_path / "config", tmp_path / "data", tmp_path / "state"
    settings_file = config / "Card Explorer" / "Card Explorer.conf"
    settings_file.parent.mkdir(parents=True)
    _old_settings(settings_file, [SELECT, VERIFY], [VERIFY])
    traces = data / "card-explorer" / "traces"
    logs = state / "card-explorer" / "log"
    for folder in (traces, logs):
        folder.mkdir(parents=True)
        folder.chmod(0o777)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CARD_EXPLORER_QUIT_AFTER_MS": "1500",
           "XDG_CONFIG_HOME": str(config), "XDG_DATA_HOME": str(data), "XDG_STATE_HOME": str(state)}
    env.pop("CARD_EXPLORER_CRASH_TEST", None)
    code = ("import sys; sys.modules['smartcard'] = None\n"
            "from explorer.cli import main; raise SystemExit(main([]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    _no_pin_in(settings_file)
    kept = QSettings(str(settings_file), QSettings.Format.IniFormat)
    assert kept.value("console/history") == [SELECT, VERIFY_MASKED]
    assert kept.value("console/favourites") == VERIFY_MASKED  # a one-element list reads back as a str
    assert kept.value("window/geometry") is not None  # the app saved its layout there, too
    assert _mode(settings_file) == 0o600 and _mode(settings_file.parent) == 0o700
    (journal,) = traces.glob("*.jsonl")
    assert _mode(traces) == 0o700 and _mode(journal) == 0o600
    log = logs / diagnostics.LOG_FILE
    assert _mode(logs) == 0o700 and _mode(log) == 0o600 and _mode(logs / "native-crash.log") == 0o600
    assert "Card Explorer" in log.read_text() and "started" in log.read_text()
    for folder in (settings_file.parent, traces, logs):  # and nothing else the app left there is open
        assert {p.name: _mode(p) for p in folder.iterdir()} == {p.name: 0o600 for p in folder.iterdir()}
