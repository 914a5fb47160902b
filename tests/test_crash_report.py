"""Unhandled exceptions in the GUI: the crash dialog, the private log file, faulthandler,
`--version` and Help > About. Nothing here talks to PC/SC (the window runs on the
bridge the app uses without PC/SC; the app process runs without pyscard)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
import shiboken6
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from explorer import __version__, diagnostics
from explorer.link.bridge import EventBridge
from explorer.ui import crash
from explorer.ui.crash_dialog import MAX_REPORTS_SHOWN, CrashDialog
from explorer.ui.main_window import MainWindow

# pytest-qt would take sys.excepthook for itself during each test phase.
pytestmark = [pytest.mark.gui, pytest.mark.qt_no_exception_capture]

ROOT = Path(__file__).resolve().parent.parent


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch XDG_STATE_HOME: platformdirs puts the user's log directory under it on Linux."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv(crash.TEST_HOOK_ENV, raising=False)
    expected = tmp_path / "state" / "card-explorer" / "log"
    assert diagnostics.log_dir() == expected
    return expected


@pytest.fixture
def window(qtbot: QtBot, settings: QSettings) -> Iterator[MainWindow]:
    w = MainWindow(EventBridge(), settings)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


Install = Callable[[], crash.CrashReporter]


@pytest.fixture
def install(qapp: QApplication, log_dir: Path) -> Iterator[Install]:
    """install() does what the app does at start-up; everything is undone at teardown."""
    made: list[crash.CrashReporter] = []

    def make() -> crash.CrashReporter:
        reporter = crash.install(qapp)
        made.append(reporter)
        return reporter

    yield make
    for reporter in made:
        reporter.uninstall()
        if reporter.dialog is not None:
            reporter.dialog.close()
        if reporter.gui_log is not None:
            reporter.gui_log.close()
        shiboken6.delete(reporter)
    assert diagnostics.current_log() is None


def _wait_dialog(qtbot: QtBot, reporter: crash.CrashReporter) -> CrashDialog:
    qtbot.waitUntil(lambda: reporter.dialog is not None, timeout=5000)
    assert reporter.dialog is not None
    return reporter.dialog


def test_the_hidden_hook_shows_a_copyable_report_and_the_app_goes_on(
        qtbot: QtBot, window: MainWindow, install: Install, log_dir: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(crash.TEST_HOOK_ENV, "1")
    reporter = install()
    with qtbot.waitSignal(reporter.dialog_shown, timeout=5000) as shown:
        pass  # the hook fires 300 ms after start, from a QTimer slot on the GUI thread
    dialog = shown.args[0]
    assert dialog is reporter.dialog and dialog.isVisible() and dialog.parentWidget() is window
    report = dialog.report_text()
    assert report.startswith(f"Card Explorer {__version__}: unhandled CrashTestError")
    for label in ("Time", "Thread", "Python", "Qt", "PySide6", "pyscard", "Platform", "Log file"):
        assert re.search(rf"^{label}: \S", report, re.MULTILINE), label
    assert "Thread: MainThread" in report
    assert "Traceback (most recent call last):" in report and "in raise_test_error" in report
    assert report.rstrip().endswith(f"CrashTestError: {crash.TEST_HOOK_ENV} is set: a forced error")
    assert str(log_dir / "card-explorer.log") in dialog.message.text()
    assert dialog.text.isReadOnly()

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == report

    # Nothing on the terminal but one line that says where the report is.
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip() == (f"card-explorer: unhandled error (CrashTestError: {crash.TEST_HOOK_ENV} is set: "
                           f"a forced error); the report is in {log_dir / 'card-explorer.log'}")

    # The log file holds the whole report; it and its directory are private.
    log = (log_dir / "card-explorer.log").read_text()
    assert "Traceback (most recent call last):" in log and "CrashTestError" in log
    assert "Card Explorer" in log and f"Card Explorer {__version__} started" in log
    assert _mode(log_dir) == 0o700
    assert _mode(log_dir / "card-explorer.log") == 0o600
    assert _mode(log_dir / "native-crash.log") == 0o600

    # The app goes on: the window answers, a timer still fires, a second error joins the same dialog.
    assert window.isVisible()
    with qtbot.waitSignal(window.statusBar().messageChanged, timeout=2000):
        QTimer.singleShot(0, lambda: window.statusBar().showMessage("still here"))
    with qtbot.waitSignal(reporter._reported, timeout=5000):
        QTimer.singleShot(0, crash.raise_test_error)
    qtbot.waitUntil(lambda: dialog.count == 2, timeout=5000)
    assert len(reporter.reports) == 2 and dialog.report_text().count("Traceback") == 2
    assert "2 errors" in dialog.message.text()
    dialog.close_button.click()
    qtbot.waitUntil(lambda: reporter.dialog is None, timeout=2000)


def test_a_burst_of_errors_opens_one_dialog(qtbot: QtBot, window: MainWindow, install: Install,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    reporter = install()
    for _ in range(25):
        QTimer.singleShot(0, crash.raise_test_error)
    qtbot.waitUntil(lambda: len(reporter.reports) == 25, timeout=5000)
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog) and w.isVisible()]
    assert dialogs == [reporter.dialog]
    dialog = dialogs[0]
    assert dialog.count == 25
    assert dialog.report_text().count("Traceback (most recent call last)") == MAX_REPORTS_SHOWN
    assert f"25 errors it did not expect (the first {MAX_REPORTS_SHOWN} are below)" in dialog.message.text()
    assert capsys.readouterr().err.count("card-explorer: unhandled error") == 25


def test_an_exception_on_another_thread_is_shown_by_the_gui_thread(
        qtbot: QtBot, qapp: QApplication, window: MainWindow, install: Install, log_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(crash.TEST_HOOK_ENV, "thread")
    reporter = install()
    shown_on: list[bool] = []
    reporter.dialog_shown.connect(
        lambda _: shown_on.append(threading.current_thread() is threading.main_thread()))
    dialog = _wait_dialog(qtbot, reporter)
    assert "Thread: crash-test" in dialog.report_text()
    assert dialog.thread() is qapp.thread() and shown_on == [True]

    def fail() -> None:
        raise ValueError("worker gave up")

    worker = threading.Thread(target=fail, name="card-worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: dialog.count == 2, timeout=5000)
    text = dialog.report_text()
    assert "Thread: card-worker" in text and "ValueError: worker gave up" in text
    log = (log_dir / "card-explorer.log").read_text()
    assert "Thread: crash-test" in log and "ValueError: worker gave up" in log


def test_an_error_in_an_asyncio_callback_is_reported(qtbot: QtBot, window: MainWindow, install: Install,
                                                     aloop: qasync.QEventLoop) -> None:
    reporter = install()
    aloop.set_exception_handler(reporter.asyncio_handler)

    async def forgotten() -> None:
        raise LookupError("nobody awaited this task")

    async def scenario() -> None:
        aloop.call_soon(crash.raise_test_error)
        task = aloop.create_task(forgotten())
        while not task.done():
            await asyncio.sleep(0.01)
        del task  # never retrieved: asyncio reports it when the task is collected
        gc.collect()
        while len(reporter.reports) < 2:
            await asyncio.sleep(0.01)

    aloop.run_until_complete(scenario())
    text = reporter.dialog.report_text() if reporter.dialog is not None else ""
    assert "CrashTestError" in text and "LookupError: nobody awaited this task" in text


def test_help_about_shows_versions_log_file_and_journal(qtbot: QtBot, window: MainWindow,
                                                        log_dir: Path) -> None:
    from explorer.ui.about import AboutDialog

    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    action = next(a for a in menu.actions() if a.text() == "&About Card Explorer")
    action.trigger()
    dialog = next(w for w in window.findChildren(AboutDialog))
    assert dialog.isVisible()
    values = {label: field.text() for label, field in dialog.values.items()}
    assert values["Log file"] == str(log_dir / "card-explorer.log")
    assert values["Journal directory"] == str(diagnostics.journal_dir())
    assert values["Journal directory"].startswith(os.environ["XDG_DATA_HOME"])
    import PySide6
    from PySide6.QtCore import qVersion

    assert values["Qt"] == qVersion() and values["PySide6"] == PySide6.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+ \(\w+\)", values["Python"])
    assert values["pyscard"] and values["Platform"]
    field = dialog.values["Log file"]
    assert isinstance(field, QLabel)
    assert field.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith(f"Card Explorer: {__version__}\n") and f"Log file: {log_dir}" in copied
    dialog.close()


def test_version_lists_versions_and_paths_without_loading_pyscard(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-m", "explorer", "--version"], capture_output=True, text=True,
                            timeout=60, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"card-explorer {__version__}"
    assert re.fullmatch(r"card-explorer \d+\.\d+\S*", lines[0])  # what packaging/smoke.py checks
    fields = dict(line.split(": ", 1) for line in lines[1:])
    assert list(fields) == ["Python", "Qt", "PySide6", "pyscard", "Platform", "Running from", "Log file",
                            "Journal directory"]
    assert re.fullmatch(r"6\.\d+\.\d+", fields["Qt"]) and re.fullmatch(r"6\.\d+\.\d+", fields["PySide6"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", fields["pyscard"])
    assert fields["Log file"] == str(tmp_path / "state" / "card-explorer" / "log" / "card-explorer.log")
    assert fields["Journal directory"] == str(tmp_path / "data" / "card-explorer" / "traces")
    assert not (tmp_path / "state").exists()  # --version creates nothing

    # pyscard's version comes from its metadata: its C extension is not loaded, and a missing pyscard is said.
    code = ("import sys; from explorer import diagnostics; info = dict(diagnostics.info(load_qt=True)); "
            "assert not any(m.startswith('smartcard') for m in sys.modules), 'pyscard imported'; "
            "print(info['pyscard'])")
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                           cwd=ROOT)
    assert probe.returncode == 0, probe.stderr
    assert re.fullmatch(r"\d+\.\d+\.\d+", probe.stdout.strip())


def test_a_native_crash_is_in_the_log_at_the_next_start(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    code = ("from explorer import diagnostics; import faulthandler; diagnostics.start_gui_log(); "
            "faulthandler._sigsegv()")
    crashed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                             env=env)
    assert crashed.returncode != 0
    assert "Fatal Python error" not in crashed.stderr  # it went to the file
    log_dir = tmp_path / "state" / "card-explorer" / "log"
    native = (log_dir / "native-crash.log").read_text()
    assert "Fatal Python error: Segmentation fault" in native and "Current thread" in native
    start = "from explorer import diagnostics; diagnostics.start_gui_log()"
    again = subprocess.run([sys.executable, "-c", start], capture_output=True, text=True, timeout=60, env=env)
    assert again.returncode == 0, again.stderr
    log = (log_dir / "card-explorer.log").read_text()
    assert "The previous session died in native code" in log
    assert "Fatal Python error: Segmentation fault" in log
    assert (log_dir / "native-crash.log").read_text() == ""


def test_the_log_rotates_and_stays_private(tmp_path: Path) -> None:
    handler = diagnostics.PrivateRotatingFileHandler(tmp_path / "x.log", maxBytes=200, backupCount=3)
    try:
        record = logging.LogRecord("explorer.test", logging.INFO, __file__, 1, "x" * 100, None, None)
        for _ in range(12):
            handler.emit(record)
    finally:
        handler.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["x.log", "x.log.1", "x.log.2", "x.log.3"]
    assert all(_mode(tmp_path / name) == 0o600 for name in files)


def test_the_app_process_logs_a_forced_crash_and_keeps_running(tmp_path: Path) -> None:
    """The real start-up path (explorer.cli main), without pyscard so that no PC/SC service is touched."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CARD_EXPLORER_QUIT_AFTER_MS": "2500",
           crash.TEST_HOOK_ENV: "1", "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    code = ("import sys; sys.modules['smartcard'] = None\n"
            "from explorer.cli import main; raise SystemExit(main([]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr  # the window went on and closed at the quit timer
    assert "Traceback" not in result.stderr
    log_file = tmp_path / "state" / "card-explorer" / "log" / "card-explorer.log"
    assert f"card-explorer: unhandled error (CrashTestError: {crash.TEST_HOOK_ENV} is set" in result.stderr
    assert f"the report is in {log_file}" in result.stderr
    log = log_file.read_text()
    assert "Traceback (most recent call last):" in log and "in raise_test_error" in log
    assert _mode(log_file) == 0o600 and _mode(log_file.parent) == 0o700


