"""The app's asyncio loop is made on first use, on Qt's running loop (explorer.ui.aio)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from explorer.link.futures import CardFuture
from explorer.ui import aio


def test_first_start_joins_qt_loop_and_awaits_card_futures(qapp: Any, qtbot: QtBot) -> None:
    reported: list[object] = []
    aio.on_demand(qapp, lambda loop, context: reported.append(context.get("exception")))
    results: list[int] = []

    async def card_work() -> None:
        await asyncio.sleep(0.01)
        future: CardFuture[int] = CardFuture()
        threading.Timer(0.01, future.set_result, (7,)).start()  # completed on another thread
        results.append(await future)

    async def fails() -> None:
        raise RuntimeError("nobody awaits this")

    try:
        # Started from a slot while Qt's loop runs, as a button would.
        QTimer.singleShot(0, lambda: aio.start(card_work()))
        qtbot.waitUntil(lambda: results == [7], timeout=5000)
        loop = asyncio.get_event_loop()
        assert loop.is_running()
        task = aio.start(fails())
        qtbot.waitUntil(task.done, timeout=5000)
        del task  # never retrieved: the loop reports it to the handler when the task goes
        qtbot.waitUntil(lambda: bool(reported), timeout=5000)
        assert isinstance(reported[0], RuntimeError)
    finally:
        aio.close()
        # qasync's stop() ends Qt's loop (app.exit), harmless in the app where Qt's loop has
        # already returned; here it would make every later nested loop return at once, and
        # one exec() of the application clears that.
        QTimer.singleShot(0, qapp.quit)
        qapp.exec()
    assert loop.is_closed()


def test_without_on_demand_start_uses_the_loop_that_is_set(qapp: Any) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        async def answer() -> int:
            return 42

        task = aio.start(answer())
        assert loop.run_until_complete(task) == 42
    finally:
        loop.close()
        asyncio.set_event_loop(None)
