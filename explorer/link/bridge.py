"""Reader events as Qt signals, for the GUI, from any number of backends.

Thread rules: `post` may be called from any thread (the PC/SC monitor thread,
a virtual reader's caller, a connection worker); it only emits `_posted`,
which is connected to `_dispatch` with a queued connection, so every public
signal is emitted on the thread that owns this object (the GUI thread), in
the order posted. Receivers never run on a backend thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot

from explorer.core import card_errors as ce
from explorer.core.reader_events import (
    CardInserted,
    CardRemoved,
    MonitorEvent,
    ReaderAdded,
    ReaderRemoved,
    ReaderStateChanged,
    ServiceLost,
    ServiceRestored,
)
from explorer.link.connection import Link


class EventBridge(QObject):
    """Each signal carries one frozen event dataclass; `monitor_event` carries all of them.

    The base bridge has no PC/SC behind it: only what is posted (the embedded
    virtual reader) reaches the window. explorer.pcsc's MonitorBridge adds the
    PC/SC monitor and PC/SC links.

    (`monitor_event`, not `event`: that would shadow QObject.event, through
    which Qt delivers queued calls.)
    """

    monitor_event = Signal(object)
    reader_added = Signal(object)
    reader_removed = Signal(object)
    card_inserted = Signal(object)
    card_removed = Signal(object)
    reader_state_changed = Signal(object)
    service_lost = Signal(object)
    service_restored = Signal(object)

    #: What a first look at PC/SC found: the number of readers, -1 for no PC/SC service.
    pcsc_probed = Signal(int)

    _posted = Signal(object)
    _probe_done = Signal(int)

    #: Why PC/SC is not there, for the status bar; empty when it is.
    pcsc_missing = "PC/SC support could not be loaded"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._by_type = {
            ReaderAdded: self.reader_added,
            ReaderRemoved: self.reader_removed,
            CardInserted: self.card_inserted,
            CardRemoved: self.card_removed,
            ReaderStateChanged: self.reader_state_changed,
            ServiceLost: self.service_lost,
            ServiceRestored: self.service_restored,
        }
        self._posted.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._probe_done.connect(self.pcsc_probed, Qt.ConnectionType.QueuedConnection)

    def post(self, event: MonitorEvent) -> None:
        """Any thread: deliver `event` on the GUI thread."""
        self._posted.emit(event)

    @property
    def running(self) -> bool:
        return False

    def start(self) -> None:
        """Start watching the backend's readers (nothing to watch here)."""

    def refresh(self) -> None:
        """Re-read reader states after a connection changed them. Not from the GUI thread."""

    def stop(self, timeout: float = 2.0) -> bool:
        return True

    def probe(self) -> None:
        """Look once at PC/SC without blocking the caller; `pcsc_probed` gives the answer."""
        self._probe_done.emit(-1)

    def open_link(self, reader: str) -> Link:
        """The backend of a reader this bridge reports (called by the connection manager)."""
        raise ce.UnknownReader(reader, sentence=f"no PC/SC here ({self.pcsc_missing})")

    @Slot(object)
    def _dispatch(self, event: MonitorEvent) -> None:
        self._by_type[type(event)].emit(event)
        self.monitor_event.emit(event)
