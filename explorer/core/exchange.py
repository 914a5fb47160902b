"""Exchanges with a card and the transmit pipeline (61xx GET RESPONSE, 6Cxx re-send).

An `Exchange` is one C-APDU and its R-APDU as they crossed the wire: the
pipeline never merges steps, so the trace shows what really happened. The
pipeline is pure logic over a `transmit` callable; the connection that
provides it does the I/O and the timing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from explorer.core.apdu import ApduError, get_response, parse_apdu
from explorer.core.card_errors import CardError, StepLimit
from explorer.core.link_modes import Protocol, ShareMode


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

    @property
    def automatic(self) -> bool:
        return self in (Origin.GET_RESPONSE, Origin.RESEND)


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


def run_pipeline(command: bytes, transmit: Transmit, origin: Origin = Origin.API,
                 options: TransmitOptions = TransmitOptions()) -> Reply:
    """Send `command`, then follow 6Cxx and 61xx as `options` allow.

    `transmit` sends one APDU and returns its Exchange or raises CardError; on
    a failure the CardError carries every exchange made so far (`.exchanges`).
    """
    first = transmit(command, origin)  # a CardError carries its exchange: there is none before it
    response = first.response
    if first.error is None and len(response) >= 2 and response[-2] != 0x61 and response[-2] != 0x6C:
        # Nearly every answer: nothing to follow.
        return Reply((first,), response[:-2], response[-2] << 8 | response[-1])
    done: list[Exchange] = [first]
    data = bytearray()

    def step(apdu: bytes, why: Origin) -> Exchange:
        try:
            exchange = transmit(apdu, why)
        except CardError as exc:
            exc.exchanges = (*done, *exc.exchanges)
            raise
        done.append(exchange)
        return exchange

    current = first
    resent = False
    while True:
        sw = current.sw
        if sw is None:
            # A response without a status word: nothing to follow, report it as it came.
            return Reply(tuple(done), bytes(data) + current.response, 0)
        sw1, sw2 = sw >> 8, sw & 0xFF
        if sw1 == 0x6C and options.auto_resend and not resent:
            following = _with_le(current.command, sw2 or 256)
            if following is None:
                break
            why = Origin.RESEND
        elif sw1 == 0x61 and options.auto_get_response:
            following = get_response(command[0] if command else 0, sw2 or 256)
            why = Origin.GET_RESPONSE
        else:
            break
        if len(done) > options.max_steps:
            raise _step_limit(done, data, current)
        if why is Origin.RESEND:
            # The first answer carried no data worth keeping: the re-send is the answer.
            resent = True
        else:
            data += current.data
            # A GET RESPONSE may itself be told 6Cxx: allow one re-send per step.
            resent = False
        current = step(following, why)
    data += current.data
    return Reply(tuple(done), bytes(data), current.sw or 0)


def _step_limit(done: list[Exchange], data: bytearray, last: Exchange) -> StepLimit:
    steps = len(done) - 1
    asked = sum(1 for e in done if e.origin is Origin.GET_RESPONSE)
    what = (f"{steps} GET RESPONSE exchanges" if asked == steps else
            f"{steps} automatic exchanges ({asked} GET RESPONSE, {steps - asked} re-sent with the right Le)")
    sw = last.sw or 0
    wants = "more data" if sw >> 8 == 0x61 else "wrong Le"
    sentence = (f"stopped after {what} and the card still answers {sw >> 8:02X} {sw & 0xFF:02X} ({wants}): "
                "the response is incomplete")
    error = StepLimit(last.reader, sentence=sentence, reply=Reply(tuple(done), bytes(data) + last.data, sw))
    error.exchanges = tuple(done)
    return error


def _with_le(command: bytes, le: int) -> bytes | None:
    try:
        return parse_apdu(command).with_le(le).to_bytes()
    except ApduError:
        return None


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
