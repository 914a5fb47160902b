"""What a bug report needs, without Qt: versions, platform, where the log and the journal are,
the private log file of the GUI and the crash report text.

Cheap to import (standard library only at import time): the CLI reaches it for
`--version`, the GUI at start-up. Qt's versions are read only when asked for
(`--version`) or when Qt is already loaded (a crash report in the GUI); pyscard's
version comes from its package metadata, never from importing its C extension,
so it works on a machine without libpcsclite.

The GUI's log lives in the user's log directory (platformdirs, the same
`card-explorer` name as the journal's data directory; on Linux
`$XDG_STATE_HOME/card-explorer/log`, i.e. `~/.local/state/card-explorer/log`):

- `card-explorer.log`: the app's log records at INFO and above and every
  unhandled exception with its traceback; rotated at 1 MiB, 3 old files kept.
- `native-crash.log`: Python's faulthandler output when the process dies in
  native code (a segfault in Qt or pyscard). At the next start its content is
  copied into `card-explorer.log` and the file is emptied.

The directory is created 0700 and the files 0600: a log may name readers,
cards and file paths, and sits next to nothing anyone else should read.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime

from explorer import __version__
from explorer.private_files import open_private, private_dir

APP_NAME = "card-explorer"
LOG_FILE = "card-explorer.log"
NATIVE_CRASH_FILE = "native-crash.log"
LOG_MAX_BYTES = 1024 * 1024
LOG_BACKUPS = 3
LOG_FORMAT = "%(asctime)s %(process)d %(threadName)s %(name)s %(levelname)s %(message)s"


# -- where things are ------------------------------------------------------------


def log_dir() -> Path:
    """The user's log directory for the app (platformdirs; on Linux under $XDG_STATE_HOME)."""
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    return log_dir() / LOG_FILE


def journal_dir() -> Path:
    """Where session journals are written (explorer.trace.journal.trace_dir)."""
    from explorer.trace.journal import trace_dir

    return trace_dir()


# -- versions and platform ---------------------------------------------------------


def _pyscard_version() -> str:
    """From the package metadata: importing `smartcard` would load its C extension and libpcsclite."""
    import importlib.metadata
    import importlib.util

    try:
        return importlib.metadata.version("pyscard")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        found = importlib.util.find_spec("smartcard") is not None
    except (ImportError, ValueError):
        found = False
    return "installed, version unknown" if found else "not installed"


def _qt_versions(load: bool) -> tuple[str, str]:
    """(Qt runtime version, PySide6 version); with load=False only if Qt is already imported."""
    if not load and "PySide6.QtCore" not in sys.modules:
        return "not loaded", "not loaded"
    try:
        import PySide6
        from PySide6 import QtCore
    except Exception as exc:  # a broken Qt install must not break --version
        return f"not available ({exc})", "not available"
    return str(QtCore.qVersion()), str(PySide6.__version__)


def _os_name() -> str:
    import platform

    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        return ""


def info(load_qt: bool = False) -> list[tuple[str, str]]:
    """Everything a bug report needs to say about this installation, as (label, value) pairs."""
    import platform

    qt, pyside = _qt_versions(load_qt)
    system = platform.platform()
    if os_name := _os_name():
        system = f"{system} ({os_name})"
    frozen = "PyInstaller bundle" if getattr(sys, "frozen", False) else "Python package"
    return [
        ("Card Explorer", __version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Qt", qt),
        ("PySide6", pyside),
        ("pyscard", _pyscard_version()),
        ("Platform", system),
        ("Running from", frozen),
        ("Log file", str(log_file())),
        ("Journal directory", str(journal_dir())),
    ]


def version_text() -> str:
    """What `card-explorer --version` prints: `card-explorer X.Y.Z`, then one `label: value` a line."""
    lines = [f"{APP_NAME} {__version__}"]
    lines += [f"{label}: {value}" for label, value in info(load_qt=True)[1:]]
    return "\n".join(lines)


def crash_report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
                 *, thread: str = "", when: datetime.datetime | None = None) -> str:
    """The text of an error report: when, where, every version, then the traceback."""
    import datetime
    import traceback

    when = when or datetime.datetime.now().astimezone()
    lines = [f"Card Explorer {__version__}: unhandled {exc_type.__name__}",
             f"Time: {when.isoformat(sep=' ', timespec='seconds')}"]
    if thread:
        lines.append(f"Thread: {thread}")
    lines += [f"{label}: {value}" for label, value in info()[1:]]
    lines.append("")
    lines += "".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n").splitlines()
    return "\n".join(lines)


