"""A past session's trace in a window of its own (File > Open trace), browsed
like the live one: filters, folding, detail, copy, export. GUI thread only;
the file is read on a short-lived thread."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow

from explorer.trace.journal import JournalContents, read_journal
from explorer.trace.jsonl import TraceFormatError
from explorer.trace.store import TraceStore
from explorer.ui.trace_panel import TracePanel


class TraceReader(QObject):
    done = Signal(str, object, str)  # path, JournalContents or None, error

    def start(self, path: str) -> None:
        def run() -> None:
            contents: JournalContents | None = None
            error = ""
            try:
                contents = read_journal(Path(path))
            except (OSError, TraceFormatError, UnicodeError) as e:
                error = str(e)
            with contextlib.suppress(RuntimeError):  # the window closed meanwhile
                self.done.emit(path, contents, error)

        threading.Thread(target=run, name="trace-open", daemon=True).start()


class TraceWindow(QMainWindow):
    def __init__(self, contents: JournalContents, settings: QSettings) -> None:
        super().__init__()
        self.contents = contents
        self.setWindowTitle(f"Trace {contents.path.name} — Card Explorer")
        self.panel = TracePanel(TraceStore(records=contents.records), settings, live=False)
        self.setCentralWidget(self.panel)
        self.resize(1100, 700)
        notes = [f"{len(contents.records)} records from {contents.path}"]
        if contents.cut_short:
            notes.append("the last line was cut short (the app stopped while writing it)")
        if contents.problems:
            notes.append(f"{len(contents.problems)} bad line(s) skipped: {contents.problems[0]}")
        self.statusBar().showMessage("; ".join(notes))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.panel.stop()
        super().closeEvent(event)
