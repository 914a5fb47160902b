"""The secure-messaging processor in the transmit chain, with a toy channel (a checksum byte
for a MAC): what crosses the wire, what the caller gets, and what the trace records."""

from __future__ import annotations

from functools import reduce

import pytest

from explorer.apps.session import AnalysisSession
from explorer.core import card_errors as ce
from explorer.core.exchange import Origin, TransmitOptions
from explorer.core.link_modes import Protocol, ShareMode
from explorer.services.card_access import CardAccess
from explorer.trace import steps
from explorer.trace.records import Kind
from explorer.trace.store import TraceStore
from explorer.virtual.card import VirtualCard
from explorer.virtual.replay import ReplayCard


def _sum(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0x5A)


class ToyChannel:
    """CLA | 0C and a trailing check byte each way, answer data inverted (the "cipher"); an
    answer with a wrong check is refused."""

    def wrap(self, command: bytes) -> bytes:
        if len(command) > 250:
            raise ValueError("too long to protect")
        return bytes([command[0] | 0x0C]) + command[1:] + bytes([_sum(command)])

    def unwrap(self, response: bytes) -> bytes:
        if len(response) == 2:
            return response  # a plain status word: the card ended the channel
        body, check = response[:-3], response[-3]
        if _sum(body) != check:
            raise ValueError(f"check byte {check:02X} wrong")
        return bytes(b ^ 0xFF for b in body) + response[-2:]


PLAIN = bytes.fromhex("00 B0 00 00 10")
SECRET = bytes(range(0x40, 0x50))


def toy_card(tamper: bool = False) -> VirtualCard:
    pending: list[bytes] = []

    def handler(apdu: bytes) -> bytes:
        if apdu[1] == 0xC0:  # GET RESPONSE with the SM class bits dropped
            out, pending[:] = pending[0], []
            return out + b"\x90\x00"
        if apdu[0] & 0x0C != 0x0C:
            return bytes.fromhex("6988")
        hidden = bytes(b ^ 0xFF for b in SECRET)
        body = hidden + bytes([_sum(hidden) ^ tamper])
        pending[:] = [body]
        return bytes([0x61, len(body)])  # the protected answer comes by GET RESPONSE (T=0)

    return VirtualCard(handler=handler)


@pytest.fixture
def bench():
    store = TraceStore()
    access = CardAccess(lambda reader: None, sink=store)  # type: ignore[arg-type,return-value]
    yield access, store
    assert access.close(1.0)


def _analysis(access: CardAccess, card: VirtualCard):
    reader = access.add_card(card)
    conn = access.manager.open(reader)
    conn.connect(Protocol.ANY, ShareMode.SHARED).result(5)
    return conn


def test_a_protected_command_goes_down_wrapped_and_comes_back_plain_with_both_in_the_trace(bench) -> None:
    access, store = bench
    card = toy_card()
    conn = _analysis(access, card)

    def job(worker):
        session = AnalysisSession(lambda apdu: worker.send(apdu, TransmitOptions(), False),
                                  secure_transmit=lambda apdu, ch: worker.send(apdu, TransmitOptions(), False,
                                                                               "analyze", channel=ch))
        session.secure(ToyChannel())
        return session.send(PLAIN)

    answer = conn.run_job(job, Origin.ANALYZER).result(5)
    assert answer.data == SECRET and answer.sw == 0x9000
    assert card.received[0] == ToyChannel().wrap(PLAIN)  # the card saw only the protected command
    records = [r for r in store.records() if r.kind is Kind.EXCHANGE]
    protected, get_response, plain = records
    assert protected.command == card.received[0] and get_response.origin == Origin.GET_RESPONSE.value
    assert plain.unwrapped and plain.parent == protected.seq
    assert plain.command == PLAIN and plain.response == SECRET + b"\x90\x00" and plain.detail == "analyze"
    # A folded row of the protected command shows the plain answer it came to.
    outcome = steps.outcome(store.records(), store.records().index(protected))
    assert outcome.final is plain and outcome.data == SECRET
    # A replay card answers what crossed the wire, never the plain bytes.
    replay = ReplayCard(store.records())
    assert replay.exchanges == 2 and replay(card.received[0]) == bytes([0x61, len(SECRET) + 1])


