"""`card-explorer send` when things go wrong mid-stream, run as a user would against pcscd + vpcd.

The service killed or the card pulled while a stream of APDUs runs: each is a
race against where the stream happens to be (inside SCardTransmit, between two
calls, in pcscd's poll of the driver), so each is run several times, and every
run must tell the same story with the same exit code. Also: a raw-protocol
session leaves the card usable, and an endless 61xx chain is reported as cut
short, not as a success.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.core import card_errors as ce
from explorer.core.exchange import Exchange, LinkEvent, LinkEventKind
from explorer.core.link_modes import Disposition, Protocol
from explorer.pcsc.connection import PcscConnection
from explorer.pcsc.session import Session
from tests.conftest import CardFactory, wait_reader
from tests.testbed import PcscBed

pytestmark = pytest.mark.pcsc
CLI = [sys.executable, "-m", "explorer", "send"]
SELECT = "00 A4 04 00 00"
#: Long enough that the stream is still running when the test strikes (a few ms after APDU KICK).
STREAM = 20000
KICK = 50


class Counter:
    """A card answering 90 00 that signals its KICK-th command, and may hold that answer."""

    def __init__(self, *, hold: bool = False) -> None:
        self.kicked = threading.Event()
        self.release = threading.Event()
        self.hold = hold
        self.count = 0

    def __call__(self, apdu: bytes) -> bytes:
        self.count += 1
        if self.count == KICK:
            self.kicked.set()
            if self.hold:
                self.release.wait(20)
        return b"\x90\x00"


@pytest.fixture
def script() -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix="apdus-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(f"{SELECT}\n" * STREAM)
    yield Path(name)
    os.unlink(name)


def start_stream(reader: str, script: Path, out: Path) -> subprocess.Popen[bytes]:
    """`send -` fed from a file; stdout to a file, so a full pipe never holds the stream up."""
    with script.open("rb") as stdin, out.open("wb") as stdout:
        return subprocess.Popen([*CLI, "--reader", reader, "-"], stdin=stdin, stdout=stdout,
                                stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err.decode()


@pytest.mark.parametrize("hold", [False] * 8 + [True] * 3, ids=[f"streaming-{i}" for i in range(8)]
                         + [f"inside-transmit-{i}" for i in range(3)])
def test_service_killed_mid_stream_is_exit_3(bed: PcscBed, insert_card: CardFactory, readers: list[str],
                                             script: Path, tmp_path: Path, hold: bool) -> None:
    card = Counter(hold=hold)
    insert_card(readers[0], handler=card)
    proc = start_stream(readers[0], script, tmp_path / "out.txt")
    try:
        assert card.kicked.wait(30), "the stream never reached the card"
        bed.kill()
    finally:
        card.release.set()
    code, err = finish(proc)
    assert (code, err) == (3, f"card-explorer: {readers[0]}: the PC/SC service went away "
                              "(pcscd stopped or crashed)\n")
    assert KICK <= card.count < STREAM


@pytest.mark.parametrize("run", range(8))
def test_service_killed_under_back_to_back_transmits(bed: PcscBed, insert_card: CardFactory,
                                                     readers: list[str], run: int) -> None:
    """No CLI around the calls: the kill lands inside SCardTransmit most of the time, where pcsc-lite
    answers "Access denied" in about 3 runs of 8."""
    card = Counter()
    insert_card(readers[0], handler=card)
    errors: list[ce.CardError] = []

    def stream() -> None:
        with Session(readers[0]) as session:  # inline: the calls run on this thread, back to back
            try:
                while True:
                    session.send(b"\x00\xA4\x04\x00\x00")
            except ce.CardError as exc:
                errors.append(exc)

    sender = threading.Thread(target=stream)
    sender.start()
    try:
        assert card.kicked.wait(30), "the stream never reached the card"
        bed.kill()
    finally:
        sender.join(30)
    assert len(errors) == 1, "the stream did not stop"
    assert isinstance(errors[0], ce.ServiceGone), errors[0].detail
    assert errors[0].sentence == "the PC/SC service went away (pcscd stopped or crashed)", errors[0].detail


def test_service_restarted_between_two_commands_says_so(bed: PcscBed, insert_card: CardFactory,
                                                        readers: list[str]) -> None:
    insert_card(readers[0], reconnect=True)  # the card comes back by itself with the new pcscd
    conn = PcscConnection(readers[0])
    try:
        conn.connect().result(5)
        bed.kill()
        bed.start()
        wait_reader(readers[0], present=True)
        with pytest.raises(ce.ServiceGone) as err:
            conn.send(bytes.fromhex("00A4040000")).result(5)
        assert err.value.sentence == "the PC/SC service restarted, which ended this connection: connect again"
        assert not conn.state.connected
        assert conn.connect().result(5).connected  # and connecting again works
        assert conn.send(bytes.fromhex("00A4040000")).result(5).sw == 0x9000
    finally:
        assert conn.close()


@pytest.mark.parametrize("hold", [False] * 8 + [True] * 3, ids=[f"streaming-{i}" for i in range(8)]
                         + [f"inside-transmit-{i}" for i in range(3)])
def test_card_pulled_mid_stream_is_removed(insert_card: CardFactory, readers: list[str], script: Path,
                                           tmp_path: Path, hold: bool) -> None:
    card = Counter(hold=hold)
    link = insert_card(readers[0], handler=card)
    proc = start_stream(readers[0], script, tmp_path / "out.txt")
    # remove() joins the card's thread, which a held answer keeps busy: pull from another thread.
    remover = threading.Thread(target=link.remove)
    try:
        assert card.kicked.wait(30), "the stream never reached the card"
        remover.start()
        code, err = finish(proc)
    finally:
        card.release.set()
        if remover.ident is not None:
            remover.join()
    assert (code, err) == (4, f"card-explorer: {readers[0]}: the card was removed\n")
    assert KICK <= card.count < STREAM


def test_raw_protocol_session_leaves_the_card_usable(insert_card: CardFactory, readers: list[str]) -> None:
    link = insert_card(readers[0])
    for args, protocol in ([("--protocol", "raw"), "raw"], [(), "T=1"], [("--protocol", "raw"), "raw"],
                           [("--protocol", "T=1"), "T=1"]):
        result = subprocess.run([*CLI, "--reader", readers[0], *args, SELECT], capture_output=True,
                                text=True, timeout=60)
        assert (result.returncode, result.stderr) == (0, ""), (args, result.stderr)
        assert result.stdout.startswith(f"# {readers[0]}  {protocol} shared  ATR ")
    assert len(link.card.received) == 4


def test_ctrl_c_during_a_raw_stream_leaves_the_card_usable(insert_card: CardFactory, readers: list[str],
                                                           script: Path, tmp_path: Path) -> None:
    card = Counter()
    insert_card(readers[0], handler=card)
    with script.open("rb") as stdin, (tmp_path / "out.txt").open("wb") as stdout:
        proc = subprocess.Popen([*CLI, "--reader", readers[0], "--protocol", "raw", "-"], stdin=stdin,
                                stdout=stdout, stderr=subprocess.PIPE)
    assert card.kicked.wait(30), "the stream never reached the card"
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert (code, err) == (130, "")
    assert card.count < STREAM
    # pcscd would keep a card its client left in raw that way (measured: it does, for a client that
    # dies connected): the session reset it on the way out.
    result = subprocess.run([*CLI, "--reader", readers[0], SELECT], capture_output=True, text=True,
                            timeout=60)
    assert (result.returncode, result.stderr) == (0, "")


def test_raw_session_reset_on_disconnect_is_in_the_trace(insert_card: CardFactory,
                                                         readers: list[str]) -> None:
    insert_card(readers[0])
    records: list[Exchange | LinkEvent] = []
    conn = PcscConnection(readers[0], records.append)
    try:
        assert conn.connect(Protocol.RAW).result(5).protocol is Protocol.RAW
        conn.disconnect(Disposition.LEAVE).result(5)
        # What the GUI console does next: connect with the ATR's protocols.
        assert conn.connect(Protocol.ANY).result(5).protocol is Protocol.T1
        assert conn.send(bytes.fromhex("00A4040000")).result(5).sw == 0x9000
        conn.disconnect(Disposition.LEAVE).result(5)
    finally:
        assert conn.close()
    ends = [r.detail for r in records if isinstance(r, LinkEvent) and r.kind is LinkEventKind.DISCONNECTED]
    assert ends == ["leave; reset instead: a raw-protocol connection fixes the card's protocol until the "
                    "card is reset", "leave"]


def test_protocol_held_by_another_program_says_how_to_recover(insert_card: CardFactory,
                                                              readers: list[str]) -> None:
    insert_card(readers[0])
    holder = PcscConnection(readers[0])
    try:
        holder.connect(Protocol.RAW).result(5)  # another program, still connected in raw
        result = subprocess.run([*CLI, "--reader", readers[0], SELECT], capture_output=True, text=True,
                                timeout=60)
    finally:
        assert holder.close()
    assert result.returncode == 4
    assert result.stderr == (
        f"card-explorer: {readers[0]}: the card offers T=0 and T=1 but an earlier connection fixed its "
        "protocol (raw does, until the card is reset): reset the card (connect with raw, disconnect with "
        "reset) or remove and reinsert it\n")


def test_a_raw_connection_elsewhere_is_named_on_the_next_transmit(insert_card: CardFactory,
                                                                 readers: list[str]) -> None:
    insert_card(readers[0])
    conn = PcscConnection(readers[0])
    raw = PcscConnection(readers[0])
    try:
        conn.connect().result(5)
        raw.connect(Protocol.RAW).result(5)
        with pytest.raises(ce.ProtocolMismatch, match="another connection switched the card to another "
                                                      "protocol"):
            conn.send(bytes.fromhex("00A4040000")).result(5)
        raw.disconnect().result(5)  # with a reset, as it was in raw
        with pytest.raises(ce.CardReset):
            conn.send(bytes.fromhex("00A4040000")).result(5)
        assert conn.reconnect().result(5).protocol is Protocol.T1
        assert conn.send(bytes.fromhex("00A4040000")).result(5).sw == 0x9000
    finally:
        assert raw.close() and conn.close()


def test_protocol_the_atr_does_not_offer_is_named(insert_card: CardFactory, readers: list[str]) -> None:
    insert_card(readers[0], atr=bytes.fromhex("3B021450"))  # no TD1: T=0 only
    result = subprocess.run([*CLI, "--reader", readers[0], "--protocol", "T=1", SELECT], capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stderr) == (
        4, f"card-explorer: {readers[0]}: the card does not offer T=1 (its ATR offers T=0)\n")


def endless_61(apdu: bytes) -> bytes:
    """Every command, GET RESPONSE included, gets one byte and 61 01: more, forever."""
    return b"\xAA\x61\x01"


def test_endless_61xx_chain_stops_at_the_cap_and_fails(insert_card: CardFactory, readers: list[str]) -> None:
    link = insert_card(readers[0], handler=endless_61)
    result = subprocess.run([*CLI, "--reader", readers[0], "00 B0 00 00 00", SELECT], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 4, result.stderr
    assert result.stderr == (
        f"card-explorer: {readers[0]}: stopped after 1024 GET RESPONSE exchanges and the card still "
        "answers 61 01 (more data): the response is incomplete\n")
    assert len(link.card.received) == 1 + 1024  # and the SELECT after it was not sent
    assert result.stdout.count("[get response]") == 1024
    assert "final SW" not in result.stdout


def test_endless_61xx_chain_recorded_in_the_trace(insert_card: CardFactory, readers: list[str]) -> None:
    insert_card(readers[0], handler=endless_61)
    records: list[Exchange | LinkEvent] = []
    conn = PcscConnection(readers[0], records.append)
    try:
        conn.connect().result(5)
        with pytest.raises(ce.StepLimit) as err:
            conn.send(bytes.fromhex("00B0000000")).result(30)
    finally:
        assert conn.close()
    assert len(err.value.exchanges) == 1025
    assert err.value.reply is not None and len(err.value.reply.data) == 1025
    stop = records[records.index(err.value.exchanges[-1]) + 1]  # right after the last step
    assert isinstance(stop, LinkEvent) and stop.kind is LinkEventKind.STEPS_STOPPED
    assert stop.detail == err.value.sentence
