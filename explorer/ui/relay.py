"""Results from worker threads to the GUI thread, without a worker ever holding a Qt object.

A thread that keeps the last reference to a Qt object (a panel, a QObject that emits for it)
destroys it on that thread when the reference goes, at the latest when the thread ends, while
the GUI thread may be using it: the suite crashed that way, rarely, in Qt's event processing.
So a worker here holds only weak references to its callback and emits on one relay object that
lives, on the GUI thread, as long as the app; the callback is looked up there, on the GUI thread,
and skipped when its owner is gone.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal


class _Relay(QObject):
    parcel = Signal(object)  # (weak callback, value)

    def __init__(self) -> None:
        super().__init__()
        self.parcel.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def _deliver(self, parcel: tuple[Callable[[], Callable[[Any], None] | None], Any]) -> None:
        target, value = parcel
        callback = target()
        if callback is None:
            return
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, QObject) and not shiboken6.isValid(owner):
            return  # its widget was deleted meanwhile
        callback(value)


_relay: _Relay | None = None


def weak_callback(callback: Callable[[Any], None]) -> Callable[[], Callable[[Any], None] | None]:
    """GUI thread: what a worker may hold of `callback` (a bound method only weakly)."""
    global _relay
    if _relay is None:
        _relay = _Relay()  # made on the GUI thread, kept for the app's life
    if hasattr(callback, "__self__"):
        return weakref.WeakMethod(callback)  # type: ignore[arg-type]
    return lambda: callback


def post(target: Callable[[], Callable[[Any], None] | None], value: Any) -> None:
    """Any thread: call `target`'s callback with `value` on the GUI thread (if it still exists)."""
    assert _relay is not None, "weak_callback() makes the relay on the GUI thread first"
    _relay.parcel.emit((target, value))
