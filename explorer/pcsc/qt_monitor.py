"""The PC/SC reader monitor behind the Qt event bridge, for the GUI.

Thread rules: as EventBridge — the monitor thread only posts; every signal is
emitted on the thread that owns the bridge (the GUI thread).
"""

from __future__ import annotations

import contextlib
import threading

from PySide6.QtCore import QObject

from explorer.link.bridge import EventBridge
from explorer.pcsc import context
from explorer.pcsc.connection import PcscLink
from explorer.pcsc.monitor import ReaderMonitor


class MonitorBridge(EventBridge):
    """PC/SC readers as Qt signals, and PC/SC links for the connection manager."""

    pcsc_missing = ""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._monitor = ReaderMonitor(self.post)

    @property
    def running(self) -> bool:
        return self._monitor.running

    def start(self) -> None:
        self._monitor.start()

    def refresh(self) -> None:
        """See ReaderMonitor.refresh: not from the GUI thread."""
        self._monitor.refresh()

    def stop(self, timeout: float = 2.0) -> bool:
        return self._monitor.stop(timeout)

    def probe(self) -> None:
        def look() -> None:
            found = -1
            with contextlib.suppress(context.ServiceUnavailable):
                ctx = context.establish()
                try:
                    found = len(context.list_readers(ctx))
                finally:
                    context.release(ctx)
            with contextlib.suppress(RuntimeError):  # the bridge was deleted meanwhile
                self._probe_done.emit(found)

        threading.Thread(target=look, name="pcsc-probe", daemon=True).start()

    def open_link(self, reader: str) -> PcscLink:
        return PcscLink(reader)
