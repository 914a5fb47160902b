"""The virtual passport (explorer.virtual.bac_card) driven in-process by the terminal side
(explorer.core.bac, explorer.core.secure_messaging): ICAO 9303-11 Appendix D's exchanges answered
byte for byte, the files readable before BAC, BAC itself, a
20,000-byte data group read through secure messaging at offsets past 255 and by SFI, under T=0
and answered directly; a wrong MRZ, a plain command after BAC and a tampered MAC; the `bac`
profile key."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from explorer.core.bac import ACCESS_DENIED, BacError, BacTerminal
from explorer.core.mrz_digits import mrz_information
from explorer.core.secure_messaging import SecureChannel
from explorer.virtual.bac_card import BacPassport
from explorer.virtual.card_sources import CardSource, CardSourceError, SourceKind, load_card
from explorer.virtual.filesystem_card import FileSystemCard, profile_card
from explorer.virtual.profile import ProfileError, parse_profile

H = bytes.fromhex
MRZ = mrz_information("L898902C<", "690806", "940623")
EMRTD_AID = H("A0000002471001")
DG2 = bytes(i * 7 % 251 for i in range(20_000))
EF_COM = H("60145F0104303130365F36063034303030305C026175")
CARD_ACCESS = H("31143012060A04007F0007020204020202010202010D")


def passport_json(*, t0: bool = False, bac: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "format": "card-explorer-profile", "version": 1, "name": "Test passport", "atr": "3B 80 80 01 01",
        "t0": t0,
        "bac": bac or {"document_number": "L898902C<", "date_of_birth": "690806", "date_of_expiry": "940623"},
        "files": {"fid": "3F00", "type": "MF", "children": [
            {"fid": "011C", "type": "EF", "structure": "transparent", "sfi": 28,
             "content": CARD_ACCESS.hex()},
            {"fid": "7F00", "type": "DF", "name": EMRTD_AID.hex(), "children": [
                {"fid": "011E", "type": "EF", "structure": "transparent", "sfi": 30, "content": EF_COM.hex()},
                {"fid": "0102", "type": "EF", "structure": "transparent", "sfi": 2, "content": DG2.hex()},
            ]},
        ]},
    }


def fixed_random() -> Callable[[int], bytes]:
    counter = itertools.count(1)
    return lambda n: bytes((next(counter) * 37) & 0xFF for _ in range(n))


def passport(*, t0: bool = False) -> BacPassport:
    card = profile_card(parse_profile(passport_json(t0=t0)), random=fixed_random())
    assert isinstance(card, BacPassport)
    return card


def transmit(card: Callable[[bytes], bytes], apdu: bytes) -> bytes:
    """One command, 61xx followed with GET RESPONSE as the link's processor does."""
    answer = card(apdu)
    data = b""
    while answer[-2] == 0x61:
        data += answer[:-2]
        answer = card(bytes([0x00, 0xC0, 0x00, 0x00, answer[-1]]))
    return data + answer


def bac(card: Callable[[bytes], bytes], mrz: str = MRZ) -> SecureChannel:
    assert transmit(card, b"\x00\xa4\x04\x0c\x07" + EMRTD_AID)[-2:] == H("9000")
    challenge = transmit(card, H("0084000008"))
    assert challenge[-2:] == H("9000")
    terminal = BacTerminal(mrz, H("781723860C06C226"), H("0B795240CB7049B01C19B33E32804F0B"))
    data = terminal.authenticate_data(challenge[:-2])
    return terminal.channel(transmit(card, H("0082000028") + data + H("28")))


def protected(card: Callable[[bytes], bytes], channel: SecureChannel, plain: bytes) -> bytes:
    return channel.unwrap(transmit(card, channel.wrap(plain)))


