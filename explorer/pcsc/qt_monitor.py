"""The reader monitor as Qt signals, for the GUI.

Thread rules: the monitor thread only emits `_posted`, which is connected to
`_dispatch` with a queued connection, so every public signal is emitted on the
thread that owns this object (the GUI thread). Receivers never run on the
monitor thread, whatever kind of callable they are.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot

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
from explorer.pcsc.monitor import ReaderMonitor


class MonitorBridge(QObject):
    """Each signal carries one frozen event dataclass; `monitor_event` carries all of them.

    (Not named `event`: that would shadow QObject.event, through which Qt
    delivers queued calls.)
    """

    monitor_event = Signal(object)
    reader_added = Signal(object)
    reader_removed = Signal(object)
    card_inserted = Signal(object)
    card_removed = Signal(object)
    reader_state_changed = Signal(object)
    service_lost = Signal(object)
    service_restored = Signal(object)

    _posted = Signal(object)

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
        self._monitor = ReaderMonitor(self._posted.emit)

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

    @Slot(object)
    def _dispatch(self, event: MonitorEvent) -> None:
        self._by_type[type(event)].emit(event)
        self.monitor_event.emit(event)
