"""The virtual passport over the real stack: a BAC profile written here, served over vpcd (by
`card-explorer emulate`, and in-process), and BAC plus protected SELECT and READ BINARY sent
through pcscd by pyscard, so the wire path of secure messaging (case-4 protected commands,
answers longer than the commands) is proven."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from smartcard import scard

from explorer.core.bac import ACCESS_DENIED, BacError, BacTerminal
from explorer.core.mrz_digits import mrz_information
from explorer.core.secure_messaging import SecureChannel
from explorer.virtual.filesystem_card import profile_card
from explorer.virtual.profile import load_profile
from tests.conftest import CardFactory, running, wait_reader
from tests.testbed import PcscBed

pytestmark = pytest.mark.pcsc
H = bytes.fromhex
AID = H("A0000002471001")
MRZ_LINES = b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<" + b"L898902C<3UTO6908061F9406236ZE184226B<<<<<10"
DG1 = H("615B5F1F58") + MRZ_LINES
DG2 = bytes(i * 13 % 256 for i in range(3000))


def write_profile(folder: Path) -> Path:
    file = folder / "passport.json"
    file.write_text(json.dumps({
        "format": "card-explorer-profile", "version": 1, "name": "BAC test passport",
        "atr": "3B 80 80 01 01", "t0": False,
        "bac": {"document_number": "L898902C<", "date_of_birth": "690806", "date_of_expiry": "940623"},
        "files": {"fid": "3F00", "type": "MF", "children": [
            {"fid": "7F00", "type": "DF", "name": AID.hex(), "children": [
                {"fid": "0101", "type": "EF", "structure": "transparent", "sfi": 1, "content": DG1.hex()},
                {"fid": "0102", "type": "EF", "structure": "transparent", "sfi": 2, "content": DG2.hex()},
            ]}]}}), encoding="utf-8")
    return file


class Link:
    """One pyscard connection to the reader, 61xx followed with GET RESPONSE."""

    def __init__(self, reader: str) -> None:
        hresult, self.ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
        hresult, self.card, self.proto = scard.SCardConnect(
            self.ctx, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)

    def close(self) -> None:
        scard.SCardDisconnect(self.card, scard.SCARD_RESET_CARD)
        scard.SCardReleaseContext(self.ctx)

    def raw(self, apdu: bytes) -> bytes:
        hresult, response = scard.SCardTransmit(self.card, self.proto, list(apdu))
        assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
        return bytes(response)

    def send(self, apdu: bytes) -> bytes:
        answer, data = self.raw(apdu), b""
        while answer[-2] == 0x61:
            data += answer[:-2]
            answer = self.raw(bytes([0x00, 0xC0, 0x00, 0x00, answer[-1]]))
        return data + answer

    def bac(self, mrz: str) -> SecureChannel:
        assert self.send(b"\x00\xa4\x04\x0c\x07" + AID) == H("9000")
        challenge = self.send(H("0084000008"))
        terminal = BacTerminal(mrz, H("781723860C06C226"), H("0B795240CB7049B01C19B33E32804F0B"))
        data = terminal.authenticate_data(challenge[:-2])
        return terminal.channel(self.send(H("0082000028") + data + H("28")))


@pytest.fixture
def emulated(tmp_path: Path, readers: list[str], bed: PcscBed) -> Iterator[Link]:
    """The profile served by `card-explorer emulate FILE`, as a user runs it."""
    reader = readers[1]
    with running([sys.executable, "-m", "explorer", "emulate", str(write_profile(tmp_path)),
                  "--port", str(bed.port_of(reader))]):
        wait_reader(reader, present=True, timeout=10)
        opened = Link(reader)
        try:
            yield opened
        finally:
            opened.close()


@pytest.fixture
def link(tmp_path: Path, readers: list[str], insert_card: CardFactory) -> Iterator[Link]:
    profile = load_profile(write_profile(tmp_path))
    insert_card(readers[0], atr=profile.atr, handler=profile_card(profile))
    wait_reader(readers[0], present=True)
    opened = Link(readers[0])
    try:
        yield opened
    finally:
        opened.close()


def test_bac_and_protected_reads_through_pcscd(emulated: Link) -> None:
    link = emulated
    assert link.send(b"\x00\xa4\x04\x0c\x07" + AID) == H("9000")
    assert link.send(H("00B0810004")) == H("6982")  # DG1 by SFI: not before BAC
    channel = link.bac(mrz_information("L898902C<", "690806", "940623"))
    assert channel.unwrap(link.send(channel.wrap(H("00A4020C020101")))) == H("9000")
    assert channel.unwrap(link.send(channel.wrap(H("00B0000000")))) == DG1 + H("9000")
    read = b""
    while len(read) < len(DG2):  # by SFI first, then at offsets past 255
        apdu = H("00B08200DF") if not read else bytes([0x00, 0xB0, len(read) >> 8, len(read) & 0xFF, 0xDF])
        answer = channel.unwrap(link.send(channel.wrap(apdu)))
        assert answer[-2:] in (H("9000"), H("6282")), answer[-2:].hex()
        read += answer[:-2]
    assert read == DG2
    assert link.send(H("00A4020C020101")) == H("6988")  # plain after BAC: the session ends


def test_a_wrong_mrz_through_pcscd_is_access_denied(link: Link) -> None:
    with pytest.raises(BacError, match=f"^{ACCESS_DENIED}"):
        link.bac(mrz_information("L898902C<", "690806", "940624"))