def read_file(card: Callable[[bytes], bytes], channel: SecureChannel, size: int, chunk: int) -> bytes:
    out = b""
    while len(out) < size:
        n = min(chunk, size - len(out))
        offset = len(out)
        answer = protected(card, channel, bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, n & 0xFF]))
        assert answer[-2:] == H("9000"), (offset, answer[-2:].hex())
        out += answer[:-2]
    return out


@pytest.mark.parametrize("t0", [False, True])
@pytest.mark.parametrize("chunk", [0xDF, 256])
def test_bac_then_a_large_data_group_read_through_secure_messaging(t0: bool, chunk: int) -> None:
    card = passport(t0=t0)
    channel = bac(card)
    assert card.authenticated
    assert protected(card, channel, H("00A4020C020102")) == H("9000")
    assert read_file(card, channel, len(DG2), chunk) == DG2
    # The counter moved by two per exchange, in step on both sides (the last answer checked).
    assert protected(card, channel, H("00A4020C02011E")) == H("9000")


def test_the_virtual_passport_answers_appendix_d_byte_for_byte() -> None:
    # The card's randoms are the example's: RND.ICC, then K.ICC. EF.COM holds what D.4 reads.
    randoms = iter([H("4608F91988702212"), H("0B4F80323EB3191CB04970CB4052790B")])
    card = profile_card(parse_profile(passport_json()), random=lambda n: next(randoms))
    assert card(b"\x00\xa4\x04\x0c\x07" + EMRTD_AID) == H("9000")
    assert card(H("0084000008")) == H("4608F91988702212 9000")
    authenticate = H("0082000028 72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
                     "5F1448EEA8AD90A7 28")
    assert card(authenticate) == H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F"
                                   "2F2D235D074D7449 9000")
    assert card(H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")) == H(
        "990290008E08FA855A5D4C50A8ED 9000")
    assert card(H("0CB000000D9701048E08ED6705417E96BA5500")) == H(
        "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED 9000")
    assert card(H("0CB000040D9701128E082EA28A70F3C7B53500")) == H(
        "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D74 9000")


def test_a_protected_answer_longer_than_256_bytes_comes_in_pieces() -> None:
    card = passport()
    channel = bac(card)
    protected(card, channel, H("00A4020C020102"))
    first = card(channel.wrap(H("00B0000000")))
    # 256 data bytes: DO 87 of 265, DO 99, DO 8E = 283 bytes; Le 00 takes 256 of them.
    assert len(first) == 258 and first[-2:] == H("611B")
    rest = card(H("00C000001B"))
    assert channel.unwrap(first[:-2] + rest) == DG2[:256] + H("9000")


@pytest.mark.parametrize("t0", [False, True])
def test_the_file_system_cards_own_61xx_is_collected_inside_the_protected_answer(t0: bool) -> None:
    card = passport(t0=t0)
    channel = bac(card)
    # SELECT with P2 = 04 answers an FCP: under T=0 the file-system card announces it with 61xx.
    answer = protected(card, channel, H("00A4020402011E00"))
    assert answer[0] == 0x62 and answer[-2:] == H("9000")
    assert H("8302011E") in answer


def test_a_protected_command_before_bac_finds_no_session() -> None:
    card = passport()
    channel = SecureChannel(bytes(16), bytes(16), bytes(8))
    assert card(channel.wrap(H("00B09C0004"))) == H("6988")


def test_read_binary_by_sfi_through_secure_messaging() -> None:
    card = passport()
    channel = bac(card)
    # P1 = 80 | SFI 1E (EF.COM), offset 0 (9303-10 allows short EF identifiers).
    assert protected(card, channel, H("00B09E0004")) == EF_COM[:4] + H("9000")
    assert protected(card, channel, H("00B0000400")) == EF_COM[4:] + H("9000")