# -- the GUI's log file --------------------------------------------------------------


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files, new and rotated in, are 0600."""

    def _open(self) -> Any:
        return open_private(self.baseFilename, self.mode, errors="backslashreplace")


@dataclass
class GuiLog:
    """The GUI's log set-up; `close` undoes it (tests; the app keeps it for its lifetime)."""

    directory: Path
    handler: logging.Handler
    crash_logger: logging.Logger
    native_file: IO[str]
    _restore: list[tuple[logging.Handler | logging.Logger, int]] = field(default_factory=list)
    _faulthandler_was_on: bool = False

    @property
    def path(self) -> Path:
        return self.directory / LOG_FILE

    def close(self) -> None:
        global _current
        root = logging.getLogger()
        root.removeHandler(self.handler)
        self.crash_logger.removeHandler(self.handler)
        self.crash_logger.propagate = True
        self.handler.close()
        for obj, level in self._restore:
            obj.setLevel(level)
        if self._faulthandler_was_on:
            faulthandler.enable(file=sys.__stderr__ or sys.stderr, all_threads=True)
        else:
            faulthandler.disable()
        self.native_file.close()
        if _current is self:
            _current = None


_current: GuiLog | None = None


def start_gui_log(directory: Path | None = None) -> GuiLog:
    """Open the rotating log and the faulthandler file in the user's log directory (once per process).

    The app's loggers (`explorer.*`) are recorded from INFO up, others from
    the root's level; what goes to the terminal does not change (its handlers
    keep the root's level). Unhandled exceptions are logged on
    `explorer.crash`, which writes to the file only (without a log file it
    propagates as usual, so that the report still lands somewhere).
    """
    global _current
    if _current is not None:
        return _current
    directory = directory or log_dir()
    private_dir(directory)
    root = logging.getLogger()
    restore: list[tuple[logging.Handler | logging.Logger, int]] = []
    # Records at INFO now reach the root's handlers: keep the terminal's at the root's old level.
    for handler in root.handlers:
        if handler.level == logging.NOTSET:
            restore.append((handler, handler.level))
            handler.setLevel(root.getEffectiveLevel())
    app_logger = logging.getLogger("explorer")
    if app_logger.getEffectiveLevel() > logging.INFO:
        restore.append((app_logger, app_logger.level))
        app_logger.setLevel(logging.INFO)
    handler = PrivateRotatingFileHandler(directory / LOG_FILE, maxBytes=LOG_MAX_BYTES,
                                         backupCount=LOG_BACKUPS, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    crash_logger = logging.getLogger("explorer.crash")
    crash_logger.propagate = False  # tracebacks go to the file, never to the terminal
    crash_logger.addHandler(handler)
    native_path = directory / NATIVE_CRASH_FILE
    previous = _read_previous_native_crash(native_path)
    native_file = open_private(native_path, "w", errors="backslashreplace")
    was_on = faulthandler.is_enabled()
    faulthandler.enable(file=native_file, all_threads=True)
    _current = GuiLog(directory, handler, crash_logger, native_file, restore, was_on)
    log = logging.getLogger("explorer.diagnostics")
    if previous:
        crash_logger.error("The previous session died in native code (faulthandler output):\n%s", previous)
    # Cheap on purpose (no platform or package metadata look-up at start-up): a crash report has it all.
    qt, _ = _qt_versions(load=False)
    log.info("Card Explorer %s started (pid %d, Python %s, Qt %s)", __version__, os.getpid(),
             ".".join(map(str, sys.version_info[:3])), qt)
    return _current


def _read_previous_native_crash(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(256 * 1024).strip()
    except OSError:
        return ""


def current_log() -> GuiLog | None:
    return _current
