"""Starting the GUI: Qt application, monitor, window, Qt's event loop (qasync joins it on first use)."""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from explorer.assets import asset_path
from explorer.link.bridge import EventBridge
from explorer.ui import aio, crash
from explorer.ui.main_window import MainWindow
from explorer.ui.settings_file import private_settings


def event_bridge() -> EventBridge:
    """The PC/SC bridge; without PC/SC support (no libpcsclite here), one that only the
    virtual readers feed, so that the app still starts and can be tried."""
    try:
        from explorer.pcsc.qt_monitor import MonitorBridge
    except (ImportError, OSError) as exc:
        bridge = EventBridge()
        bridge.pcsc_missing = f"PC/SC support could not be loaded ({exc})"
        return bridge
    return MonitorBridge()


def run(argv: Sequence[str]) -> int:
    app = QApplication.instance() or QApplication(list(argv))
    assert isinstance(app, QApplication)
    app.setOrganizationName("Card Explorer")
    app.setApplicationName("Card Explorer")
    # Wayland docks match the window to packaging/card-explorer.desktop by this name.
    app.setDesktopFileName("card-explorer")
    app.setWindowIcon(QIcon(str(asset_path("icons", "card-explorer-256.png"))))
    # The private log file, faulthandler, and the crash dialog (hidden CARD_EXPLORER_CRASH_TEST: crash.py).
    reporter = crash.install(app)
    monitor = event_bridge()
    # Before the window reads them: an older version's file (0644, PINs in its history) is
    # made private here, and the console history masks and rewrites it.
    window = MainWindow(monitor, private_settings())
    if os.environ.get("CARD_EXPLORER_EXIT_WHEN_SHOWN"):  # hidden, for bench/startup.py
        from explorer.ui.first_frame import FirstFrame

        FirstFrame(window)
    window.show()
    monitor.start()
    window.offer_virtual_reader()
    # Ctrl-C in the terminal closes the window like File > Quit; the timer lets
    # Python run its signal handler while Qt's loop is in C++.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    signal.signal(signal.SIGTERM, lambda *_: window.close())
    # Hidden, for smoke tests (packaging/smoke.py): CARD_EXPLORER_QUIT_AFTER_MS=1500
    # closes the window, as File > Quit would, that many milliseconds after start.
    quit_after = os.environ.get("CARD_EXPLORER_QUIT_AFTER_MS", "")
    if quit_after.isdigit():
        QTimer.singleShot(int(quit_after), window.close)
    tick = QTimer()
    tick.start(200)
    tick.timeout.connect(lambda: None)
    # The asyncio loop card work is awaited on is made when it is first needed (explorer.ui.aio);
    # Qt's loop ends when the last window closes.
    aio.on_demand(app, reporter.asyncio_handler)
    # Everything made so far stays for the app's life: out of every later collection's way
    # (cli.gui_main held collection off while it was made).
    gc.freeze()
    gc.enable()
    try:
        app.exec()
    finally:
        tick.stop()
        monitor.stop()
        aio.close()
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv))
