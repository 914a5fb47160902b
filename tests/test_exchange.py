"""The transmit pipeline on its own: a scripted transmit, no PC/SC."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from explorer.core import card_errors as ce
from explorer.core.exchange import Exchange, Origin, TransmitOptions, run_pipeline


def scripted(answers: dict[str, list[str]]) -> tuple[Callable[[bytes, Origin], Exchange], list[bytes]]:
    """A transmit that answers each command (hex) from a queue; unknown commands get 6D00."""
    sent: list[bytes] = []

    def transmit(apdu: bytes, origin: Origin) -> Exchange:
        sent.append(apdu)
        queue = answers.get(apdu.hex().upper(), [])
        response = bytes.fromhex(queue.pop(0)) if queue else b"\x6d\x00"
        return Exchange("R", apdu, response, 0.0, 0.001, origin)

    return transmit, sent


def test_plain_answer_is_one_exchange() -> None:
    transmit, _ = scripted({"00A4040000": ["6F009000"]})
    reply = run_pipeline(bytes.fromhex("00A4040000"), transmit, Origin.CONSOLE)
    assert (reply.data, reply.sw, reply.automatic_steps) == (b"\x6f\x00", 0x9000, 0)
    assert reply.exchanges[0].origin is Origin.CONSOLE


def test_get_response_loop_joins_data_and_keeps_the_channel() -> None:
    transmit, sent = scripted({
        "01B0000000": ["6102"],
        "01C0000002": ["AABB6101"],
        "01C0000001": ["CC9000"],
    })
    reply = run_pipeline(bytes.fromhex("01B0000000"), transmit)
    assert reply.data == bytes.fromhex("AABBCC") and reply.sw == 0x9000
    assert [e.origin for e in reply.exchanges] == [Origin.API, Origin.GET_RESPONSE, Origin.GET_RESPONSE]
    assert sent[1:] == [bytes.fromhex("01C0000002"), bytes.fromhex("01C0000001")]


def test_6c_resend_then_61_then_6c_on_get_response() -> None:
    transmit, _ = scripted({
        "00CA9F7F00": ["6C2A"],
        "00CA9F7F2A": ["11226105"],
        "00C0000005": ["6C03"],
        "00C0000003": ["3344559000"],
    })
    reply = run_pipeline(bytes.fromhex("00CA9F7F00"), transmit)
    assert reply.data == bytes.fromhex("1122334455") and reply.sw == 0x9000
    assert [e.origin for e in reply.exchanges] == [
        Origin.API, Origin.RESEND, Origin.GET_RESPONSE, Origin.RESEND]


def test_switches_off() -> None:
    transmit, _ = scripted({"00B0000000": ["6110"], "00B2010400": ["6C10"]})
    off = TransmitOptions(auto_get_response=False, auto_resend=False)
    assert run_pipeline(bytes.fromhex("00B0000000"), transmit, options=off).sw == 0x6110
    assert run_pipeline(bytes.fromhex("00B2010400"), transmit, options=off).sw == 0x6C10


def test_a_second_6c_is_not_followed_forever() -> None:
    transmit, sent = scripted({"00B2010400": ["6C10"], "00B2010410": ["6C20"]})
    reply = run_pipeline(bytes.fromhex("00B2010400"), transmit)
    assert reply.sw == 0x6C20 and len(sent) == 2


def test_endless_61_stops_at_max_steps_and_says_so() -> None:
    def transmit(apdu: bytes, origin: Origin) -> Exchange:
        return Exchange("R", apdu, b"\x00\x61\x01", 0.0, 0.0, origin)

    with pytest.raises(ce.StepLimit) as err:
        run_pipeline(bytes.fromhex("00B0000000"), transmit, options=TransmitOptions(max_steps=10))
    # The command and ten GET RESPONSEs crossed the wire; the eleventh was not sent.
    assert [e.origin for e in err.value.exchanges] == [Origin.API] + [Origin.GET_RESPONSE] * 10
    assert str(err.value) == ("R: stopped after 10 GET RESPONSE exchanges and the card still answers "
                              "61 01 (more data): the response is incomplete")
    assert err.value.reply is not None
    assert (err.value.reply.data, err.value.reply.sw) == (bytes(11), 0x6101)


def test_the_default_cap_is_1024_automatic_steps() -> None:
    def transmit(apdu: bytes, origin: Origin) -> Exchange:
        return Exchange("R", apdu, b"\x61\x01", 0.0, 0.0, origin)

    with pytest.raises(ce.StepLimit, match="stopped after 1024 GET RESPONSE exchanges"):
        run_pipeline(bytes.fromhex("00B0000000"), transmit)


def test_a_chain_that_ends_on_the_last_allowed_step_is_complete() -> None:
    answers = {"00B0000000": ["6101"], "00C0000001": ["AA6101", "BB6101", "CC9000"]}
    transmit, sent = scripted(answers)
    reply = run_pipeline(bytes.fromhex("00B0000000"), transmit, options=TransmitOptions(max_steps=3))
    assert (reply.data, reply.sw, len(sent)) == (bytes.fromhex("AABBCC"), 0x9000, 4)


def test_re_sends_are_counted_and_named_at_the_cap() -> None:
    answers = iter(["6101", "6C02", "AABB6101"] * 5)

    def cycling(apdu: bytes, origin: Origin) -> Exchange:
        return Exchange("R", apdu, bytes.fromhex(next(answers)), 0.0, 0.0, origin)

    with pytest.raises(ce.StepLimit) as err:
        run_pipeline(bytes.fromhex("00B0000000"), cycling, options=TransmitOptions(max_steps=4))
    # command 61 01, GET RESPONSE 6C 02, re-send AA BB 61 01, GET RESPONSE 61 01, GET RESPONSE 6C 02: cap
    assert err.value.sentence == ("stopped after 4 automatic exchanges (3 GET RESPONSE, 1 re-sent with the "
                                  "right Le) and the card still answers 6C 02 (wrong Le): the response is "
                                  "incomplete")
    assert len(err.value.exchanges) == 5


def test_failure_half_way_keeps_what_crossed_the_wire() -> None:
    calls: list[bytes] = []

    def transmit(apdu: bytes, origin: Origin) -> Exchange:
        calls.append(apdu)
        if len(calls) == 2:
            error = ce.CardRemoved("R")
            error.exchanges = (Exchange("R", apdu, b"", 0.0, 0.0, origin, error=str(error)),)
            raise error
        return Exchange("R", apdu, b"\x61\x10", 0.0, 0.0, origin)

    with pytest.raises(ce.CardRemoved) as err:
        run_pipeline(bytes.fromhex("00B0000000"), transmit)
    assert [e.origin for e in err.value.exchanges] == [Origin.API, Origin.GET_RESPONSE]
    assert err.value.exchanges[1].error and err.value.exchanges[1].sw is None
    assert str(err.value) == "R: the card was removed"
