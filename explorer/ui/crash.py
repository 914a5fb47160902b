"""Unhandled exceptions in the GUI: logged with their traceback, shown in a dialog, and the app goes on.

`install(app)` opens the GUI's private log (explorer.diagnostics: a rotating
file and faulthandler for native crashes, in the user's log directory) and
sets `sys.excepthook` and `threading.excepthook`. An exception that nothing
caught (in a slot, a timer, an asyncio callback through `asyncio_handler`, or
on any thread) is written to the log file with a report (versions, platform,
time, thread, traceback), named in one line on stderr with the log's path (no
traceback on the terminal), and shown on the GUI thread through a queued
signal: a thread never touches a widget. One dialog at a time: later errors
are added to the open one and counted. The dialog code is imported on the
first error only.

Hidden test hook (tests, docs/screenshot.py, trying a bundle):
`CARD_EXPLORER_CRASH_TEST=1` raises `CrashTestError` from a slot on the GUI
thread 300 ms after start, that is once the window is up;
`CARD_EXPLORER_CRASH_TEST=thread` raises it on a short-lived Python thread.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow

from explorer import diagnostics

if TYPE_CHECKING:
    import asyncio

    from explorer.ui.crash_dialog import CrashDialog

TEST_HOOK_ENV = "CARD_EXPLORER_CRASH_TEST"
TEST_HOOK_DELAY_MS = 300

_log = logging.getLogger("explorer.crash")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class CrashTestError(RuntimeError):
    """Raised on purpose by the hidden test hook."""


class CrashReporter(QObject):
    """Owns the exception hooks; lives on the GUI thread. `reports` holds every report of this run."""

    _reported = Signal(str)
    dialog_shown = Signal(object)  # the dialog, each time one opens

    def __init__(self, gui_log: diagnostics.GuiLog | None, log_problem: str = "",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gui_log = gui_log
        self.log_problem = log_problem
        self.reports: list[str] = []
        self.dialog: CrashDialog | None = None
        self._dialog_failed = False
        self._previous_sys: Callable[..., Any] | None = None
        self._previous_thread: Callable[..., Any] | None = None
        self._reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    # -- hooks -----------------------------------------------------------------------

    def install(self) -> None:
        self._previous_sys, sys.excepthook = sys.excepthook, self._sys_hook
        self._previous_thread, threading.excepthook = threading.excepthook, self._thread_hook

    def uninstall(self) -> None:
        if sys.excepthook == self._sys_hook and self._previous_sys is not None:
            sys.excepthook = self._previous_sys
        if threading.excepthook == self._thread_hook and self._previous_thread is not None:
            threading.excepthook = self._previous_thread

    def _sys_hook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        self._handle((exc_type, exc, tb), threading.current_thread().name,
                     lambda: (self._previous_sys or sys.__excepthook__)(exc_type, exc, tb))

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else threading.current_thread().name
        self._handle((args.exc_type, args.exc_value, args.exc_traceback), name,
                     lambda: (self._previous_thread or threading.__excepthook__)(args))

    def asyncio_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """For `loop.set_exception_handler`: an exception nobody awaited is reported like any other."""
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            self._handle((type(exc), exc, exc.__traceback__), threading.current_thread().name,
                         lambda: loop.default_exception_handler(context))
        else:
            _log.warning("%s", context.get("message", "asyncio reported a problem"))

    def _handle(self, exc_info: ExcInfo, thread: str, fallback: Callable[[], object]) -> None:
        """On whatever thread raised: log, one line on stderr, and queue the dialog."""
        exc_type, exc, tb = exc_info
        if issubclass(exc_type, KeyboardInterrupt | SystemExit):
            fallback()
            return
        try:
            report = diagnostics.crash_report(exc_type, exc, tb, thread=thread)
            _log.error("Unhandled exception\n%s", report)
            self._tell_terminal(exc)
            self._reported.emit(report)
        except Exception:
            fallback()  # never lose an error because reporting it failed

    def _tell_terminal(self, exc: BaseException) -> None:
        if sys.stderr is None:  # a GUI-only launcher has no terminal
            return
        where = (f"the report is in {self.gui_log.path}" if self.gui_log is not None
                 else f"no log file ({self.log_problem})")
        summary = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        print(f"card-explorer: unhandled error ({summary}); {where}", file=sys.stderr, flush=True)

    # -- the dialog, on the GUI thread ------------------------------------------------

    def _show(self, report: str) -> None:
        self.reports.append(report)
        if self._dialog_failed:
            return
        try:
            if self.dialog is not None and not shiboken6.isValid(self.dialog):
                self.dialog = None  # deleted with the window it sat on
            if self.dialog is not None:
                self.dialog.add_report(report)
                return
            from explorer.ui.crash_dialog import CrashDialog

            log_path = str(self.gui_log.path) if self.gui_log is not None else ""
            dialog = CrashDialog(report, log_path, self.log_problem, _main_window())
            dialog.finished.connect(self._dialog_closed)
            self.dialog = dialog
            dialog.show()
            dialog.raise_()
            self.dialog_shown.emit(dialog)
        except Exception:
            # Reporting must not raise into the hook again: log it and stay with the log file.
            self._dialog_failed = True
            _log.exception("The crash dialog could not be shown")

    def _dialog_closed(self) -> None:
        self.dialog = None


def _main_window() -> QMainWindow | None:
    """The visible main window (else the active window), so the dialog sits on it and closes with it."""
    from explorer.ui.main_window import MainWindow

    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]
    main = [w for w in windows if isinstance(w, MainWindow)]
    if main:
        return main[0]
    active = QApplication.activeWindow()
    if isinstance(active, QMainWindow):
        return active
    return windows[0] if windows else None


def install(app: QApplication, log_directory: os.PathLike[str] | None = None) -> CrashReporter:
    """Start the private log and the hooks; arm the hidden test hook if its variable is set."""
    from pathlib import Path

    gui_log, problem = None, ""
    try:
        gui_log = diagnostics.start_gui_log(Path(log_directory) if log_directory is not None else None)
    except OSError as e:
        problem = f"cannot write the log: {e.strerror or e}"
        if sys.stderr is not None:
            print(f"card-explorer: {problem}", file=sys.stderr)
    reporter = CrashReporter(gui_log, problem, app)
    reporter.install()
    arm_test_hook()
    return reporter


def raise_test_error() -> None:
    raise CrashTestError(f"{TEST_HOOK_ENV} is set: a forced error")


def arm_test_hook() -> None:
    """CARD_EXPLORER_CRASH_TEST=1: raise from a GUI-thread slot; =thread: raise on a Python thread."""
    mode = os.environ.get(TEST_HOOK_ENV, "")
    if mode == "thread":
        QTimer.singleShot(TEST_HOOK_DELAY_MS, lambda: threading.Thread(
            target=raise_test_error, name="crash-test", daemon=True).start())
    elif mode:
        QTimer.singleShot(TEST_HOOK_DELAY_MS, raise_test_error)
