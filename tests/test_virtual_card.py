"""The virtual card over vpcd, seen through pyscard, and `card-explorer emulate`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from smartcard import scard

from explorer.virtual.card import DEFAULT_ATR, Rule, VirtualCard, rule_handler
from explorer.virtual.vpcd import VpcdLink
from tests.conftest import CardFactory, running, wait_reader
from tests.testbed import PcscBed

pytestmark = pytest.mark.pcsc


def transmit(reader: str, apdu: bytes) -> bytes:
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    hresult, card, proto = scard.SCardConnect(ctx, reader, scard.SCARD_SHARE_SHARED,
                                              scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
    try:
        hresult, response = scard.SCardTransmit(card, proto, list(apdu))
        assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
        return bytes(response)
    finally:
        scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
        scard.SCardReleaseContext(ctx)


def test_card_appears_with_its_atr_and_answers(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0])
    assert wait_reader(readers[0], present=True) == DEFAULT_ATR
    assert transmit(readers[0], bytes.fromhex("00A4040007A0000000041010")) == b"\x90\x00"
    assert transmit(readers[0], bytes.fromhex("80EE000003010203")) == b"\x01\x02\x03\x90\x00"
    challenge = transmit(readers[0], bytes.fromhex("0084000008"))
    assert len(challenge) == 10 and challenge[-2:] == b"\x90\x00"
    assert link.card.received[0] == bytes.fromhex("00A4040007A0000000041010")
    assert len(link.card.received) == 3


def test_rule_table_behaviour(readers: list[str], insert_card: CardFactory) -> None:
    handler = rule_handler([Rule(bytes.fromhex("00B0"), bytes.fromhex("CAFE9000"))],
                           default=b"\x6a\x82")
    insert_card(readers[1], bytes.fromhex("3B0214 50".replace(" ", "")), handler)
    assert transmit(readers[1], bytes.fromhex("00B0000002")) == bytes.fromhex("CAFE9000")
    assert transmit(readers[1], bytes.fromhex("00B2010400")) == b"\x6a\x82"


def test_removal_is_seen(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[2])
    link.remove()
    assert wait_reader(readers[2], present=False) == b""


def test_insert_without_vpcd_fails_clearly() -> None:
    link = VpcdLink(VirtualCard(), port=1)  # nothing listens on port 1
    with pytest.raises(OSError):
        link.insert(timeout=2)
    assert not link.inserted


def test_bad_atr_is_refused() -> None:
    with pytest.raises(ValueError, match="2 to 33 bytes"):
        VirtualCard(b"\x3b")


def test_emulate_command(readers: list[str], bed: PcscBed) -> None:
    reader = readers[3]
    with running([sys.executable, "-m", "explorer", "emulate", "--port", str(bed.port_of(reader)),
                  "--atr", "3B 02 14 50"]) as proc:
        assert wait_reader(reader, present=True, timeout=10) == bytes.fromhex("3B021450")
        assert proc.stdout is not None
        # emulate says "inserted" once it sees vpcd's connection, which may come after
        # pcscd shows the card: wait for the line (pytest's timeout is the deadline).
        while (line := proc.stdout.readline()) and line.strip() != "inserted":
            pass
        assert line.strip() == "inserted"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out.rstrip().endswith("removed")
    wait_reader(reader, present=False)


def test_emulate_rejects_bad_atr() -> None:
    result = subprocess.run([sys.executable, "-m", "explorer", "emulate", "--atr", "3B 0G"],
                            capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 2
    assert "'G' at column 5 is not a hex digit" in result.stderr
    assert "Traceback" not in result.stderr