def test_the_window_icon_and_desktop_name_match_the_desktop_entry(qapp: QApplication) -> None:
    """app.py names the app after packaging/card-explorer.desktop (Wayland docks match on it) and
    sets the PNG icon (no QtSvg needed)."""
    from PySide6.QtGui import QIcon

    from explorer.assets import asset_path

    entry = (ROOT / "packaging" / "card-explorer.desktop").read_text()
    assert "Icon=card-explorer" in entry.splitlines()
    source = (ROOT / "explorer" / "ui" / "app.py").read_text()
    assert 'setDesktopFileName("card-explorer")' in source
    assert 'asset_path("icons", "card-explorer-256.png")' in source
    icon = QIcon(str(asset_path("icons", "card-explorer-256.png")))
    assert not icon.isNull() and icon.pixmap(64, 64).width() == 64


def test_after_the_dialog_is_closed_or_gone_the_next_error_opens_a_new_one(
        qtbot: QtBot, window: MainWindow, install: Install) -> None:
    reporter = install()
    QTimer.singleShot(0, crash.raise_test_error)
    first = _wait_dialog(qtbot, reporter)
    first.close_button.click()
    qtbot.waitUntil(lambda: reporter.dialog is None, timeout=2000)
    QTimer.singleShot(0, crash.raise_test_error)
    second = _wait_dialog(qtbot, reporter)
    assert second.count == 1
    shiboken6.delete(second)  # as when the window it sat on is deleted
    QTimer.singleShot(0, crash.raise_test_error)
    qtbot.waitUntil(lambda: reporter.dialog is not None and shiboken6.isValid(reporter.dialog), timeout=5000)
    assert reporter.dialog is not None and reporter.dialog.count == 1 and len(reporter.reports) == 3
