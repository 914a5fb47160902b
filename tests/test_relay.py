"""Background work never holds the widget that waits for it: a worker thread that held the last
reference deleted the widget on that thread when it ended (a rare crash of the whole suite)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from explorer.ui.background import Background


class Owner(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[object] = []
        self.background = Background(self)

    def done(self, value: object) -> None:
        self.results.append(value)

    def failed(self, error: BaseException) -> None:
        self.results.append(error)


def test_the_outcome_reaches_its_owner_on_the_gui_thread(qtbot: QtBot) -> None:
    owner = Owner()
    seen: list[bool] = []
    main = threading.current_thread()
    owner.done = lambda value: seen.append(threading.current_thread() is main)  # type: ignore[method-assign]
    owner.background.run("t", lambda: 42, owner.done, owner.failed).join(5)
    qtbot.waitUntil(lambda: seen == [True], timeout=5000)
    boom = owner.background.run("t", lambda: 1 // 0, owner.done, owner.failed)
    boom.join(5)
    qtbot.waitUntil(lambda: any(isinstance(r, ZeroDivisionError) for r in owner.results), timeout=5000)


def test_a_worker_never_keeps_its_owner_alive(qtbot: QtBot) -> None:
    release = threading.Event()
    owner = Owner()
    thread = owner.background.run("t", lambda: release.wait(10), owner.done, owner.failed)
    gone = weakref.ref(owner)
    del owner
    gc.collect()
    assert gone() is None  # deleted here, on the GUI thread, while the work still runs
    release.set()
    thread.join(5)
    qtbot.wait(10)  # the late outcome finds no owner and is dropped
    assert not thread.is_alive()
