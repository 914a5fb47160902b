"""The Virtual menu: embedded readers and the cards put in them.

GUI thread only. Profiles and traces are read on a short-lived thread; the
card goes into its reader when it is ready, through the embedded readers'
hub, whose events reach every panel like a real reader's.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from explorer.core.printable import printable
from explorer.trace.journal import trace_dir
from explorer.virtual.card_sources import CardSource, CardSourceError, LoadedCard, SourceKind, load_card
from explorer.virtual.embedded import EmbeddedReaders
from explorer.virtual.replay import ReplayMode


class VirtualReaderMenu(QMenu):
    """Add/remove embedded readers; insert a demo, profile or replayed card; remove it.

    Acts on the selected reader when it is an embedded one, else on the first
    embedded reader, adding one when there is none.
    """

    #: (reader, label) once a card is in
    inserted = Signal(str, str)
    #: a message for the status bar
    message = Signal(str)
    _loaded = Signal(str, object, str)  # reader, LoadedCard or None, error

    def __init__(self, hub: EmbeddedReaders, selected: Callable[[], str | None], parent: QWidget) -> None:
        super().__init__("&Virtual", parent)
        self.hub = hub
        self._selected = selected
        self._loaded.connect(self._insert_loaded, Qt.ConnectionType.QueuedConnection)
        self._actions: dict[str, QAction] = {}
        self._add("add", "&Add virtual reader", self.add_reader)
        self._add("remove_reader", "Remove virtual &reader", self.remove_reader)
        self.addSeparator()
        self._add("demo", "Insert &demo card", lambda: self.insert(CardSource(SourceKind.DEMO)))
        self._add("profile", "Insert card from &profile…", self._choose_profile)
        self._add("trace_order", "Insert &replay of a trace (in order)…",
                  lambda: self._choose_trace(ReplayMode.ORDER))
        self._add("trace_match", "Insert replay of a trace (by &command)…",
                  lambda: self._choose_trace(ReplayMode.MATCH))
        self._add("eject", "R&emove card", self.eject)
        self.aboutToShow.connect(self._update)

    def _add(self, key: str, text: str, slot: Callable[[], object]) -> None:
        action = QAction(text, self)
        action.triggered.connect(lambda: slot())
        self.addAction(action)
        self._actions[key] = action

    def action(self, key: str) -> QAction:
        return self._actions[key]

    def _update(self) -> None:
        reader = self.target()
        self._actions["remove_reader"].setEnabled(reader is not None)
        self._actions["eject"].setEnabled(reader is not None and self.hub.card_label(reader) is not None)

    # -- what to act on -------------------------------------------------------------

    def target(self) -> str | None:
        """The selected embedded reader, else the first one, else None."""
        selected = self._selected()
        readers = self.hub.readers()
        if selected in readers:
            return selected
        return readers[0] if readers else None

    # -- actions --------------------------------------------------------------------

    def add_reader(self) -> str:
        reader = self.hub.add_reader()
        self.message.emit(f"{reader} added")
        return reader

    def remove_reader(self) -> None:
        reader = self.target()
        if reader is not None:
            self.hub.remove_reader(reader)
            self.message.emit(f"{reader} removed")

    def eject(self) -> None:
        reader = self.target()
        if reader is not None and self.hub.eject(reader):
            self.message.emit(f"Card removed from {reader}")

    def insert(self, source: CardSource, reader: str | None = None) -> str:
        """Load the card on a thread, then put it in `reader` (default: the target). Returns the reader."""
        reader = reader or self.target() or self.add_reader()
        what = printable(source.path) or source.kind.value
        self.message.emit(f"Loading {what}…")

        def run() -> None:
            loaded: LoadedCard | None = None
            error = ""
            unexpected: Exception | None = None
            try:
                loaded = load_card(source)
            except CardSourceError as exc:  # the file's fault: its message says what and where
                error = str(exc)
            except Exception as exc:  # a bug: "Loading…" must still end, and the bug be reported
                error = f"{what}: unexpected error ({type(exc).__name__}: {printable(str(exc))[:200]})"
                unexpected = exc
            with contextlib.suppress(RuntimeError):  # the window closed meanwhile
                self._loaded.emit(reader, loaded, error)
            if unexpected is not None:
                # To threading.excepthook: the app's crash reporter logs it with its traceback and
                # offers the report (the terminal gets one line, no traceback).
                raise unexpected

        threading.Thread(target=run, name="virtual-card-load", daemon=True).start()
        return reader

    def _insert_loaded(self, reader: str, loaded: LoadedCard | None, error: str) -> None:
        if loaded is None:
            self.message.emit(f"No card inserted: {error}")
            # open(), not exec(): a message must not stop the window's event loop.
            from PySide6.QtWidgets import QMessageBox  # dialogs are imported when opened

            box = QMessageBox(QMessageBox.Icon.Warning, "Insert card", f"No card inserted:\n{error}",
                              QMessageBox.StandardButton.Ok, self.parentWidget())
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return
        if reader not in self.hub.readers():
            self.message.emit(f"No card inserted: {reader} was removed meanwhile")
            return
        self.hub.insert(reader, loaded.card, loaded.label)
        note = f" ({loaded.note})" if loaded.note else ""
        self.message.emit(f"{loaded.label} inserted in {reader}{note}")
        self.inserted.emit(reader, loaded.label)

    def _choose_profile(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from explorer.virtual.profile import demo_profile_path

        path, _ = QFileDialog.getOpenFileName(self.parentWidget(), "Insert a card profile",
                                              str(demo_profile_path().parent),
                                              "Card profiles (*.json);;All files (*)")
        if path:
            self.insert(CardSource(SourceKind.PROFILE, path))

    def _choose_trace(self, mode: ReplayMode) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self.parentWidget(), "Replay a trace as a card",
                                              str(trace_dir()), "Traces (*.jsonl);;All files (*)")
        if path:
            self.insert(CardSource(SourceKind.TRACE, path, mode))
