"""The main window: composes the panels, a status bar, and the saved layout."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QWidget

from explorer import __version__
from explorer.core.reader_events import MonitorEvent, ServiceLost, ServiceRestored
from explorer.pcsc.manager import ConnectionManager
from explorer.pcsc.qt_monitor import MonitorBridge
from explorer.ui.atr_panel import AtrPanel
from explorer.ui.console_panel import ConsolePanel
from explorer.ui.placeholder import PlaceholderPanel
from explorer.ui.reader_tree import ReaderTreePanel

_SETTINGS_VERSION = 1
_PLANNED = {
    "trace": ("Trace", "Every exchange and reader event, timed and journaled as it happens, "
                       "searchable and exportable."),
}


class MainWindow(QMainWindow):
    """Thin: panels in docks, fed by the monitor bridge. GUI thread only."""

    def __init__(self, monitor: MonitorBridge, settings: QSettings,
                 manager: ConnectionManager | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Card Explorer")
        self.setObjectName("MainWindow")
        self.setDockNestingEnabled(True)
        self._settings = settings
        self._service_seen = False
        # The monitor re-reads reader flags after our own connects: pcscd does not wake it for those.
        self.manager = manager or ConnectionManager(on_change=monitor.refresh)
        self.readers = ReaderTreePanel()
        self.console = ConsolePanel(self.manager, settings)
        self.atr = AtrPanel(settings)
        self.readers.selection_changed.connect(self.console.set_target)
        self.readers.selection_changed.connect(self.atr.set_target)
        self.docks: dict[str, QDockWidget] = {}
        self._add_dock("readers", "Readers", self.readers, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("console", "APDU console", self.console, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("atr", "ATR", self.atr, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.placeholders: dict[str, PlaceholderPanel] = {}
        for key, (title, text) in _PLANNED.items():
            self.placeholders[key] = PlaceholderPanel(text)
            self._add_dock(key, title, self.placeholders[key], Qt.DockWidgetArea.LeftDockWidgetArea)
        # Two columns: what is in the readers (tree over ATR) | talking to it (console over trace).
        d = self.docks
        self.splitDockWidget(d["readers"], d["console"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["readers"], d["atr"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["console"], d["trace"], Qt.Orientation.Vertical)
        self.resize(1200, 800)
        self.resizeDocks([d["readers"], d["console"]], [560, 640], Qt.Orientation.Horizontal)
        self.resizeDocks([d["readers"], d["atr"]], [200, 600], Qt.Orientation.Vertical)
        self._default_state = self.saveState(_SETTINGS_VERSION)
        self.service_label = QLabel("PC/SC service: connecting…")
        self.count_label = QLabel("")
        self.statusBar().addWidget(self.service_label, 1)
        self.statusBar().addPermanentWidget(self.count_label)
        self._build_menus()
        monitor.monitor_event.connect(self.on_event)
        self._restore_layout()

    def _add_dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{key}")  # saveState needs stable names
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        reset = QAction("&Reset layout", self)
        reset.triggered.connect(lambda: self.restoreState(self._default_state, _SETTINGS_VERSION))
        view.addAction(reset)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Card Explorer", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About Card Explorer", f"Card Explorer {__version__}\nA smart-card explorer."))
        help_menu.addAction(about)

    def on_event(self, event: MonitorEvent) -> None:
        self.readers.apply(event)
        self.console.on_monitor_event(event)
        self.atr.on_monitor_event(event)
        if isinstance(event, ServiceLost):
            # Never up since start: nothing was lost, the service is just not there yet.
            lost = "lost" if self._service_seen else "not running"
            self.service_label.setText(f"PC/SC service {lost}; waiting for it… ({event.reason})")
        elif isinstance(event, ServiceRestored):
            self._service_seen = True
            self.service_label.setText("PC/SC service: running" if event.initial
                                       else "PC/SC service: restored")
        self._update_counts()

    def _update_counts(self) -> None:
        model = self.readers.model
        readers, cards = len(model.reader_names()), model.card_count()
        self.count_label.setText(
            f"{readers} reader{'s' * (readers != 1)}, {cards} card{'s' * (cards != 1)}")

    # -- layout persistence ---------------------------------------------------

    def _restore_layout(self) -> None:
        s = self._settings
        if s.value("window/version", 0, int) != _SETTINGS_VERSION:
            return
        geometry = s.value("window/geometry")
        state = s.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state, _SETTINGS_VERSION)

    def save_layout(self) -> None:
        s = self._settings
        s.setValue("window/version", _SETTINGS_VERSION)
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(_SETTINGS_VERSION))
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        # A worker stuck on a silent card must not hold the window open: it is a daemon.
        self.manager.close_all(timeout=1.0)
        super().closeEvent(event)
