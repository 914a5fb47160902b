"""The processor chain (61xx GET RESPONSE, 6Cxx re-send): each processor on its own, and the
whole chain against the flag-switched pipeline it replaced, kept here as the oracle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core import card_errors as ce
from explorer.core.apdu import ApduError, get_response, parse_apdu
from explorer.core.exchange import Exchange, Origin, Reply, Transmit, TransmitOptions, run_pipeline
from explorer.core.link_modes import Protocol, ShareMode
from explorer.core.processors import (
    GetResponseProcessor,
    Processor,
    ResendProcessor,
    WireProcessor,
    build_chain,
    send,
)
from explorer.link.connection import CardConnection

# --- The oracle: run_pipeline as it was before the chain (explorer/core/exchange.py, 40fa77d) ---


def old_run_pipeline(command: bytes, transmit: Transmit, origin: Origin = Origin.API,
                     options: TransmitOptions = TransmitOptions()) -> Reply:
    first = transmit(command, origin)
    response = first.response
    if first.error is None and len(response) >= 2 and response[-2] != 0x61 and response[-2] != 0x6C:
        return Reply((first,), response[:-2], response[-2] << 8 | response[-1])
    done: list[Exchange] = [first]
    data = bytearray()

    def step(apdu: bytes, why: Origin) -> Exchange:
        try:
            exchange = transmit(apdu, why)
        except ce.CardError as exc:
            exc.exchanges = (*done, *exc.exchanges)
            raise
        done.append(exchange)
        return exchange

    current = first
    resent = False
    while True:
        sw = current.sw
        if sw is None:
            return Reply(tuple(done), bytes(data) + current.response, 0)
        sw1, sw2 = sw >> 8, sw & 0xFF
        if sw1 == 0x6C and options.auto_resend and not resent:
            following = _old_with_le(current.command, sw2 or 256)
            if following is None:
                break
            why = Origin.RESEND
        elif sw1 == 0x61 and options.auto_get_response:
            following = get_response(command[0] if command else 0, sw2 or 256)
            why = Origin.GET_RESPONSE
        else:
            break
        if len(done) > options.max_steps:
            raise _old_step_limit(done, data, current)
        if why is Origin.RESEND:
            resent = True
        else:
            data += current.data
            resent = False
        current = step(following, why)
    data += current.data
    return Reply(tuple(done), bytes(data), current.sw or 0)


def _old_step_limit(done: list[Exchange], data: bytearray, last: Exchange) -> ce.StepLimit:
    steps = len(done) - 1
    asked = sum(1 for e in done if e.origin is Origin.GET_RESPONSE)
    what = (f"{steps} GET RESPONSE exchanges" if asked == steps else
            f"{steps} automatic exchanges ({asked} GET RESPONSE, {steps - asked} re-sent with the right Le)")
    sw = last.sw or 0
    wants = "more data" if sw >> 8 == 0x61 else "wrong Le"
    sentence = (f"stopped after {what} and the card still answers {sw >> 8:02X} {sw & 0xFF:02X} ({wants}): "
                "the response is incomplete")
    reply = Reply(tuple(done), bytes(data) + last.data, sw)
    error = ce.StepLimit(last.reader, sentence=sentence, reply=reply)
    error.exchanges = tuple(done)
    return error


def _old_with_le(command: bytes, le: int) -> bytes | None:
    try:
        return parse_apdu(command).with_le(le).to_bytes()
    except ApduError:
        return None


# --- A card that answers from a script ---


@dataclass(frozen=True)
class Answer:
    """One card answer: `response` as it came, or an error record (`error`), or a failure
    raised by the transmit (`raises`: the card pulled out)."""

    response: bytes
    error: bool = False
    raises: bool = False


def card(answers: list[Answer], rest: bytes = b"\x90\x00") -> tuple[Transmit, list[tuple[bytes, Origin]]]:
    """A transmit giving `answers` in order, then `rest`; each exchange stamped with its index
    so that two runs compare record by record."""
    sent: list[tuple[bytes, Origin]] = []

    def transmit(apdu: bytes, origin: Origin) -> Exchange:
        n = len(sent)
        sent.append((apdu, origin))
        answer = answers[n] if n < len(answers) else Answer(rest)
        if answer.raises:
            error = ce.CardRemoved("R")
            error.exchanges = (Exchange("R", apdu, b"", float(n), 0.0, origin, error=str(error)),)
            raise error
        return Exchange("R", apdu, answer.response, float(n), 0.001, origin,
                        error="the reader failed" if answer.error else None)

    return transmit, sent


def outcome(run: Callable[[], Reply]) -> tuple[object, ...]:
    """Everything a caller can see of a run: the reply, or the error with its sentence, its
    exchanges and (a step limit) its reply."""
    try:
        return ("reply", run())
    except ce.CardError as exc:
        return ("error", type(exc), str(exc), exc.exchanges, getattr(exc, "reply", None))


# --- Equivalence with the old pipeline ---

sw_61 = st.builds(lambda data, le: data + bytes([0x61, le]), st.binary(max_size=4), st.integers(0, 255))
sw_6c = st.builds(lambda data, le: data + bytes([0x6C, le]), st.binary(max_size=2),
                  st.sampled_from([0, 1, 2, 5, 255]))
final = st.builds(lambda data, sw: data + sw, st.binary(max_size=4),
                  st.sampled_from([b"\x90\x00", b"\x6a\x82", b"\x62\x83", b"\x00\x00", b"\x6c", b"\x61"]))
answers = st.lists(
    st.one_of(
        st.builds(Answer, st.one_of(sw_61, sw_6c, final)),
        st.builds(Answer, st.one_of(sw_61, sw_6c)),  # weighted towards chains
        st.builds(Answer, st.binary(max_size=1)),  # no status word at all
        st.builds(Answer, st.one_of(sw_61, st.just(b"")), error=st.just(True)),
        st.just(Answer(b"", raises=True)),
    ),
    max_size=12,
)
commands = st.one_of(
    st.sampled_from([bytes.fromhex(h) for h in (
        "00B0000000", "00A4040000", "80CA9F7F00", "01B0000000", "43B0000010", "A0C0000000",
        "00A4040007A000000004101000", "0084000008", "00B00000000100", "00A40400",  # extended, case 1
    )]),
    st.binary(max_size=6),  # anything, parseable or not: a re-send may have no Le to fix
)
options = st.builds(TransmitOptions, st.booleans(), st.booleans(), st.sampled_from([0, 1, 2, 3, 5, 1024]))


@settings(max_examples=3000, deadline=None)
@given(commands, answers, st.sampled_from(list(Origin)), options, st.sampled_from([b"\x90\x00", b"\x61\x01"]))
def test_the_chain_does_what_the_flag_switched_pipeline_did(command: bytes, script: list[Answer],
                                                             origin: Origin, opts: TransmitOptions,
                                                             rest: bytes) -> None:
    old_transmit, old_sent = card(script, rest)
    new_transmit, new_sent = card(script, rest)
    expected = outcome(lambda: old_run_pipeline(command, old_transmit, origin, opts))
    got = outcome(lambda: send(build_chain(new_transmit, opts), command, origin))
    assert got == expected
    assert new_sent == old_sent  # the same commands reached the card, in the same order


def test_every_option_combination_meets_each_kind_of_answer() -> None:
    """The property above, spelled out over a fixed grid so a narrow draw cannot miss a case."""
    scripts = [
        [Answer(b"\x61\x02"), Answer(b"\xaa\xbb\x6c\x01"), Answer(b"\xcc\x61\x01"), Answer(b"\xdd\x90\x00")],
        [Answer(b"\x6c\x02"), Answer(b"\x6c\x03")],
        [Answer(b"\x6c\x02"), Answer(b"\x61\x01"), Answer(b"", error=True)],
        [Answer(b"\x61\x05"), Answer(b"", raises=True)],
        [Answer(b"\x61\x01")] * 8,
        [Answer(b"\x6c\x00"), Answer(b"\x61\x00"), Answer(b"\x6c\x00")] * 3,
    ]
    grid = [TransmitOptions(g, r, m) for g in (True, False) for r in (True, False) for m in (0, 2, 1024)]
    for opts in grid:
        for script in scripts:
            for command in (bytes.fromhex("00B0000000"), b"\x00\xb0"):
                old_transmit, old_sent = card(script, b"\x61\x01")
                new_transmit, new_sent = card(script, b"\x61\x01")
                expected = outcome(partial(old_run_pipeline, command, old_transmit, Origin.CONSOLE, opts))
                got = outcome(partial(run_pipeline, command, new_transmit, Origin.CONSOLE, opts))
                assert (got, new_sent) == (expected, old_sent), (opts, script, command)


# --- Each processor ---


def test_wire_records_one_exchange_per_apdu_and_reads_the_status_word() -> None:
    transmit, _ = card([Answer(b"\xaa\x61\x02"), Answer(b"\x90")])
    wire = WireProcessor(transmit)
    trail: list[Exchange] = []
    assert wire.send(b"\x00\xb0\x00\x00\x00", Origin.SCRIPT, trail) == (b"\xaa", 0x6102)  # not followed
    assert wire.send(b"\x00\xb0\x00\x00\x00", Origin.SCRIPT, trail) == (b"\x90", 0)  # no SW: all data
    assert [(e.response, e.origin) for e in trail] == [(b"\xaa\x61\x02", Origin.SCRIPT),
                                                       (b"\x90", Origin.SCRIPT)]


def test_wire_failure_carries_what_crossed_before_it() -> None:
    transmit, _ = card([Answer(b"\x90\x00"), Answer(b"", raises=True)])
    wire = WireProcessor(transmit)
    trail: list[Exchange] = []
    wire.send(b"\x00\xb0\x00\x00\x00", Origin.API, trail)
    with pytest.raises(ce.CardRemoved) as err:
        wire.send(b"\x00\xc0\x00\x00\x00", Origin.GET_RESPONSE, trail)
    assert [e.command.hex() for e in err.value.exchanges] == ["00b0000000", "00c0000000"]
    assert err.value.exchanges[1].error == "R: the card was removed"


def test_resend_fixes_le_once_and_drops_the_first_answer() -> None:
    transmit, sent = card([Answer(b"\xee\x6c\x10"), Answer(b"\x6c\x20")])
    chain = ResendProcessor(WireProcessor(transmit), max_steps=5)
    trail: list[Exchange] = []
    assert chain.send(bytes.fromhex("00B2010400"), Origin.API, trail) == (b"", 0x6C20)
    assert sent == [(bytes.fromhex("00B2010400"), Origin.API), (bytes.fromhex("00B2010410"), Origin.RESEND)]


def test_resend_leaves_a_6c_it_cannot_re_encode() -> None:
    transmit, sent = card([Answer(b"\x6c\x10")])
    chain = ResendProcessor(WireProcessor(transmit), max_steps=5)
    assert chain.send(b"\x00\xb2", Origin.API, []) == (b"", 0x6C10) and len(sent) == 1


def test_resend_6c00_asks_for_256_and_respects_the_cap() -> None:
    transmit, sent = card([Answer(b"\x6c\x00")])
    resend = ResendProcessor(WireProcessor(transmit), 1)
    assert resend.send(bytes.fromhex("00B0000001"), Origin.API, [])[1] == 0x9000
    assert sent[1] == (bytes.fromhex("00B0000000"), Origin.RESEND)
    transmit, sent = card([Answer(b"\x6c\x00")])
    # The old pipeline's wording, kept: with no step taken, a 6Cxx cut reads as "0 GET RESPONSE".
    with pytest.raises(ce.StepLimit, match=r"after 0 GET RESPONSE exchanges and .* 6C 00 \(wrong Le\)"):
        ResendProcessor(WireProcessor(transmit), 0).send(bytes.fromhex("00B0000001"), Origin.API, [])
    assert len(sent) == 1


def test_get_response_joins_the_pieces_on_the_commands_channel() -> None:
    transmit, sent = card([Answer(b"\x11\x61\x02"), Answer(b"\x22\x33\x61\x00"), Answer(b"\x44\x90\x00")])
    chain = GetResponseProcessor(WireProcessor(transmit), max_steps=5)
    trail: list[Exchange] = []
    assert chain.send(bytes.fromhex("03CA9F7F00"), Origin.API, trail) == (bytes.fromhex("11223344"), 0x9000)
    assert sent[1:] == [(bytes.fromhex("03C0000002"), Origin.GET_RESPONSE),
                        (bytes.fromhex("03C0000000"), Origin.GET_RESPONSE)]
    assert len(trail) == 3


def test_get_response_cap_reports_the_data_so_far() -> None:
    transmit, sent = card([], rest=b"\xab\x61\x01")
    chain = GetResponseProcessor(WireProcessor(transmit), max_steps=2)
    with pytest.raises(ce.StepLimit) as err:
        chain.send(bytes.fromhex("00B0000000"), Origin.API, [])
    assert len(sent) == 3 and err.value.reply == Reply(err.value.exchanges, b"\xab" * 3, 0x6101)
    assert "stopped after 2 GET RESPONSE exchanges" in str(err.value)


def test_the_cap_is_shared_by_get_response_and_re_send() -> None:
    # 61 01 -> GET RESPONSE 6C 01 -> re-send 61 01 -> (cap 2 reached: the GET RESPONSE is not sent)
    transmit, sent = card([Answer(b"\x61\x01"), Answer(b"\x6c\x01"), Answer(b"\x61\x01")])
    with pytest.raises(ce.StepLimit, match=r"2 automatic exchanges \(1 GET RESPONSE, 1 re-sent"):
        send(build_chain(transmit, TransmitOptions(max_steps=2)), bytes.fromhex("00B0000000"))
    assert [origin for _, origin in sent] == [Origin.API, Origin.GET_RESPONSE, Origin.RESEND]


@pytest.mark.parametrize(("get_resp", "resend", "kinds"), [
    (True, True, [GetResponseProcessor, ResendProcessor, WireProcessor]),
    (True, False, [GetResponseProcessor, WireProcessor]),
    (False, True, [ResendProcessor, WireProcessor]),
    (False, False, [WireProcessor]),
])
def test_build_chain_composes_what_the_options_ask_for(get_resp: bool, resend: bool,
                                                       kinds: list[type]) -> None:
    transmit, _ = card([])
    chain: Processor | None = build_chain(transmit, TransmitOptions(get_resp, resend, 7))
    found: list[type] = []
    while chain is not None:
        found.append(type(chain))
        if not isinstance(chain, WireProcessor):
            assert getattr(chain, "_max_steps") == 7  # noqa: B009 - private, on purpose
        chain = getattr(chain, "_next", None)
    assert found == kinds


def test_a_connection_follows_the_options_of_each_command() -> None:
    """The connection keeps its chain between commands: changed options must still take."""

    class Card:
        embedded = True

        def connect(self, protocol: Protocol, share: ShareMode) -> tuple[Protocol, bytes]:
            return Protocol.T1, b"\x3b\x00"

        def disconnect(self, disposition: object) -> None:
            return None

        def release(self) -> None:
            pass

        def transmit(self, apdu: bytes, protocol: object) -> bytes:
            return b"\xaa\x90\x00" if apdu[1] == 0xC0 else b"\x61\x01"

    conn = CardConnection("Card", Card(), inline=True)  # type: ignore[arg-type]
    try:
        conn.connect(Protocol.ANY, ShareMode.SHARED).result(5)
        apdu = bytes.fromhex("00B0000000")
        assert conn.send_now(apdu).sw == 0x9000
        assert conn.send_now(apdu, options=TransmitOptions(auto_get_response=False)).sw == 0x6101
        assert conn.send_now(apdu, options=TransmitOptions()).data == b"\xaa"  # equal to the default, not it
        with pytest.raises(ce.StepLimit):
            conn.send_now(apdu, options=TransmitOptions(max_steps=0))
    finally:
        assert conn.close()
