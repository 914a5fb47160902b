"""The main window: composes the panels, a status bar, and the saved layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QWidget

from explorer.core.exchange import SENT_AS_IS
from explorer.core.reader_events import CardInserted, MonitorEvent, ServiceLost, ServiceRestored
from explorer.link.bridge import EventBridge
from explorer.link.manager import ConnectionManager
from explorer.services.workbench import Workbench
from explorer.trace.export import command_hex
from explorer.trace.journal import trace_dir
from explorer.trace.records import TraceRecord
from explorer.trace.store import TraceStore
from explorer.ui.analysis_panel import AnalysisPanel
from explorer.ui.atr_panel import AtrPanel
from explorer.ui.console_panel import ConsolePanel
from explorer.ui.reader_tree import ReaderTreePanel
from explorer.ui.screen_fit import fitted
from explorer.ui.script_panel import ScriptPanel
from explorer.ui.trace_panel import TracePanel
from explorer.ui.trace_window import TraceOpener, TraceWindow
from explorer.ui.virtual_reader import VirtualReaderMenu
from explorer.virtual.card_sources import CardSource, SourceKind

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog, QMessageBox

_SETTINGS_VERSION = 1
JOURNAL_SECRETS_KEY = "trace/journal_keeps_secrets"


class MainWindow(QMainWindow):
    """Thin: panels in docks, fed by the event bridge. GUI thread only.

    Readers come from the bridge's backend (PC/SC) and from the embedded
    virtual readers, whose events go through the same bridge.
    """

    # The journal stopped (why): emitted on whatever thread wrote the record, shown on this one.
    journal_stopped = Signal(str)

    def __init__(self, monitor: EventBridge, settings: QSettings,
                 manager: ConnectionManager | None = None, store: TraceStore | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Card Explorer")
        self.setObjectName("MainWindow")
        self.setDockNestingEnabled(True)
        self._settings = settings
        self._service_seen = False
        self._journal_problem = ""
        self._monitor = monitor
        self._select_when_in: set[str] = set()
        self.bench = Workbench(monitor.open_link, monitor.post, monitor.refresh, store=store, manager=manager,
                               keep_secrets=self.journal_keeps_secrets)
        self._journal_problem = self.bench.journal_problem
        self.store, self.embedded, self.manager = self.bench.store, self.bench.embedded, self.bench.manager
        self.readers = ReaderTreePanel()
        self.console = ConsolePanel(self.manager, settings)
        self.atr = AtrPanel(settings)
        self.readers.selection_changed.connect(self.console.set_target)
        self.readers.selection_changed.connect(self.atr.set_target)
        self.readers.context_requested.connect(self._reader_context_menu)
        self.docks: dict[str, QDockWidget] = {}
        self._add_dock("readers", "Readers", self.readers, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("console", "APDU console", self.console, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("atr", "ATR", self.atr, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.trace = TracePanel(self.store, settings)
        self._wire_trace_rows(self.trace)
        self._add_dock("trace", "Trace", self.trace, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.script = ScriptPanel(self.manager, self.store, settings, self.readers.selected_reader,
                                  self.readers.model.cards)
        self.script.record_wanted.connect(self.show_record)
        self.readers.selection_changed.connect(lambda reader, atr: self.script.on_targets_changed())
        self._add_dock("script", "Script", self.script, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.analysis = AnalysisPanel(self.manager, self.store, settings, self.readers.selected_reader,
                                      self.readers.model.cards)
        self.analysis.record_wanted.connect(self.show_record)
        self.readers.selection_changed.connect(lambda reader, atr: self.analysis.on_targets_changed())
        self._add_dock("analysis", "Analysis", self.analysis, Qt.DockWidgetArea.LeftDockWidgetArea)
        # Two columns: what is in the readers (tree over ATR) | talking to it (console over trace).
        d = self.docks
        self.splitDockWidget(d["readers"], d["console"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["readers"], d["atr"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["console"], d["trace"], Qt.Orientation.Vertical)
        # The script panel beside the console: both talk to the card, one at a time on screen.
        self.tabifyDockWidget(d["console"], d["script"])
        # The analysis with the console and the script, in the wide column (at 1024x700 the left
        # one is under 300 px): a finding selected brings up its record in the trace below it.
        self.tabifyDockWidget(d["console"], d["analysis"])
        d["console"].raise_()
        size = fitted(self, 1200, 800)
        self.resize(size)
        # The columns and rows in the same proportions on a smaller screen (560:640, 200:600).
        self.resizeDocks([d["readers"], d["console"]], [size.width() * 7 // 15, size.width() * 8 // 15],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([d["readers"], d["atr"]], [size.height() // 4, size.height() * 3 // 4],
                         Qt.Orientation.Vertical)
        self._default_state = self.saveState(_SETTINGS_VERSION)
        self.service_label = QLabel("PC/SC service: connecting…" if not monitor.pcsc_missing
                                    else f"{monitor.pcsc_missing}: the virtual readers work")
        self.count_label = QLabel("")
        # Stays for the session: a status-bar message would be gone before the user looks.
        self.journal_label = QLabel("")
        self.journal_label.setStyleSheet("color:#c0162b;")
        self.journal_dialog: QMessageBox | None = None
        self.statusBar().addWidget(self.service_label, 1)
        self.statusBar().addPermanentWidget(self.journal_label)
        self.statusBar().addPermanentWidget(self.count_label)
        self.journal_label.setVisible(False)
        self.trace_opener = TraceOpener(settings, self)
        self.trace_opener.message.connect(self.statusBar().showMessage)
        self.trace_opener.window_opened.connect(lambda window: self._wire_trace_rows(window.panel))
        self._build_menus()
        if self._journal_problem:
            self._show_journal_problem(self._journal_problem)
        # Queued even from this thread: the dialog never opens inside the code that added the record.
        self.journal_stopped.connect(self._journal_stopped, Qt.ConnectionType.QueuedConnection)
        self.store.on_journal_failure(self._emit_journal_stopped)
        monitor.monitor_event.connect(self.on_event)
        monitor.pcsc_probed.connect(self._pcsc_probed)
        self._restore_layout()

    # -- the embedded virtual reader ----------------------------------------------------

    def offer_virtual_reader(self) -> None:
        """Look at PC/SC (off this thread); with no service or no reader, start the virtual reader."""
        self._monitor.probe()

    def _pcsc_probed(self, readers: int) -> None:
        if readers > 0 or self.embedded.readers():
            return
        why = "no PC/SC service" if readers < 0 else "no PC/SC reader"
        self.start_virtual_reader()
        self.statusBar().showMessage(f"{why}: started the virtual reader with the demo card", 10000)

    def start_virtual_reader(self) -> str:
        """An embedded reader with the demo card in it, selected once the card is in."""
        return self.virtual.insert(CardSource(SourceKind.DEMO))

    def _reader_context_menu(self, reader: str, at: QPoint) -> None:
        """Right click on a virtual reader (or off the rows): the Virtual menu, acting on that reader."""
        if reader and not self.embedded.owns(reader):
            return
        if reader:
            self.readers.select_card(reader)
        self.virtual.popup(at)

    def _virtual_card_inserted(self, reader: str, label: str) -> None:
        # The hub's CardInserted is still queued on the bridge: select when it lands.
        self._select_when_in.add(reader)

    # -- a trace row back to work ----------------------------------------------------------

    def _wire_trace_rows(self, panel: TracePanel) -> None:
        panel.edit_in_console.connect(lambda record: self.command_to_console(record, send=False))
        panel.send_again.connect(lambda record: self.command_to_console(record, send=True))

    def command_to_console(self, record: TraceRecord, *, send: bool) -> None:
        """A trace row's command into the console, for its reader, and sent again if asked and
        the console is connected there. Masked PIN or key bytes stay masked (the trace's setting):
        the console then waits for them to be typed, so a PIN try is never spent unseen."""
        reader = record.reader
        if reader in self.readers.model.reader_names():
            self.readers.select_card(reader)
        else:
            self.statusBar().showMessage(f"{reader} is not here now: the command is in the console "
                                         "for another reader", 8000)
        text = command_hex(record, self.trace.reveal_secrets)
        self.console.load_command(text, as_is=SENT_AS_IS in record.detail)
        self.docks["console"].raise_()
        if send and not self.console.send_loaded():
            self.statusBar().showMessage(f"Not sent: {self.console.reason_label.text()}", 8000)

    def _show_analysis(self) -> None:
        dock = self.docks["analysis"]
        dock.show()
        dock.raise_()

    def show_record(self, seq: int) -> None:
        """A trace record (a script result's) selected in the trace panel, which is brought up."""
        self.trace.poll()
        if self.trace.select_seq(seq):
            self.docks["trace"].raise_()
        else:
            self.statusBar().showMessage(f"Trace record {seq} is hidden by the trace's filter", 8000)

    def _add_dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{key}")  # saveState needs stable names
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_trace = QAction("&Open trace…", self)
        open_trace.setShortcut(QKeySequence.StandardKey.Open)
        open_trace.triggered.connect(self._choose_trace)
        file_menu.addAction(open_trace)
        self.keep_secrets_action = QAction("&Keep PINs and personal data in session journals", self)
        self.keep_secrets_action.setCheckable(True)
        self.keep_secrets_action.setChecked(self.journal_keeps_secrets)
        self.keep_secrets_action.setToolTip("From the next session on. Off (the default), a session journal "
                                            "masks PINs, keys, cryptograms and personal data as exports do")
        self.keep_secrets_action.toggled.connect(self._set_journal_keeps_secrets)
        file_menu.addAction(self.keep_secrets_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.virtual = VirtualReaderMenu(self.embedded, self.readers.selected_reader, self)
        self.virtual.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.virtual.inserted.connect(self._virtual_card_inserted)
        self.menuBar().addMenu(self.virtual)
        script_menu = self.menuBar().addMenu("&Script")
        for action in self.script.menu_actions():
            if action is None:
                script_menu.addSeparator()
            else:
                script_menu.addAction(action)
        analysis_menu = self.menuBar().addMenu("&Analysis")
        for action in self.analysis.menu_actions():
            if action is None:
                analysis_menu.addSeparator()
            else:
                analysis_menu.addAction(action)
        self.analysis.analyze_action.triggered.connect(self._show_analysis)
        view = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        reset = QAction("&Reset layout", self)
        reset.triggered.connect(lambda: self.restoreState(self._default_state, _SETTINGS_VERSION))
        view.addAction(reset)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Card Explorer", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    @property
    def journal_keeps_secrets(self) -> bool:
        """Whether session journals keep PINs, keys and unwrapped personal data in clear (a setting,
        off by default: secrets are masked at rest). The journal of a running session keeps the
        choice it was started with."""
        return bool(self._settings.value(JOURNAL_SECRETS_KEY, False, bool))

    def _set_journal_keeps_secrets(self, keep: bool) -> None:
        self._settings.setValue(JOURNAL_SECRETS_KEY, keep)
        self.statusBar().showMessage(f"Session journals {'keep' if keep else 'mask'} PINs and personal data "
                                     "from the next start on", 10000)

    def show_about(self) -> QDialog:
        """Versions, the log file and the journal directory; the dialog is imported when asked for."""
        from explorer.ui.about import AboutDialog

        dialog = AboutDialog(self)
        dialog.open()
        return dialog

    def on_event(self, event: MonitorEvent) -> None:
        self.bench.record(event)
        # The console first: it notes a session of its own that this event ends, while the
        # connection still says connected; its own follow-up runs later, on the loop.
        self.console.on_monitor_event(event)
        # Then the sessions the event ends are recorded as lost, right after their cause in the
        # trace and before the next event, and a removed reader's connection closes.
        self.bench.observe(event)
        self.readers.apply(event)
        self.atr.on_monitor_event(event)
        # After the tree: a run on every card asks it which readers hold a card.
        self.script.on_monitor_event(event)
        self.analysis.on_monitor_event(event)
        if isinstance(event, CardInserted) and event.reader in self._select_when_in:
            self._select_when_in.discard(event.reader)
            self.readers.select_card(event.reader)
        if isinstance(event, ServiceLost):
            # Never up since start: nothing was lost, the service is just not there yet.
            lost = "lost" if self._service_seen else "not running"
            self.service_label.setText(f"PC/SC service {lost}; waiting for it… ({event.reason})"
                                       " — the virtual readers work meanwhile")
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
        self.script.shutdown()  # a paused script would hold its reader's worker forever
        self.analysis.shutdown()  # a running analysis stops at its next command
        self.manager.close_all(timeout=1.0)
        self.trace.stop()
        self.atr.stop()
        self.store.close()
        self.trace_opener.close_all()
        super().closeEvent(event)

    # -- the trace ---------------------------------------------------------------

    def _emit_journal_stopped(self, error: OSError) -> None:
        """Any thread, the store's lock held: only hands the news to the GUI thread."""
        self.journal_stopped.emit(error.strerror or str(error))

    def _show_journal_problem(self, text: str) -> None:
        self.journal_label.setText(text)
        self.journal_label.setToolTip(text)
        self.journal_label.setVisible(True)

    def _journal_stopped(self, reason: str) -> None:
        journal = self.store.journal
        path = str(journal.path) if journal is not None else "the journal"
        self._show_journal_problem(f"Journal stopped: {reason} — the trace is in memory only")
        if self.journal_dialog is not None:
            return
        from PySide6.QtWidgets import QMessageBox  # dialogs are imported when opened

        box = QMessageBox(QMessageBox.Icon.Warning, "Journal stopped",
                          f"The session journal could not be written: {reason}.\n\n{path}\n\n"
                          "Nothing more is written to it this session (it keeps what came before). "
                          "The trace goes on here in memory: to keep it, make room and use Export in "
                          "the trace panel.",
                          QMessageBox.StandardButton.Ok, self)
        # open(), not exec(): a message must not stop the window's event loop.
        box.open()
        self.journal_dialog = box

    def _choose_trace(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # dialogs are imported when opened

        path, _ = QFileDialog.getOpenFileName(self, "Open a trace", str(trace_dir()),
                                              "Traces (*.jsonl);;All files (*)")
        if path:
            self.open_trace(path)

    def open_trace(self, path: str) -> None:
        """Read a journal or JSON Lines export on a thread, then browse it in its own window."""
        self.trace_opener.open(path)

    @property
    def trace_windows(self) -> list[TraceWindow]:
        """The opened traces' windows still open."""
        return self.trace_opener.windows
