"""Work that may take long (a file that may be large, a search over a million
records) on a short-lived thread, its outcome handed back on the GUI thread.

One helper instead of a hand-rolled thread per panel. The work gets no Qt
object and touches none: it returns plain data, or raises. `done` or
`failed` then runs on the GUI thread through a queued signal; if the owner
has been deleted meanwhile, the outcome is dropped.

Python work on a thread still holds the GIL, and the GUI thread takes it for
every call into Python (each timer, each cell a paint asks for): left to the
interpreter's switch interval, each of those waits up to 5 ms, and a search
over a million records made the event loop miss ticks of 20-30 ms. So long
work calls `pause()` every millisecond or two, which hands the GIL over at
once when the GUI thread wants it.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from PySide6.QtCore import QObject

from explorer.ui.relay import post, weak_callback

T = TypeVar("T")


_held = 0
_held_lock = threading.Lock()
_we_disabled = False


@contextlib.contextmanager
def collector_held() -> Iterator[None]:
    """No cyclic garbage collection while work over a large trace runs (any thread).

    A full collection traverses every record a store holds (a million tuples: tens of
    milliseconds with the GIL held) and runs on whichever thread happens to allocate: the
    window stalled 57 ms in a search. Cycles made meanwhile are collected after the last such
    work ends; reference counting frees everything else as usual."""
    global _held, _we_disabled
    with _held_lock:
        _held += 1
        if _held == 1 and gc.isenabled():
            gc.disable()
            _we_disabled = True
    try:
        yield
    finally:
        with _held_lock:
            _held -= 1
            if _held == 0 and _we_disabled:
                _we_disabled = False
                gc.enable()


def pause() -> None:
    """Give the GIL to a thread waiting for it (the GUI thread), if there is one."""
    time.sleep(0)


class Background(QObject):
    """Work on a daemon thread, its outcome delivered on the GUI thread. The callbacks stay on the
    GUI thread (kept here by job number): the worker holds only a weak reference to this object,
    so it never holds the last reference to a widget and never deletes one off the GUI thread
    (explorer/ui/relay.py)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: dict[int, tuple[Callable[[Any], None], Callable[[BaseException], None]]] = {}
        self._jobs = itertools.count()

    def run(self, name: str, work: Callable[[], T], done: Callable[[T], None],
            failed: Callable[[BaseException], None], *, large: bool = False) -> threading.Thread:
        """Start `work` on a daemon thread named `name`; returns the thread. `large`: work over
        a whole trace, run with the garbage collector held (collector_held)."""
        job = next(self._jobs)
        self._pending[job] = (done, failed)
        target = weak_callback(self._deliver)

        def main() -> None:
            ok = True
            try:
                with collector_held() if large else contextlib.nullcontext():
                    value: Any = work()
            except Exception as e:  # handed to `failed`, which decides what the user sees
                value, ok = e, False
            post(target, (job, ok, value))

        thread = threading.Thread(target=main, name=name, daemon=True)
        thread.start()
        return thread

    def _deliver(self, parcel: tuple[int, bool, Any]) -> None:
        job, ok, value = parcel
        done, failed = self._pending.pop(job)
        if ok:
            done(value)
        else:
            failed(value)