def test_before_bac_only_the_public_files_answer() -> None:
    card = passport()
    assert transmit(card, H("00B09C0000")) == CARD_ACCESS + H("9000")  # EF.CardAccess by SFI
    assert transmit(card, b"\x00\xa4\x04\x0c\x07" + EMRTD_AID) == H("9000")
    assert transmit(card, H("00A4020C02011E")) == H("6982")
    assert transmit(card, H("00B09E0004")) == H("6982")
    # Back to the MF, and its files answer again.
    assert transmit(card, H("00A4000C023F00")) == H("9000")
    assert transmit(card, H("00B09C0004")) == CARD_ACCESS[:4] + H("9000")


def test_a_wrong_mrz_is_access_denied() -> None:
    card = passport()
    with pytest.raises(BacError, match=f"^{ACCESS_DENIED}"):
        bac(card, mrz_information("L898902C<", "690806", "940624"))
    assert not card.authenticated
    # One try per challenge: EXTERNAL AUTHENTICATE again without GET CHALLENGE is refused.
    assert card(H("0082000028") + bytes(40) + H("28")) == H("6985")


def test_a_plain_command_after_bac_ends_the_session() -> None:
    card = passport()
    channel = bac(card)
    assert card(H("00A4020C02011E")) == H("6988")
    assert not card.authenticated
    # The LDS needs a new BAC: protected commands find no session, plain ones are refused.
    assert card(channel.wrap(H("00A4020C02011E"))) == H("6988")
    assert card(H("00B09E0004")) == H("6982")
    bac(card)
    assert card.authenticated


def test_a_tampered_mac_ends_the_session() -> None:
    card = passport()
    channel = bac(card)
    command = bytearray(channel.wrap(H("00A4020C02011E")))
    command[-3] ^= 0x01  # the last MAC byte, before Le
    assert card(bytes(command)) == H("6988")
    assert not card.authenticated


def test_a_reset_ends_the_session() -> None:
    card = passport()
    bac(card)
    card.reset()
    assert not card.authenticated


def test_a_profile_without_bac_is_a_plain_file_system_card() -> None:
    profile = passport_json()
    del profile["bac"]
    assert isinstance(profile_card(parse_profile(profile)), FileSystemCard)


def test_a_profile_file_with_bac_loads_as_a_passport(tmp_path: Path) -> None:
    file = tmp_path / "passport.json"
    file.write_text(json.dumps(passport_json()), encoding="utf-8")
    loaded = load_card(CardSource(SourceKind.PROFILE, str(file)))
    assert loaded.card.process(b"\x00\xa4\x04\x0c\x07" + EMRTD_AID) == H("9000")
    assert loaded.card.process(H("00A4020C02011E")) == H("6982")


@pytest.mark.parametrize(("bac_key", "message"), [
    ({"document_number": "L898902C<", "date_of_birth": "6908O6", "date_of_expiry": "940623"},
     "bac: date_of_birth must be 6 digits YYMMDD, found '6908O6'"),
    ({"document_number": "L89-902C", "date_of_birth": "690806", "date_of_expiry": "940623"},
     "bac: document_number 'L89-902C': character 4 ('-') is not 0-9, A-Z or <"),
    ({"document_number": "L898902C<", "date_of_birth": "690806"}, "bac: missing key 'date_of_expiry'"),
    ({"document_number": "L898902C<", "date_of_birth": "690806", "date_of_expiry": "940623", "can": "1"},
     "bac: unknown key 'can'"),
])
def test_a_bad_bac_key_is_named_with_its_json_path(bac_key: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(passport_json(bac=bac_key), "passport.json")
    assert str(caught.value).startswith(f"passport.json: {message}"), str(caught.value)


def test_a_bad_bac_profile_file_is_a_card_source_error(tmp_path: Path) -> None:
    file = tmp_path / "passport.json"
    file.write_text(json.dumps(passport_json(bac={"document_number": ""})), encoding="utf-8")
    with pytest.raises(CardSourceError, match=r"passport\.json: bac: missing key"):
        load_card(CardSource(SourceKind.PROFILE, str(file)))
