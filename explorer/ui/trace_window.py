"""A past session's trace in a window of its own (File > Open trace), browsed
like the live one: filters, folding, detail, copy, export. GUI thread only.

Opening reads the file on a short-lived thread, with a progress dialog that
can cancel it: 300,000 records take seconds. A file that cannot be read ends
in a message that says what and where (the reader's own words), in the
status bar and a dialog, never in a traceback. A closed window is deleted
with all it holds (a 300,000-record trace is some 200 MB), and the opener
forgets it.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QProgressDialog, QWidget

from explorer.trace.journal import read_journal
from explorer.trace.jsonl import TraceFormatError
from explorer.trace.store import TraceStore
from explorer.ui.background import Background, pause
from explorer.ui.screen_fit import fitted
from explorer.ui.trace_panel import TracePanel

# Tracebacks of unexpected failures go to the log file only, like every crash report.
_crash_log = logging.getLogger("explorer.crash")
PROGRESS_STEPS = 1000


class ReadCancelled(Exception):
    """The user cancelled the opening."""


@dataclass(frozen=True)
class OpenedTrace:
    """A trace file read, ready for its window (built on the reading thread)."""

    path: Path
    store: TraceStore
    problems: tuple[str, ...]  # the first of them
    bad_lines: int  # all of them
    cut_short: bool
    readers: tuple[str, ...]  # in order of first appearance, for the filter boxes
    origins: tuple[str, ...]


def read_trace(path: Path, progress: Callable[[int], None], stop: threading.Event) -> OpenedTrace:
    """Read `path` (on a worker thread); `progress` gets the bytes read now and
    then; ReadCancelled once `stop` is set."""

    def watch(done: int) -> None:
        pause()  # after each chunk read: the GUI thread gets the GIL meanwhile
        if stop.is_set():
            raise ReadCancelled
        progress(done)

    contents = read_journal(path, watch)
    if stop.is_set():
        raise ReadCancelled
    records = contents.records
    return OpenedTrace(contents.path, TraceStore(records=records), contents.problems, contents.bad_lines,
                       contents.cut_short,
                       tuple(dict.fromkeys(r.reader for r in records)),
                       tuple(dict.fromkeys(r.origin for r in records)))


def failure_text(path: str, error: BaseException) -> str:
    """What the user reads when a trace cannot be opened."""
    if isinstance(error, (TraceFormatError, OSError)):
        return str(error)  # the reader's message names the file, line and place
    _crash_log.error("Could not read the trace %s", path, exc_info=error)
    return f"could not read {path}: {error or type(error).__name__}"


class TraceWindow(QMainWindow):
    closed = Signal()

    def __init__(self, opened: OpenedTrace, settings: QSettings) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.path = opened.path
        self.setWindowTitle(f"Trace {opened.path.name} — Card Explorer")
        self.panel = TracePanel(opened.store, settings, live=False, values=(opened.readers, opened.origins))
        self.setCentralWidget(self.panel)
        self.resize(fitted(self, 1100, 700))
        notes = [f"{len(opened.store)} records from {opened.path}"]
        if opened.cut_short:
            notes.append("the last line was cut short (the app stopped while writing it)")
        if opened.bad_lines:
            notes.append(f"{opened.bad_lines} bad line(s) skipped: {opened.problems[0]}")
        self.statusBar().showMessage("; ".join(notes))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.panel.stop()
        super().closeEvent(event)
        self.closed.emit()


class _Opening:
    """One file being read: what stops it and the dialog showing how far it got."""

    def __init__(self, path: str, size: int, dialog: QProgressDialog) -> None:
        self.path, self.size, self.dialog = path, size, dialog
        self.stop = threading.Event()


class TraceOpener(QObject):
    """Opens trace files into TraceWindows, and holds each window until it closes."""

    message = Signal(str, int)  # for the status bar: text, milliseconds (0: until replaced)
    finished = Signal(str)  # path: opened, failed or cancelled
    window_opened = Signal(object)  # the TraceWindow, once shown
    _progressed = Signal(object, int)  # an _Opening, bytes read (from the reading thread)

    def __init__(self, settings: QSettings, parent: QWidget) -> None:
        super().__init__(parent)
        self._settings = settings
        self._parent = parent
        self.windows: list[TraceWindow] = []
        self._openings: list[_Opening] = []
        self._background = Background(self)
        self._progressed.connect(self._show_progress)

    @property
    def openings(self) -> int:
        """Files being read now."""
        return len(self._openings)

    def open(self, path: str) -> None:
        """Read a journal or JSON Lines export on a thread, then browse it in its own window."""
        try:
            size = os.path.getsize(path)
        except OSError:
            size = 0  # the reader says why it cannot open it
        name = Path(path).name
        dialog = QProgressDialog(f"Reading {name}…", "Cancel", 0, PROGRESS_STEPS, self._parent)
        dialog.setWindowTitle("Open trace")
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(300)  # a small file opens before it would show
        dialog.setValue(0)
        opening = _Opening(path, size, dialog)
        dialog.canceled.connect(functools.partial(self._cancel, opening))
        self._openings.append(opening)
        self.message.emit(f"Reading {path}…", 0)
        progressed = self._progressed

        def progress(done: int) -> None:
            progressed.emit(opening, done)

        self._background.run("trace-open", lambda: read_trace(Path(path), progress, opening.stop),
                             functools.partial(self._read, opening), functools.partial(self._failed, opening),
                             large=True)

    def cancel_all(self) -> None:
        for opening in list(self._openings):
            self._cancel(opening)

    def close_all(self) -> None:
        self.cancel_all()
        for window in list(self.windows):
            window.close()

    def _cancel(self, opening: _Opening) -> None:
        opening.stop.set()
        self.message.emit(f"Cancelling the opening of {opening.path}…", 0)

    def _show_progress(self, opening: _Opening, done: int) -> None:
        if opening in self._openings and opening.size > 0:
            opening.dialog.setValue(min(PROGRESS_STEPS - 1, done * PROGRESS_STEPS // opening.size))

    def _end(self, opening: _Opening) -> None:
        self._openings.remove(opening)
        opening.dialog.reset()
        opening.dialog.hide()
        opening.dialog.deleteLater()

    def _read(self, opening: _Opening, opened: OpenedTrace) -> None:
        self._end(opening)
        if opening.stop.is_set():
            self.message.emit(f"Opening {opening.path} cancelled", 5000)
        else:
            window = TraceWindow(opened, self._settings)
            self.windows.append(window)
            window.closed.connect(functools.partial(self._forget, window))
            window.show()
            self.window_opened.emit(window)
            self.message.emit(f"Opened {opening.path}: {len(opened.store)} records", 5000)
        self.finished.emit(opening.path)

    def _forget(self, window: TraceWindow) -> None:
        if window in self.windows:
            self.windows.remove(window)

    def _failed(self, opening: _Opening, error: BaseException) -> None:
        self._end(opening)
        path = opening.path
        if isinstance(error, ReadCancelled):
            self.message.emit(f"Opening {path} cancelled", 5000)
        else:
            text = failure_text(path, error)
            self.message.emit(f"Cannot open {path}: {text}", 0)
            from PySide6.QtWidgets import QMessageBox  # dialogs are imported when opened

            box = QMessageBox(QMessageBox.Icon.Warning, "Open trace", f"Cannot open {path}:\n{text}",
                              QMessageBox.StandardButton.Ok, self._parent)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()  # open(), not exec(): a message must not stop the window's event loop
        self.finished.emit(path)
