"""The OpenPGP test card: the committed profile is what tests/profiles/make_openpgp.py makes, and
the virtual card serves it as the OpenPGP card specification 3.4 says — GET DATA of templates with
their tag and of simple DOs without, GENERATE ASYMMETRIC KEY PAIR only in read mode, VERIFY
without data giving the tries left, the PW status bytes following the retry counters, answers
over 256 bytes through 61xx and GET RESPONSE — and bad `openpgp` profile keys named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from explorer.assets import asset_path
from explorer.core.tlv import decode_tlv
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import ProfileError, load_profile, parse_profile
from tests.profiles import make_openpgp

PROFILE = asset_path("cards", "openpgp.json")


def test_the_committed_profile_is_what_the_script_makes() -> None:
    assert PROFILE.read_text(encoding="utf-8") == make_openpgp.render()


@pytest.fixture
def card() -> FileSystemCard:
    card = FileSystemCard(load_profile(PROFILE))
    assert card(bytes.fromhex("00A4040006D2760001240100"))[-2:] == b"\x90\x00"
    return card


def send(card: FileSystemCard, hex_apdu: str) -> tuple[bytes, int]:
    """The whole answer (GET RESPONSE after 61xx, as a reader's driver does) and the last SW."""
    out = card(bytes.fromhex(hex_apdu))
    data = out[:-2]
    while out[-2] == 0x61:
        out = card(bytes([0x00, 0xC0, 0x00, 0x00, out[-1]]))
        data += out[:-2]
    return data, int.from_bytes(out[-2:], "big")


def test_select_answers_the_full_aid(card: FileSystemCard) -> None:
    out = card(bytes.fromhex("00A4040006D2760001240100"))
    assert out == bytes.fromhex("6F12 8410 D276000124010304FFFF123456780000 9000".replace(" ", ""))


def test_get_data_templates_with_their_tag_simple_dos_without(card: FileSystemCard) -> None:
    app, sw = send(card, "00CA006E00")
    assert sw == 0x9000 and app[0] == 0x6E
    (node,) = decode_tlv(app).nodes
    assert node.end == len(app)
    holder, _ = send(card, "00CA006500")
    assert holder.startswith(b"\x65") and b"Tester<<Alice<Jane" in holder
    assert send(card, "00CA007A00") == (bytes.fromhex("7A05930300002A"), 0x9000)
    assert send(card, "00CA005E00") == (b"alice", 0x9000)
    assert send(card, "00CA5F5000") == (b"https://keys.example.org/alice.asc", 0x9000)
    # Inside 6E, and readable alone: the AID, the historical bytes, the PW status bytes.
    assert send(card, "00CA004F00") == (bytes.fromhex("D276000124010304FFFF123456780000"), 0x9000)
    assert send(card, "00CA5F5200") == (bytes.fromhex("0031C573C00100059000"), 0x9000)
    assert send(card, "00CA00C400") == (bytes.fromhex("017F7F7F030003"), 0x9000)
    # The algorithm information is a template: with its tag.
    choices, status = send(card, "00CA00FA00")
    assert status == 0x9000 and choices[0] == 0xFA and choices[2:4] == bytes.fromhex("C106")
    # Optional DOs this card has not: 6A 88 (OpenSC asks for 0101 and 0102).
    for tag in ("0101", "0102", "00F9", "7F66"):
        assert send(card, f"00CA{tag}00") == (b"", 0x6A88), tag


def test_the_certificate_and_the_rsa_key_need_get_response(card: FileSystemCard) -> None:
    first = card(bytes.fromhex("00CA7F2100"))
    assert len(first) == 258 and first[-2] == 0x61  # 256 bytes, then 61xx for the rest
    cert, sw = send(card, "00CA7F2100")
    assert sw == 0x9000 and cert[:2] == b"\x30\x82" and len(cert) == 4 + int.from_bytes(cert[2:4], "big")
    key, sw = send(card, "0047810002B60000")
    assert sw == 0x9000 and key[:2] == b"\x7f\x49" and len(key) == 270
    (template,) = decode_tlv(key).nodes
    assert [(c.tag, c.length) for c in template.children] == [(0x81, 256), (0x82, 3)]
    for crt in ("B8", "A4"):
        key, sw = send(card, f"00478100 02{crt}00 00".replace(" ", ""))
        assert sw == 0x9000 and key[:5] == bytes.fromhex("7F49228620"), crt


def test_generate_never_makes_a_key(card: FileSystemCard) -> None:
    before, _ = send(card, "0047810002B60000")
    assert card(bytes.fromhex("0047800002B60000")) == b"\x69\x82"  # needs PW3
    assert card(bytes.fromhex("0047820002B60000")) == b"\x6a\x86"
    assert card(bytes.fromhex("0047810002B70000")) == b"\x6a\x80"
    assert send(card, "0047810002B60000")[0] == before


def test_an_empty_verify_gives_the_tries_and_the_pw_status_follows(card: FileSystemCard) -> None:
    for reference in ("81", "82", "83"):
        assert card(bytes.fromhex(f"002000{reference}")) == b"\x63\xc3", reference
    assert card(bytes.fromhex("0020008106313131313131")) == b"\x63\xc2"  # a wrong PW1
    assert card(bytes.fromhex("00200081")) == b"\x63\xc2"
    status, _ = send(card, "00CA00C400")
    assert status[4] == 2 and status[6] == 3
    app, _ = send(card, "00CA006E00")
    assert bytes.fromhex("C407017F7F7F020003") in app
    # The right PW1 resets the counter; a query then says verified.
    assert card(bytes.fromhex("0020008106313233343536")) == b"\x90\x00"
    assert card(bytes.fromhex("00200081")) == b"\x90\x00"
    assert send(card, "00CA00C400")[0][4] == 3


def test_a_card_without_openpgp_knows_no_generate() -> None:
    demo = FileSystemCard(load_profile(asset_path("cards", "demo.json")))
    assert demo(bytes.fromhex("0047810002B60000")) == b"\x6d\x00"


def _profile(openpgp: Any) -> dict[str, Any]:
    base = json.loads(PROFILE.read_text(encoding="utf-8"))
    base["openpgp"] = openpgp
    return base  # type: ignore[no-any-return]


@pytest.mark.parametrize(("openpgp", "message"), [
    ({"keys": {}}, "openpgp: unknown key 'keys' (expected one of data_objects, public_keys)"),
    ({"data_objects": {"6E": "4F"}}, "openpgp.data_objects['6E']: template 6E is not BER-TLV"),
    ({"data_objects": {"5F": "00"}}, "openpgp.data_objects['5F']: the tag must be"),
    ({"data_objects": {"5E": "zz"}}, "openpgp.data_objects['5E']: the value is not hex"),
    ({"public_keys": {"B7": "7F490100"}}, "openpgp.public_keys['B7']: the key must be B6"),
    ({"public_keys": {"B6": "810100"}}, "openpgp.public_keys['B6']: a public key must be one 7F49"),
    ([], "openpgp: expected an object, found a list"),
])
def test_bad_openpgp_keys_are_named(openpgp: Any, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(_profile(openpgp), "openpgp.json")
    assert str(caught.value).startswith("openpgp.json: " + message), str(caught.value)


def test_select_data_chooses_the_certificate(card: FileSystemCard) -> None:
    first, _ = send(card, "00CA7F2100")
    assert card(bytes.fromhex("00A501040660045C027F21")) == b"\x90\x00"
    assert send(card, "00CA7F2100") == (b"", 0x9000)  # the decryption key's: not written
    assert card(bytes.fromhex("00A503040660045C027F21")) == b"\x6a\x88"
    assert card(bytes.fromhex("00A500050660045C027F21")) == b"\x6a\x86"
    assert card(bytes.fromhex("00A50004066004 5C025F50".replace(" ", ""))) == b"\x6a\x80"
    # Selecting the application again goes back to the first occurrence.
    assert card(bytes.fromhex("00A4040006D2760001240100"))[-2:] == b"\x90\x00"
    assert send(card, "00CA7F2100") == (first, 0x9000)
