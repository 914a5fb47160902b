"""A future that both worlds can wait on: `await` it on an asyncio (qasync) loop,
or call `.result(timeout)` from plain code such as the CLI and scripts."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Generator
from typing import Any, TypeVar

T = TypeVar("T")


class CardFuture(concurrent.futures.Future[T]):
    """Completed on a worker thread; awaiting it never blocks the event loop.

    Cancelling the awaiting task stops the wait only: a PC/SC call in flight
    cannot be interrupted and finishes on its worker, where its result is
    still recorded.
    """

    def __await__(self) -> Generator[Any, None, T]:
        import asyncio  # on first await: the CLI and a window not yet at work never load it

        return asyncio.wrap_future(self).__await__()

    @classmethod
    def failed(cls, error: BaseException) -> CardFuture[Any]:
        future: CardFuture[Any] = cls()
        future.set_exception(error)
        return future
