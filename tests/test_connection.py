"""The connection manager, session and card waits against the real pcscd + vpcd bed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from explorer.core import card_errors as ce
from explorer.core.card_type import AtrCardType, AtrPatternCardType
from explorer.core.exchange import Exchange, LinkEvent, LinkEventKind, Origin, TransmitOptions
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.link.manager import ConnectionManager
from explorer.pcsc.card_wait import CardWaiter, wait_for_card
from explorer.pcsc.connection import PcscConnection, PcscLink, ctl_code
from explorer.pcsc.session import Session
from explorer.virtual.card import DEFAULT_ATR, with_tck
from tests.conftest import CardFactory, wait_reader
from tests.testbed import PcscBed

pytestmark = pytest.mark.pcsc

ATR_T0 = bytes.fromhex("3B021450")  # no TD1: T=0 only, and then no TCK
ATR_T1 = with_tck(bytes.fromhex("3B8001"))  # TD1=01: T=1 only
LONG = bytes(i & 0xFF for i in range(700))  # what the chaining card gives out


def chaining_card(apdu: bytes) -> bytes:
    """A T=0-style card: READ BINARY (B0) answers 61xx and hands LONG out in GET RESPONSE
    pieces; B2 with a wrong Le gets 6C10; 80 EE echoes (short or extended)."""
    ins = apdu[1]
    if ins == 0xB0:
        return b"\x61\x00"
    if ins == 0xC0:
        state = chaining_card.__dict__.setdefault("sent", 0)
        le = apdu[4] or 256
        piece = LONG[state : state + le]
        chaining_card.sent = state + len(piece)  # type: ignore[attr-defined]
        left = len(LONG) - chaining_card.sent  # type: ignore[attr-defined]
        if left == 0:
            chaining_card.sent = 0  # type: ignore[attr-defined]
            return piece + b"\x90\x00"
        return piece + bytes([0x61, min(left, 256) & 0xFF])
    if ins == 0xB2:
        if apdu[4] != 0x10:
            return b"\x6c\x10"
        return bytes(range(16)) + b"\x90\x00"
    if ins == 0xEE:
        if len(apdu) > 7 and apdu[4] == 0:  # extended: Lc in bytes 5-6
            n = apdu[5] << 8 | apdu[6]
            return apdu[7 : 7 + n] + b"\x90\x00"
        return apdu[5 : 5 + apdu[4]] + b"\x90\x00" if len(apdu) > 5 else b"\x90\x00"
    return b"\x90\x00"


class Gate:
    """A card handler that holds its answer until released (or a deadline)."""

    def __init__(self, hold: float = 20.0) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.hold = hold

    def __call__(self, apdu: bytes) -> bytes:
        self.entered.set()
        self.release.wait(self.hold)
        return b"\x90\x00"


@pytest.fixture
def records() -> list[Exchange | LinkEvent]:
    return []


@pytest.fixture
def conn(readers: list[str], records: list[Exchange | LinkEvent]) -> Iterator[PcscConnection]:
    c = PcscConnection(readers[0], records.append)
    yield c
    assert c.close(timeout=5), "worker still busy at teardown"


def test_protocol_comes_from_the_atr(conn: PcscConnection, insert_card: CardFactory, readers: list[str],
                                     records: list[Exchange | LinkEvent]) -> None:
    insert_card(readers[0], ATR_T0, chaining_card)
    state = conn.connect().result(5)
    assert (state.protocol, state.share, state.atr) == (Protocol.T0, ShareMode.SHARED, ATR_T0)
    with pytest.raises(ce.ProtocolMismatch, match=r"does not offer T=1 \(its ATR offers T=0\)"):
        conn.connect(Protocol.T1).result(5)
    assert not conn.state.connected
    assert [r.kind for r in records if isinstance(r, LinkEvent)] == [
        LinkEventKind.CONNECTED, LinkEventKind.DISCONNECTED]

    other = PcscConnection(readers[1])
    try:
        insert_card(readers[1], ATR_T1, chaining_card)
        assert other.connect().result(5).protocol is Protocol.T1
        with pytest.raises(ce.ProtocolMismatch):
            other.connect(Protocol.T0).result(5)
    finally:
        assert other.close()


def test_61xx_chain_over_256_bytes(conn: PcscConnection, insert_card: CardFactory, readers: list[str],
                                   records: list[Exchange | LinkEvent]) -> None:
    link = insert_card(readers[0], ATR_T0, chaining_card)
    conn.connect().result(5)
    reply = conn.send(bytes.fromhex("00B0000000"), Origin.CONSOLE).result(5)
    assert reply.data == LONG and reply.sw == 0x9000
    origins = [e.origin for e in reply.exchanges]
    assert origins == [Origin.CONSOLE] + [Origin.GET_RESPONSE] * 3
    assert [e.sw for e in reply.exchanges] == [0x6100, 0x6100, 0x61BC, 0x9000]
    assert [e.command for e in reply.exchanges[1:]] == [bytes.fromhex("00C0000000")] * 2 + [
        bytes.fromhex("00C00000BC")]
    # each step crossed the wire, and each went to the trace sink as its own record
    assert link.card.received == [e.command for e in reply.exchanges]
    assert [r for r in records if isinstance(r, Exchange)] == list(reply.exchanges)

    plain = conn.send(bytes.fromhex("00B0000000"), options=TransmitOptions(auto_get_response=False)).result(5)
    assert (plain.sw, plain.data, len(plain.exchanges)) == (0x6100, b"", 1)


def test_6cxx_resend(conn: PcscConnection, insert_card: CardFactory, readers: list[str]) -> None:
    link = insert_card(readers[0], ATR_T0, chaining_card)
    conn.connect().result(5)
    reply = conn.send(bytes.fromhex("00B2010400")).result(5)
    assert reply.sw == 0x9000 and reply.data == bytes(range(16))
    assert [(e.command.hex(), e.origin) for e in reply.exchanges] == [
        ("00b2010400", Origin.API), ("00b2010410", Origin.RESEND)]
    assert link.card.received == [bytes.fromhex("00B2010400"), bytes.fromhex("00B2010410")]
    off = conn.send(bytes.fromhex("00B2010400"), options=TransmitOptions(auto_resend=False)).result(5)
    assert off.sw == 0x6C10 and len(off.exchanges) == 1


def test_extended_apdu_1k_each_way(conn: PcscConnection, insert_card: CardFactory,
                                   readers: list[str]) -> None:
    insert_card(readers[0], ATR_T1, chaining_card)
    assert conn.connect().result(5).protocol is Protocol.T1
    data = bytes(range(256)) * 5  # 1280 bytes
    apdu = bytes([0x80, 0xEE, 0, 0, 0, len(data) >> 8, len(data) & 0xFF]) + data + b"\x00\x00"
    reply = conn.send(apdu).result(5)
    assert reply.sw == 0x9000 and reply.data == data and len(reply.exchanges) == 1


def test_bad_command_is_refused_before_the_worker(conn: PcscConnection, insert_card: CardFactory,
                                                  readers: list[str]) -> None:
    link = insert_card(readers[0], DEFAULT_ATR, chaining_card)
    conn.connect().result(5)
    with pytest.raises(ce.InvalidCommand, match="byte 4"):
        conn.send(bytes.fromhex("00A4040009A0000000041010")).result(5)
    with pytest.raises(ce.InvalidCommand):
        conn.send(b"\x00\xa4").result(5)
    assert link.card.received == []


def test_sharing_violation(conn: PcscConnection, insert_card: CardFactory, readers: list[str]) -> None:
    insert_card(readers[0])
    conn.connect(share=ShareMode.EXCLUSIVE).result(5)
    other = PcscConnection(readers[0])
    try:
        with pytest.raises(ce.SharingViolation, match="another application holds this card exclusively"):
            other.connect().result(5)
        conn.disconnect().result(5)
        assert other.connect().result(5).connected
        with pytest.raises(ce.SharingViolation):
            conn.connect(share=ShareMode.EXCLUSIVE).result(5)
    finally:
        assert other.close()


def test_card_removed_during_transmit(conn: PcscConnection, insert_card: CardFactory, readers: list[str],
                                      records: list[Exchange | LinkEvent]) -> None:
    gate = Gate()
    link = insert_card(readers[0], DEFAULT_ATR, gate)
    conn.connect().result(5)
    future = conn.send(bytes.fromhex("80EE0000"))
    assert gate.entered.wait(5)
    remover = threading.Thread(target=link.remove)
    t0 = time.monotonic()
    remover.start()
    try:
        with pytest.raises(ce.CardRemoved) as err:
            future.result(5)
        took = time.monotonic() - t0
    finally:
        gate.release.set()
        remover.join()
    assert took < 1.0, f"removal reported after {took:.2f} s"
    assert err.value.exchanges and err.value.exchanges[0].error
    assert not conn.state.connected
    assert isinstance(records[-1], LinkEvent) and records[-1].kind is LinkEventKind.LOST
    wait_reader(readers[0], present=False)
    with pytest.raises(ce.NotConnected):
        conn.send(bytes.fromhex("80EE0000")).result(5)
    with pytest.raises(ce.NoCard, match="no card"):
        conn.connect().result(5)


def test_service_killed_during_a_session(bed: PcscBed, insert_card: CardFactory, readers: list[str]) -> None:
    gate = Gate()
    insert_card(readers[0], DEFAULT_ATR, gate, reconnect=True)
    conn = PcscConnection(readers[0])
    try:
        conn.connect().result(5)
        future = conn.send(bytes.fromhex("80EE0000"))
        assert gate.entered.wait(5)
        bed.kill()
        with pytest.raises(ce.ServiceGone, match="PC/SC service"):
            future.result(5)
        gate.release.set()
        with pytest.raises(ce.ServiceGone):
            conn.connect().result(5)
        bed.start()
        wait_reader(readers[0], present=True)  # the card's link reconnects by itself
        assert conn.connect().result(5).connected
        assert conn.send(bytes.fromhex("80EE0000")).result(5).sw == 0x9000
    finally:
        gate.release.set()
        assert conn.close()


def test_reset_transactions_and_unsupported_reader_features(conn: PcscConnection, insert_card: CardFactory,
                                                             readers: list[str],
                                                             records: list[Exchange | LinkEvent]) -> None:
    link = insert_card(readers[0], DEFAULT_ATR, chaining_card)
    conn.connect(Protocol.T1).result(5)
    assert conn.reconnect().result(5).protocol is Protocol.T1
    assert conn.reconnect(cold=True).result(5).atr == DEFAULT_ATR
    assert link.card.powered
    conn.begin_transaction().result(5)
    conn.end_transaction().result(5)
    kinds = [r.kind for r in records if isinstance(r, LinkEvent)]
    assert kinds == [LinkEventKind.CONNECTED, LinkEventKind.RECONNECTED, LinkEventKind.RECONNECTED,
                     LinkEventKind.TRANSACTION_BEGUN, LinkEventKind.TRANSACTION_ENDED]
    # the vpcd driver implements no attribute and no control code: say so, by name
    with pytest.raises(ce.NotSupported, match="does not support"):
        conn.get_attribute("ATR_STRING").result(5)
    with pytest.raises(ValueError, match="unknown attribute"):
        conn.get_attribute("NO_SUCH_THING").result(5)
    with pytest.raises(ce.NotSupported) as err:
        conn.control(ctl_code(3400)).result(5)
    assert "control code" in err.value.detail
    assert isinstance(records[-1], Exchange) and records[-1].origin is Origin.CONTROL
    conn.disconnect(Disposition.UNPOWER).result(5)
    assert not conn.state.connected


def test_direct_connection_without_a_card(conn: PcscConnection) -> None:
    state = conn.connect(share=ShareMode.DIRECT).result(5)
    assert state.connected and state.protocol is Protocol.UNDEFINED and state.atr == b""


def test_queued_call_cancelled_is_never_sent(conn: PcscConnection, insert_card: CardFactory,
                                             readers: list[str]) -> None:
    gate = Gate()
    link = insert_card(readers[0], DEFAULT_ATR, gate)
    conn.connect().result(5)
    first = conn.send(bytes.fromhex("80EE0000"))
    assert gate.entered.wait(5)
    second = conn.send(bytes.fromhex("80EE0001"))
    assert second.cancel()
    gate.release.set()
    assert first.result(5).sw == 0x9000
    conn.send(bytes.fromhex("80EE0002")).result(5)
    assert link.card.received == [bytes.fromhex("80EE0000"), bytes.fromhex("80EE0002")]


def test_manager_shares_one_connection_per_reader(insert_card: CardFactory, readers: list[str]) -> None:
    insert_card(readers[0])
    changes: list[str] = []
    manager = ConnectionManager(PcscLink, on_change=changes.append)
    try:
        a = manager.open(readers[0])
        assert manager.open(readers[0]) is a and manager.readers() == [readers[0]]
        a.connect().result(5)
        assert changes == [readers[0]], "the monitor is not told about our own connect"
    finally:
        assert manager.close_all()
    with pytest.raises(ce.NotConnected, match="closed"):
        a.connect().result(5)


def test_session(insert_card: CardFactory, readers: list[str]) -> None:
    link = insert_card(readers[0], ATR_T0, chaining_card)
    with Session(readers[0]) as s:
        assert s.atr == ATR_T0 and s.protocol is Protocol.T0
        reply = s.send("00 B0 00 00 00")
        assert reply.data == LONG
        assert s.transmit(bytes.fromhex("00B2010400")).sw == 0x6C10
        with pytest.raises(ce.InvalidCommand, match="column 4"):
            s.send("00 Z4 00 00")
    assert len(link.card.received) == 5
    with pytest.raises(ce.NoCard):
        Session(readers[1])
    with pytest.raises(ce.UnknownReader):
        Session("No Such Reader 00 00")


def test_session_timeout_on_a_silent_card(insert_card: CardFactory, readers: list[str]) -> None:
    gate = Gate()
    insert_card(readers[0], DEFAULT_ATR, gate)
    s = Session(readers[0], timeout=0.3)
    try:
        with pytest.raises(ce.Timeout, match=r"no answer within 0\.3 s"):
            s.send("80 EE 00 00")
    finally:
        gate.release.set()
        s.close()


def test_wait_for_a_card_type(insert_card: CardFactory, readers: list[str]) -> None:
    insert_card(readers[1], ATR_T1)  # present, but not the type asked for
    waiter = CardWaiter(AtrCardType(ATR_T0), timeout=10)
    future = waiter.start()
    insert_card(readers[0], ATR_T0, wait=False)
    assert future.result(10) == (readers[0], ATR_T0)
    # already present counts unless new_only; a pattern type matches too
    assert wait_for_card(AtrPatternCardType("3B 80 01 .."), timeout=5) == (readers[1], ATR_T1)


def test_wait_for_a_card_times_out_and_cancels(readers: list[str]) -> None:
    with pytest.raises(ce.Timeout, match=r"within 0\.2 s"):
        wait_for_card(AtrCardType(ATR_T0), readers[:1], timeout=0.2)
    waiter = CardWaiter(AtrCardType(ATR_T0))
    future = waiter.start()
    t0 = time.monotonic()
    waiter.cancel()
    assert time.monotonic() - t0 < 1.0
    with pytest.raises(ce.Cancelled):
        future.result(1)


def test_wait_new_only_ignores_a_card_already_there(insert_card: CardFactory, readers: list[str]) -> None:
    link = insert_card(readers[0], ATR_T0)
    waiter = CardWaiter(AtrCardType(ATR_T0), readers[:1], timeout=0.5, new_only=True)
    with pytest.raises(ce.Timeout):
        waiter.wait()
    waiter = CardWaiter(AtrCardType(ATR_T0), readers[:1], timeout=10, new_only=True)
    future = waiter.start()
    link.remove()
    link.insert()
    assert future.result(10) == (readers[0], ATR_T0)


def test_inline_connection_belongs_to_its_thread(insert_card: CardFactory, readers: list[str]) -> None:
    link = insert_card(readers[0])
    conn = PcscConnection(readers[0], inline=True)
    try:
        assert conn.connect().result(0).connected  # done already: it ran on this thread
        assert conn.send(bytes.fromhex("80EE000000")).result(0).sw == 0x9000
        errors: list[BaseException | None] = []
        apdu = bytes.fromhex("80EE0000")
        other = threading.Thread(target=lambda: errors.append(conn.send(apdu).exception()))
        other.start()
        other.join()
        assert isinstance(errors[0], RuntimeError) and "only by the thread that opened it" in str(errors[0])
        assert not [t for t in threading.enumerate() if t.name.startswith("card-")], "inline needs no worker"
    finally:
        assert conn.close()
    assert len(link.card.received) == 1
