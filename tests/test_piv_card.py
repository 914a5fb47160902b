"""The virtual card's PIV side, driven with bytes (no PC/SC): GET DATA with a tag list (INS CB),
answers past 256 bytes through 61xx and GET RESPONSE, VERIFY without data; the profile keys it
needs (3-byte data object tags, a SELECT answered with an application property template); and
resources/cards/piv.json being exactly what tests/profiles/make_piv.py makes."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from explorer.core.tlv import decode_tlv
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import ProfileError, load_profile, parse_profile

ROOT = Path(__file__).resolve().parent.parent
PIV = ROOT / "resources" / "cards" / "piv.json"
MAKER = ROOT / "tests" / "profiles" / "make_piv.py"
PROFILE = load_profile(PIV)


def card(t0: bool = False) -> FileSystemCard:
    return FileSystemCard(dataclasses.replace(PROFILE, t0=t0))


def send(c: FileSystemCard, apdu: str) -> tuple[bytes, int]:
    response = c(bytes.fromhex(apdu.replace(" ", "")))
    return response[:-2], int.from_bytes(response[-2:], "big")


def fetch(c: FileSystemCard, apdu: str) -> tuple[bytes, int, int]:
    """Data after 61xx and GET RESPONSE, the last status word, and how many GET RESPONSEs."""
    data, status = send(c, apdu)
    count = 0
    while status >> 8 == 0x61:
        more, status = send(c, f"00C00000{status & 0xFF:02X}")
        data += more
        count += 1
    return data, status, count


def maker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_piv", MAKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_profile_is_what_the_script_makes() -> None:
    assert PIV.read_text(encoding="utf-8") == maker().build()


def test_select_by_the_partial_aid_answers_the_application_property_template() -> None:
    c = card()
    data, status = send(c, "00 A4 04 00 05 A0 00 00 03 08 00")
    assert status == 0x9000
    (apt,) = decode_tlv(data).nodes
    assert apt.tag == 0x61
    assert [n.tag for n in apt.children] == [0x4F, 0x79, 0x50, 0xAC]
    assert apt.children[0].value == bytes.fromhex("000010000100")


def test_get_data_by_tag_list_wraps_5fc1xx_in_53_and_answers_7e_as_itself() -> None:
    c = card()
    objects = {o.tag: o.value for o in PROFILE.data_objects}
    data, status, _ = fetch(c, "00 CB 3F FF 05 5C 03 5F C1 02 00")  # the signed CHUID: over 256 bytes
    assert status == 0x9000
    (outer,) = decode_tlv(data).nodes
    assert outer.tag == 0x53 and outer.value == objects[0x5FC102]
    data, status = send(c, "00 CB 3F FF 03 5C 01 7E 00")
    assert status == 0x9000 and data == bytes([0x7E, len(objects[0x7E])]) + objects[0x7E]


@pytest.mark.parametrize("t0", [False, True])
def test_a_certificate_comes_out_in_61xx_chunks(t0: bool) -> None:
    c = card(t0)
    value = next(o.value for o in PROFILE.data_objects if o.tag == 0x5FC105)
    assert len(value) > 256
    data, status, steps = fetch(c, "00 CB 3F FF 05 5C 03 5F C1 05 00")
    assert status == 0x9000 and data == b"\x53\x82" + len(value).to_bytes(2, "big") + value
    # Direct: 256 bytes with the command, the rest in GET RESPONSEs of up to 256; T=0: all of it.
    assert steps == (len(data) - 1) // 256 + (1 if t0 else 0)


def test_a_short_le_gets_that_much_and_61xx_for_the_rest() -> None:
    # OpenSC asks for 8 bytes first to learn the length; a real card answers them and 61xx.
    c = card()
    data, status = send(c, "00 CB 3F FF 03 5C 01 7E 08")
    assert len(data) == 8 and status == 0x6100 | 0x14 - 8


@pytest.mark.parametrize(("apdu", "status"), [
    ("00 CB 3F FF 05 5C 03 5F C1 7F 00", 0x6A82),  # no such object
    ("00 CB 00 00 05 5C 03 5F C1 02 00", 0x6A86),  # P1-P2 must be 3F FF
    ("00 CB 3F FF 05 5D 03 5F C1 02 00", 0x6A80),  # not a tag list
    ("00 CB 3F FF 05 5C 04 5F C1 02 00", 0x6A80),  # the list's length is wrong
    ("00 CB 3F FF 06 5C 04 5F C1 02 01 00", 0x6A80),  # a tag longer than 3 bytes
    ("00 CB 3F FF 00", 0x6A80),  # no data
])
def test_get_data_errors(apdu: str, status: int) -> None:
    assert send(card(), apdu)[1] == status


def test_the_empty_verify_says_the_tries_and_spends_none() -> None:
    c = card()
    assert send(c, "00 20 00 80")[1] == 0x63C3
    assert send(c, "00 20 00 81")[1] == 0x63C3
    assert send(c, "00 20 00 80 08 31 32 33 34 35 37 FF FF")[1] == 0x63C2  # a wrong PIN spends one
    assert send(c, "00 20 00 80")[1] == 0x63C2
    assert send(c, "00 20 00 80 08 31 32 33 34 35 36 FF FF")[1] == 0x9000
    assert send(c, "00 20 00 80")[1] == 0x9000  # verified
    assert c.tries_left(0x80) == 3 and c.tries_left(0x81) == 3


def _json() -> dict[str, Any]:
    return json.loads(PIV.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(("tag", "message"), [
    ("5FC1020A", "the tag must be a BER-TLV tag of 1 or 2 bytes"),
    ("5F4102", "the tag must be a BER-TLV tag"),  # the second byte ends the tag: 3 bytes are too many
    ("5FC182", "the tag must be a BER-TLV tag"),  # the last byte says more follow
])
def test_data_object_tags_of_3_bytes_must_be_ber_tags(tag: str, message: str) -> None:
    obj = _json()
    obj["data_objects"][tag] = "00"
    with pytest.raises(ProfileError, match=message):
        parse_profile(obj, "piv.json")


def test_a_select_template_is_an_fci_or_an_application_property_template() -> None:
    obj = _json()
    obj["files"]["children"][0]["fci"] = "62 03 4F 01 00"
    with pytest.raises(ProfileError, match=r"one FCI template \(6F\) and nothing after it \(or one "
                                           r"application property template \(61\)"):
        parse_profile(obj, "piv.json")


def test_a_captured_piv_card_analyzes_the_same(tmp_path: Path) -> None:
    """`analyze --capture` keeps what PIV's GET DATA (INS CB) read, the application property
    template SELECT answered, and the PINs' tries left; emulated, it reads the same."""
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}

    def analyze(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "explorer", "analyze", "--json", "--only", "piv", *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    captured = tmp_path / "captured.json"
    first = analyze("--profile", str(PIV), "--capture", str(captured))
    assert first.returncode == 0, first.stderr
    again = load_profile(captured)
    assert not again.t0  # the card answered directly, data with its 61xx
    assert {o.tag: o.value for o in again.data_objects} == {o.tag: o.value for o in PROFILE.data_objects}
    assert [(p.reference, p.tries) for p in again.pins] == [(0x80, 3), (0x81, 3)]
    assert "PIN 80: its value was not read (VERIFY without data only said its tries left)" in first.stderr
    second = analyze("--profile", str(captured))
    assert second.returncode == 0, second.stderr
    before, after = json.loads(first.stdout), json.loads(second.stdout)
    assert after["analyzers"] == before["analyzers"]
    assert after["exchanges"] == before["exchanges"]
