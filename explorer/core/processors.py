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

Where secure messaging goes (the next processor, not written yet): between the
caller and the GET RESPONSE processor,

    caller -> SecureMessagingProcessor -> GetResponseProcessor -> ...

It wraps the plain command (SM class bits, the command data enciphered in a
DO 87, a MAC in a DO 8E) and sends the protected command down. Below it, GET
RESPONSE fetches the rest of the protected answer in plain (`get_response`
drops the SM class bits) and a 6Cxx re-send corrects the protected command's
Le, so the SM processor gets the whole protected answer back in one piece,
checks the MAC, deciphers it and returns the plain data and status word. The
caller sees the plain answer; the trail still holds the wire exchanges with
their protected bytes.

The trace must also show the plain command a protected exchange carries. A
record of its own for it would break the rule of one record per wire exchange
(step counts, timings and replay cards read the trace as what crossed the
wire), so the plain command rides on the wire exchange instead, and must be on
it when it is made: the connection emits each Exchange to the trace inside its
transmit, at wire time, not when the command ends. So `Processor.send` gains a
keyword for it (`carries`, empty by default) that the SM processor sets and the
processors below pass on to the commands it concerns (the protected command
and its 6Cxx re-send; not the GET RESPONSEs, which carry nothing of the
caller's). The wire processor hands it to the transmit, which takes it beside
the APDU the way the connection's transmit takes the SENT_AS_IS `note`. The
Exchange then holds it in a field of its own, masked by the trace's PIN rule:
a VERIFY is in clear only there, while the protected bytes are ciphertext. The
plain answer exists only after unwrapping, when the records are already in the
trace, so it goes to the caller in the Reply and not onto a record.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Protocol

from explorer.core.apdu import ApduError, get_response, parse_apdu
from explorer.core.card_errors import CardError, StepLimit
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
