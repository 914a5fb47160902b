"""A card that replays a trace: each command gets the response that was
recorded for it, so a colleague's session can be explored offline.

Two ways to follow the trace. `ORDER` expects the commands in the order they
were recorded and answers the next recorded response; a command out of turn
is looked up as in `MATCH`. `MATCH` answers by command: the responses
recorded for that exact command, in turn, the last one repeated. A command
the trace never saw gets 6F 00, and the card keeps the list (`unknown`) so a
tester can see what was asked that the trace cannot answer.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable

from explorer.trace.records import Kind, TraceRecord, inserted_atr
from explorer.virtual.card import DEFAULT_ATR

NOT_IN_TRACE = b"\x6f\x00"


class ReplayMode(enum.Enum):
    ORDER = "order"
    MATCH = "match"


def trace_atr(records: Iterable[TraceRecord]) -> bytes:
    """The ATR of the first card the trace saw inserted (the default one if none)."""
    for r in records:
        atr = inserted_atr(r)
        if 2 <= len(atr) <= 33:
            return atr
    return DEFAULT_ATR


class ReplayCard:
    """A card handler (bytes -> bytes) over the exchanges of a trace.

    Thread rules: called from the transport's serving thread; `unknown` may be
    read from any thread.
    """

    def __init__(self, records: Iterable[TraceRecord], mode: ReplayMode = ReplayMode.ORDER,
                 reader: str | None = None) -> None:
        records = list(records)
        kept = [r for r in records
                if r.kind is Kind.EXCHANGE and not r.unwrapped and r.error is None and len(r.response) >= 2
                and (reader is None or r.reader == reader)]
        self.atr = trace_atr(records)
        self.mode = mode
        self._sequence = [(r.command, r.response) for r in kept]
        self._answers: dict[bytes, list[bytes]] = {}
        for command, response in self._sequence:
            self._answers.setdefault(command, []).append(response)
        self._lock = threading.Lock()
        self._unknown: list[bytes] = []
        self.reset()

    @property
    def exchanges(self) -> int:
        """How many answered commands the trace gave."""
        return len(self._sequence)

    @property
    def unknown(self) -> list[bytes]:
        with self._lock:
            return list(self._unknown)

    def reset(self) -> None:
        with self._lock:
            self._next = 0
            self._used = {command: 0 for command in self._answers}

    def __call__(self, apdu: bytes) -> bytes:
        with self._lock:
            if self.mode is ReplayMode.ORDER and self._next < len(self._sequence):
                command, response = self._sequence[self._next]
                if command == apdu:
                    self._next += 1
                    # Counted for MATCH too, so a later out-of-turn repeat goes on from here.
                    self._used[apdu] += 1
                    return response
            answers = self._answers.get(apdu)
            if answers is None:
                self._unknown.append(apdu)
                return NOT_IN_TRACE
            used = self._used[apdu]
            self._used[apdu] = used + 1
            return answers[min(used, len(answers) - 1)]
