"""A hidden start-up probe for bench/startup.py.

`CARD_EXPLORER_EXIT_WHEN_SHOWN=1` makes the app print `shown <seconds> <cpu>`
on stdout once the window's first frame is painted (CLOCK_MONOTONIC,
`time.monotonic()`, which is system-wide on Linux, and the process's CPU
seconds so far), then close the window as File > Quit would. Imported only
when that variable is set.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class FirstFrame(QObject):
    """At the window's first paint event, a 0 ms timer: it fires once that frame is painted."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            QTimer.singleShot(0, self._shown)
        return False

    def _shown(self) -> None:
        sys.stdout.write(f"shown {time.monotonic():.6f} {time.process_time():.6f}\n")
        sys.stdout.flush()
        self._window.close()
