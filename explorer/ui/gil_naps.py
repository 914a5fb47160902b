"""Short naps for a job on an in-process virtual card, so the window keeps its turns.

An in-process virtual card is Python too: its worker never waits on a reader, so it holds the
GIL but for the interpreter's forced switches, and every call the GUI thread makes into Python
(a timer, a cell painted) waits up to 5 ms for it; the window got one event-loop turn in
50-70 ms. Napping 0.5 ms every 2 ms of work gives the GUI thread GIL-free moments (median
turn 11-23 ms, 10-15% fewer commands a second). A real reader releases the GIL in every
transmit: no nap there. Worker thread only.
"""

from __future__ import annotations

import time

_RUN_FOR = 0.002
_NAP = 0.0005


class GilNaps:
    def __init__(self, on: bool) -> None:
        self.on = on
        self._awake_since = time.perf_counter()

    def __call__(self) -> None:
        """After each command: a nap if this job has had the GIL for a while."""
        if self.on:
            now = time.perf_counter()
            if now - self._awake_since > _RUN_FOR:
                time.sleep(_NAP)
                self._awake_since = time.perf_counter()
