"""The asyncio loop the window awaits card work on (qasync), made when card work first needs it.

Importing asyncio and qasync costs about as much as building the whole window,
and nothing is awaited before the tester connects to a card. So the app runs
Qt's own loop (`QApplication.exec`), and the first `start` joins a qasync loop
to it (`already_running=True`, qasync's way onto a Qt loop that already runs).
Where no loop is made on demand (tests and scripts set their own with
`asyncio.set_event_loop`), `start` schedules on the loop that is set.

GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

    from PySide6.QtWidgets import QApplication

T = TypeVar("T")
ExceptionHandler = Callable[["asyncio.AbstractEventLoop", dict[str, Any]], object]


class _OnDemand:
    def __init__(self, app: QApplication, exception_handler: ExceptionHandler | None) -> None:
        self.app = app
        self.exception_handler = exception_handler
        self.loop: asyncio.AbstractEventLoop | None = None

    def make(self) -> None:
        import asyncio

        import qasync

        loop = qasync.QEventLoop(self.app, already_running=True)
        if self.exception_handler is not None:
            loop.set_exception_handler(self.exception_handler)
        asyncio.set_event_loop(loop)
        self.loop = loop


_on_demand: _OnDemand | None = None


def on_demand(app: QApplication, exception_handler: ExceptionHandler | None = None) -> None:
    """The app's loop is made by the first `start`, on `app`'s running Qt loop."""
    global _on_demand
    _on_demand = _OnDemand(app, exception_handler)


def start(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Schedule `coro` on the GUI's asyncio loop (made now if it is the first)."""
    import asyncio

    if _on_demand is not None and _on_demand.loop is None:
        _on_demand.make()
    return asyncio.ensure_future(coro)


def close() -> None:
    """Once Qt's loop has returned: stop and close the loop if one was made (qasync's stop()
    also tells Qt's loop to exit, which is why it waits until that loop is over)."""
    global _on_demand
    made, _on_demand = _on_demand, None
    if made is None or made.loop is None:
        return
    import asyncio

    made.loop.stop()
    made.loop.close()
    asyncio.events._set_running_loop(None)  # qasync set it when it joined Qt's loop
    asyncio.set_event_loop(None)
