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


def test_endless_61_stops_at_max_steps() -> None:
    def transmit(apdu: bytes, origin: Origin) -> Exchange:
        return Exchange("R", apdu, b"\x00\x61\x01", 0.0, 0.0, origin)

    reply = run_pipeline(bytes.fromhex("00B0000000"), transmit, options=TransmitOptions(max_steps=10))
    assert len(reply.exchanges) == 10 and reply.sw == 0x6101


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
