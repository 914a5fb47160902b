"""Exchanges with a card: the records of what crossed the wire, and what a command gave.

An `Exchange` is one C-APDU and its R-APDU as they crossed the wire: the
pipeline (61xx GET RESPONSE, 6Cxx re-send: explorer.core.processors) never
merges steps, so the trace shows what really happened. The pipeline is pure
logic over a `transmit` callable; the connection that provides it does the I/O
and the timing. `run_pipeline` is still importable from here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from explorer.core.link_modes import Protocol, ShareMode

if TYPE_CHECKING:
    from explorer.core.processors import run_pipeline as run_pipeline


class Origin(enum.Enum):
    """Why an exchange happened."""

    CONSOLE = "console"
    SCRIPT = "script"
    ANALYZER = "analyzer"  # a card analyzer reading what a card holds (explorer.apps)
    CLI = "cli"
    API = "api"
    GET_RESPONSE = "get response"  # sent automatically on 61xx
    RESEND = "6Cxx re-send"  # sent automatically on 6Cxx
    CONTROL = "control"
    # Not on the wire: the plain command and answer a secure-messaging exchange carried,
    # recorded under the protected exchange once its answer was unwrapped.
    UNWRAPPED = "unwrapped (secure messaging)"

    @property
    def automatic(self) -> bool:
        return self in (Origin.GET_RESPONSE, Origin.RESEND)

    @property
    def on_wire(self) -> bool:
        """Whether these bytes crossed the wire (everything but an unwrapped record)."""
        return self is not Origin.UNWRAPPED


@dataclass(frozen=True)
class Exchange:
    """One command and its answer, or the error that took its place.

    `started` is wall-clock (epoch seconds, microsecond resolution) for the
    trace; `duration` comes from a monotonic clock.
    """

    reader: str
    command: bytes
    response: bytes
    started: float
    duration: float
    origin: Origin = Origin.API
    protocol: Protocol | None = None
    share: ShareMode | None = None
    error: str | None = None
    #: What the trace says about the exchange beyond its bytes (SENT_AS_IS), else "".
    note: str = ""

    @property
    def sw(self) -> int | None:
        if self.error is not None or len(self.response) < 2:
            return None
        return self.response[-2] << 8 | self.response[-1]

    @property
    def data(self) -> bytes:
        return self.response[:-2] if self.sw is not None else b""


@dataclass(frozen=True)
class Reply:
    """What a command gave, after the automatic steps: the joined data and final SW."""

    exchanges: tuple[Exchange, ...]
    data: bytes
    sw: int

    @property
    def automatic_steps(self) -> int:
        return sum(1 for e in self.exchanges if e.origin.automatic)


@dataclass(frozen=True)
class TransmitOptions:
    auto_get_response: bool = True
    auto_resend: bool = True
    #: Automatic steps (GET RESPONSE, re-send) one command may take: a card that answers 61xx
    #: forever must not hold the reader forever. Reaching it raises StepLimit.
    max_steps: int = 1024


Transmit = Callable[[bytes, Origin], Exchange]

#: The note of a command sent deliberately without the APDU check (negative tests).
SENT_AS_IS = "sent as is, without the APDU check"


def __getattr__(name: str) -> object:
    # run_pipeline now lives with the processors, which import this module's records:
    # resolved on first use so that neither module needs the other half-built.
    if name == "run_pipeline":
        from explorer.core import processors

        return processors.run_pipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LinkEventKind(enum.Enum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECONNECTED = "reconnected"
    LOST = "connection lost"  # card removed, service gone: the connection ended without being asked
    STEPS_STOPPED = "automatic steps stopped"  # a 61xx/6Cxx chain cut at TransmitOptions.max_steps
    TRANSACTION_BEGUN = "transaction begun"
    TRANSACTION_ENDED = "transaction ended"


@dataclass(frozen=True)
class LinkEvent:
    """Something that happened to a connection, for the trace."""

    reader: str
    kind: LinkEventKind
    at: float
    protocol: Protocol | None = None
    share: ShareMode | None = None
    detail: str = ""
