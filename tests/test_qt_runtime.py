"""The Qt binding must not corrupt reference counts on the hot path.

PySide6 6.12.0 gives up a reference to True on every Signal.emit; on
Python 3.11, where bools are not immortal, a long monitoring session then
aborts the interpreter ("bool_dealloc"). This keeps that version out.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    sig = Signal(object)


def test_signal_emit_keeps_refcounts(qapp: object) -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.sig.connect(received.append)
    before = (sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None))
    for i in range(5000):
        emitter.sig.emit(i)
    after = (sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None))
    assert len(received) == 5000
    # Allow a little noise from the interpreter itself, not one per emit.
    assert all(abs(a - b) < 50 for a, b in zip(after, before, strict=True)), (before, after)
