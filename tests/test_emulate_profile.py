"""The demo profile through vpcd: seen by pcsc_scan, and answering the
file-system commands through pyscard as specified (T=0: 61xx then GET
RESPONSE, 6Cxx on a wrong Le)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from smartcard.CardConnection import CardConnection
from smartcard.System import readers as pyscard_readers

from explorer.core.tlv import decode_tlv
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import demo_profile
from tests.conftest import CardFactory, wait_reader

ROOT = Path(__file__).resolve().parent.parent
APP_AID = bytes.fromhex("F043415244455850")
PIN = bytes.fromhex("31323334FFFFFFFF")

pytestmark = pytest.mark.pcsc


@pytest.fixture
def card(readers: list[str], insert_card: CardFactory) -> Iterator[CardConnection]:
    profile = demo_profile()
    insert_card(readers[0], atr=profile.atr, handler=FileSystemCard(profile))
    reader = next(r for r in pyscard_readers() if str(r) == readers[0])
    connection = reader.createConnection()
    connection.connect(CardConnection.T0_protocol)
    yield connection
    connection.disconnect()
    # Its own context, released now: at exit pcscd is gone and __del__ would complain.
    connection.release()


def send(c: CardConnection, apdu: str | bytes) -> tuple[bytes, int]:
    raw = bytes.fromhex(apdu) if isinstance(apdu, str) else apdu
    data, sw1, sw2 = c.transmit(list(raw))
    return bytes(data), sw1 << 8 | sw2


def test_select_read_and_t0_get_response(card: CardConnection) -> None:
    assert bytes(card.getATR()) == demo_profile().atr
    data, sw = send(card, b"\x00\xa4\x04\x00\x08" + APP_AID)
    assert data == b"" and sw >> 8 == 0x61  # T=0: the FCI waits for GET RESPONSE
    fci, sw = send(card, bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
    assert sw == 0x9000
    tree = decode_tlv(fci)
    assert tree.error is None and tree.nodes[0].tag == 0x6F
    assert any(n.tag == 0x84 and n.value == APP_AID for n in tree.nodes[0].children)
    # A wrong Le is told the right one, as a T=0 card does.
    _, sw = send(card, "00 A4 02 0C 02 01 01")
    assert sw == 0x9000
    assert send(card, "00 B0 00 00 05") == (b"Hello", 0x9000)
    _, sw = send(card, "00 B0 00 00 FF")  # more than the file holds
    assert sw >> 8 == 0x6C
    text, sw = send(card, bytes([0x00, 0xB0, 0x00, 0x00, sw & 0xFF]))
    assert sw == 0x9000 and text.startswith(b"Hello from the Card Explorer demo card")


def test_records_pin_and_data_objects(card: CardConnection) -> None:
    send(card, b"\x00\xa4\x04\x0c\x08" + APP_AID)
    record, sw = send(card, "00 B2 01 14 00")  # record 1 of the EF with SFI 2
    assert sw == 0x9000 and record[:1] == b"\x70" and b"DEMO/CARD HOLDER" in record
    _, sw = send(card, "00 A4 02 0C 02 01 03")
    assert sw == 0x9000
    _, sw = send(card, "00 B0 00 00 00")
    assert sw == 0x6982  # the secret file needs PIN 81
    _, sw = send(card, "00 20 00 81 08 31 32 33 35 FF FF FF FF")
    assert sw == 0x63C2
    _, sw = send(card, b"\x00\x20\x00\x81\x08" + PIN)
    assert sw == 0x9000
    secret, sw = send(card, "00 B0 00 00 00")
    assert sw == 0x9000 and secret.startswith(b"Secret: you have verified PIN 81.")
    challenge, sw = send(card, "00 84 00 00 08")
    assert sw == 0x9000 and len(challenge) == 8
    cplc, sw = send(card, "00 CA 9F 7F 00")
    assert sw == 0x9000 and cplc[:3] == b"\x9f\x7f\x2a" and len(cplc) == 45
    _, sw = send(card, "00 CA 12 34 00")
    assert sw == 0x6A88


def test_cli_emulate_demo_is_seen_by_pcsc_scan(readers: list[str], bed: object) -> None:
    from tests.testbed import PcscBed

    assert isinstance(bed, PcscBed)
    reader = readers[1]
    emulate = subprocess.Popen([sys.executable, "-m", "explorer", "emulate", "demo",
                                "--port", str(bed.port_of(reader))],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        atr = wait_reader(reader, present=True, timeout=10)
        assert atr == demo_profile().atr
        scan = subprocess.run(["pcsc_scan", "-c", "-t", "2"], capture_output=True, text=True, timeout=30)
        assert reader in scan.stdout
        assert "3B 8E 80 01 80 31 C0 73 F6 01 00 56 43 45 44 65 6D 6F 89" in scan.stdout
    finally:
        emulate.terminate()
        out, err = emulate.communicate(timeout=10)
    assert emulate.returncode == 0, err
    assert "profile" in out and "removed" in out
    wait_reader(reader, present=False)