def test_an_answer_that_fails_its_check_is_a_named_error_and_ends_the_channel(bench) -> None:
    access, store = bench
    conn = _analysis(access, toy_card(tamper=True))

    def job(worker):
        session = AnalysisSession(lambda apdu: worker.send(apdu, TransmitOptions(), False),
                                  secure_transmit=lambda apdu, ch: worker.send(apdu, TransmitOptions(), False,
                                                                               channel=ch))
        session.secure(ToyChannel())
        with pytest.raises(ce.SecureMessagingFailed, match="check byte") as caught:
            session.send(PLAIN)
        assert len(caught.value.exchanges) == 2 and not session.secured
        return session.send(PLAIN)  # plain now: the card refuses it

    assert conn.run_job(job, Origin.ANALYZER).result(5).sw == 0x6988
    failed = next(r for r in store.records() if r.unwrapped)
    assert failed.command == PLAIN and failed.response == b"" and "check byte" in (failed.error or "")


def test_a_command_the_channel_cannot_carry_is_refused_before_anything_is_sent(bench) -> None:
    access, store = bench
    card = toy_card()
    conn = _analysis(access, card)

    def job(worker):
        with pytest.raises(ce.InvalidCommand, match="secure messaging: too long"):
            worker.send(bytes(4) + b"\xff" + bytes(255), TransmitOptions(), False, channel=ToyChannel())

    conn.run_job(job, Origin.ANALYZER).result(5)
    assert card.received == [] and not [r for r in store.records() if r.kind is Kind.EXCHANGE]


def test_a_session_without_a_secure_transmit_says_it_cannot_carry_a_channel() -> None:
    session = AnalysisSession(lambda apdu: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(NotImplementedError):
        session.secure(ToyChannel())


def _traced_session(bench) -> list:
    access, store = bench
    conn = _analysis(access, toy_card())

    def job(worker):
        session = AnalysisSession(lambda apdu: worker.send(apdu, TransmitOptions(), False),
                                  secure_transmit=lambda apdu, ch: worker.send(apdu, TransmitOptions(), False,
                                                                               channel=ch))
        session.secure(ToyChannel())
        return session.send(PLAIN)

    conn.run_job(job, Origin.ANALYZER).result(5)
    return store.records()


@pytest.mark.parametrize("fmt", ["text", "csv", "jsonl", "html"])
def test_unwrapped_personal_data_is_masked_in_every_export_unless_revealed(bench, fmt: str) -> None:
    import io

    from explorer.trace import export, export_html

    records = _traced_session(bench)
    write = {"text": export.write_text, "csv": export.write_csv, "jsonl": export.write_jsonl,
             "html": export_html.write_html}[fmt]
    spaced, joined = SECRET.hex(" ").upper(), SECRET.hex().upper()
    masked, revealed = io.StringIO(), io.StringIO()
    write(records, masked)
    write(records, revealed, reveal_secrets=True)
    assert spaced not in masked.getvalue() and joined not in masked.getvalue().replace(" ", "")
    assert spaced in revealed.getvalue()
    if fmt == "jsonl":
        assert f'"masked_response":[0,{len(SECRET)}]' in masked.getvalue()


def test_a_search_does_not_find_what_is_masked() -> None:
    from explorer.trace.search import text_test
    from explorer.trace.steps import alone

    store = TraceStore()
    access = CardAccess(lambda reader: None, sink=store)  # type: ignore[arg-type,return-value]
    try:
        records = _traced_session((access, store))
    finally:
        access.close(1.0)
    plain = next(r for r in records if r.unwrapped)
    needle = SECRET[3:7].hex(" ")
    hidden, shown = text_test(needle, reveal=False), text_test(needle, reveal=True)
    assert hidden is not None and shown is not None
    assert not hidden(plain, plain, plain.response) and shown(plain, plain, plain.response)
    assert alone(plain).final is plain
