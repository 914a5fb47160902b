"""The transmit pipeline as a chain of processors (61xx GET RESPONSE, 6Cxx re-send).

A command goes down the chain and its answer comes back up; each processor
wraps the next one (yubikit's `ResponseChainingProcessor` over its format
processor), and `build_chain` composes them from `TransmitOptions`:

    caller -> GetResponseProcessor -> ResendProcessor -> WireProcessor -> transmit

- `WireProcessor` sends one APDU through the transmit callable and records its
  Exchange in the command's trail: one record per wire exchange, never merged,
  so the trace shows every step as it happened.
- `ResendProcessor` answers a 6Cxx by sending the same command again with
  Le = xx, once per command it is given (a second 6Cxx is the answer).
- `GetResponseProcessor` follows 61xx with GET RESPONSE until the card stops
  asking, joining the data; each GET RESPONSE goes through the re-send below
  it, so a GET RESPONSE told 6Cxx is re-sent once too.

The trail (a list, one per command) is what the processors share: the
exchanges made so far, which the wire processor appends to. It is how every
processor sees the command's automatic-step budget (`TransmitOptions.max_steps`
counts the steps of all processors together), how a CardError half way carries
everything that crossed the wire before it, and what `send` turns into the
Reply's exchanges.

Secure messaging sits at the top, for the commands of a secure channel only:

    caller -> SecureMessagingProcessor -> GetResponseProcessor -> ...

It wraps the plain command (SM class bits, the data enciphered in a DO 87, a
MAC in a DO 8E) and sends the protected command down. Below it, GET RESPONSE
fetches the rest of a protected answer (`get_response` drops the SM class
bits) and a 6Cxx re-send corrects the protected command's Le, so the processor
gets the whole protected answer back, checks its MAC, deciphers it and returns
the plain data and status word. The trail keeps the wire exchanges with their
protected bytes; the plain command and answer are reported once unwrapped
(`Unwrapped`), so the trace records them under the protected exchange as a
record of their own whose origin says it never crossed the wire (a replay
card skips it; a folded trace row shows its plain answer). An answer that
fails its check is never returned: the processor raises SecureMessagingFailed
with the trail, and reports the plain command with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise
from typing import Protocol

from explorer.core.apdu import ApduError, get_response, parse_apdu
from explorer.core.card_errors import CardError, InvalidCommand, SecureMessagingFailed, StepLimit
from explorer.core.exchange import Exchange, Origin, Reply, Transmit, TransmitOptions

#: What a processor gives back: the data (joined, for a 61xx chain) and the final status
#: word. An answer with no status word (shorter than two bytes, or an error record) is
#: all data, with status word 0, as the pipeline always reported it.
Answer = tuple[bytes, int]


class Processor(Protocol):
    def send(self, command: bytes, origin: Origin, trail: list[Exchange]) -> Answer:
        """Send `command`, appending every wire exchange it takes to `trail` (the
        command's exchanges so far). A CardError carries the whole trail in `.exchanges`."""
        ...


class WireProcessor:
    """The end of the chain: one APDU, one exchange, recorded as it crossed the wire."""

    __slots__ = ("_transmit",)

    def __init__(self, transmit: Transmit) -> None:
        self._transmit = transmit

    def send(self, command: bytes, origin: Origin, trail: list[Exchange]) -> Answer:
        try:
            exchange = self._transmit(command, origin)
        except CardError as exc:
            if trail:  # the transmit put its own failed exchange there: what came before goes first
                exc.exchanges = (*trail, *exc.exchanges)
            raise
        trail.append(exchange)
        response = exchange.response
        if exchange.error is None and len(response) >= 2:
            return response[:-2], response[-2] << 8 | response[-1]
        return response, 0


class ResendProcessor:
    """6Cxx (wrong Le): the same command again with Le = xx (00 means 256), once. The
    first answer's data is dropped: the re-send is the answer."""

    __slots__ = ("_down", "_max_steps", "_next")

    def __init__(self, next_processor: Processor, max_steps: int) -> None:
        self._next = next_processor
        self._down = next_processor.send  # bound once: this runs for every command
        self._max_steps = max_steps

    def send(self, command: bytes, origin: Origin, trail: list[Exchange]) -> Answer:
        answer = self._down(command, origin, trail)
        sw = answer[1]
        if sw >> 8 != 0x6C:
            return answer
        following = _with_le(command, sw & 0xFF or 256)
        if following is None:  # not an APDU we can re-encode (sent as is): the 6Cxx stands
            return answer
        if len(trail) > self._max_steps:
            raise step_limit(trail)
        return self._down(following, Origin.RESEND, trail)


class GetResponseProcessor:
    """61xx (more data): GET RESPONSE with Le = xx on the command's channel until the
    card answers anything else, the pieces joined in order."""

    __slots__ = ("_down", "_max_steps", "_next")

    def __init__(self, next_processor: Processor, max_steps: int) -> None:
        self._next = next_processor
        self._down = next_processor.send  # bound once: this runs for every command
        self._max_steps = max_steps

    def send(self, command: bytes, origin: Origin, trail: list[Exchange]) -> Answer:
        answer = self._down(command, origin, trail)
        if answer[1] >> 8 != 0x61:
            return answer
        cla = command[0] if command else 0
        joined = bytearray()
        piece, sw = answer
        while sw >> 8 == 0x61:
            following = get_response(cla, sw & 0xFF or 256)
            if len(trail) > self._max_steps:
                raise step_limit(trail)
            joined += piece
            piece, sw = self._down(following, Origin.GET_RESPONSE, trail)
        joined += piece
        return bytes(joined), sw


class Channel(Protocol):
    """A secure channel's two halves (explorer.core.secure_messaging.SecureChannel). Both raise
    ValueError (SecureMessagingError is one) for what they cannot do: a command too long to
    protect, an answer that fails its MAC or misses a data object."""

    def wrap(self, command: bytes) -> bytes: ...

    def unwrap(self, response: bytes) -> bytes: ...


#: Told of each plain command once its answer is unwrapped: (command, plain answer or b"",
#: why it failed or None, wall-clock start, seconds from wrap to unwrap).
Unwrapped = Callable[[bytes, bytes, str | None, float, float], None]


class SecureMessagingProcessor:
    """A plain command protected on the way down and its answer unwrapped on the way up."""

    __slots__ = ("_channel", "_down", "_report")

    def __init__(self, channel: Channel, next_processor: Processor, report: Unwrapped) -> None:
        self._channel = channel
        self._down = next_processor.send
        self._report = report

    def send(self, command: bytes, origin: Origin, trail: list[Exchange]) -> Answer:
        started, t0 = time.time(), time.perf_counter()
        try:
            protected = self._channel.wrap(command)
        except ValueError as exc:  # nothing was sent: the command cannot go through the channel
            raise InvalidCommand(sentence=f"cannot be sent under secure messaging: {exc}") from None
        data, sw = self._down(protected, origin, trail)
        response = data + sw.to_bytes(2, "big") if trail and trail[-1].sw is not None else data
        try:
            plain = self._channel.unwrap(response)
        except ValueError as exc:
            self._report(command, b"", str(exc), started, time.perf_counter() - t0)
            error = SecureMessagingFailed(trail[-1].reader if trail else "", sentence=(
                f"secure messaging failed: {exc}; the answer is not used and the secure channel is closed"))
            error.exchanges = tuple(trail)
            raise error from None
        self._report(command, plain, None, started, time.perf_counter() - t0)
        if len(plain) < 2:
            return plain, 0
        return plain[:-2], plain[-2] << 8 | plain[-1]


def build_chain(transmit: Transmit, options: TransmitOptions = TransmitOptions()) -> Processor:
    """The processors `options` ask for, over `transmit`. Stateless: build once, send many."""
    chain: Processor = WireProcessor(transmit)
    if options.auto_resend:
        chain = ResendProcessor(chain, options.max_steps)
    if options.auto_get_response:
        chain = GetResponseProcessor(chain, options.max_steps)
    return chain


def send(chain: Processor, command: bytes, origin: Origin = Origin.API) -> Reply:
    """`command` through `chain`: the Reply holds every wire exchange it took.

    On a failure the CardError carries every exchange made so far (`.exchanges`).
    """
    trail: list[Exchange] = []
    data, sw = chain.send(command, origin, trail)
    return Reply(tuple(trail), data, sw)


def run_pipeline(command: bytes, transmit: Transmit, origin: Origin = Origin.API,
                 options: TransmitOptions = TransmitOptions()) -> Reply:
    """Send `command`, then follow 6Cxx and 61xx as `options` allow (a chain built for
    this one command: a caller sending many keeps its chain and calls `send`)."""
    return send(build_chain(transmit, options), command, origin)


def step_limit(trail: list[Exchange]) -> StepLimit:
    """The error for a chain cut at the step cap, its reply made from the trail: the data of
    every answer a GET RESPONSE followed (a re-sent answer's is dropped), then the last one's."""
    last = trail[-1]
    data = b"".join(e.data for e, after in pairwise(trail) if after.origin is Origin.GET_RESPONSE)
    steps = len(trail) - 1
    asked = sum(1 for e in trail if e.origin is Origin.GET_RESPONSE)
    what = (f"{steps} GET RESPONSE exchanges" if asked == steps else
            f"{steps} automatic exchanges ({asked} GET RESPONSE, {steps - asked} re-sent with the right Le)")
    sw = last.sw or 0
    wants = "more data" if sw >> 8 == 0x61 else "wrong Le"
    sentence = (f"stopped after {what} and the card still answers {sw >> 8:02X} {sw & 0xFF:02X} ({wants}): "
                "the response is incomplete")
    done = tuple(trail)
    error = StepLimit(last.reader, sentence=sentence, reply=Reply(done, data + last.data, sw))
    error.exchanges = done
    return error


def _with_le(command: bytes, le: int) -> bytes | None:
    try:
        return parse_apdu(command).with_le(le).to_bytes()
    except ApduError:
        return None
