"""FileSystemCard and card profiles, driven with bytes: no PC/SC."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.atr import decode_atr
from explorer.core.tlv import TlvNode, decode_tlv
from explorer.virtual.card import VirtualCard
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import (
    CardProfile,
    ProfileError,
    Structure,
    demo_profile,
    demo_profile_path,
    load_profile,
    parse_profile,
)

DEMO = demo_profile()
APP_AID = "F043415244455850"
LOYALTY_AID = "F04341524445585002"
PIN_OK = "0831323334FFFFFFFF"  # Lc and value of PIN 81
PIN_BAD = "0831323335FFFFFFFF"


def make_card(t0: bool = True, profile: CardProfile = DEMO) -> FileSystemCard:
    # A counting "random" source makes GET CHALLENGE checkable.
    return FileSystemCard(dataclasses.replace(profile, t0=t0), random=lambda n: bytes(range(n)))


def send(card: FileSystemCard, apdu: str) -> tuple[bytes, int]:
    response = card(bytes.fromhex(apdu.replace(" ", "")))
    assert len(response) >= 2
    return response[:-2], int.from_bytes(response[-2:], "big")


def sw(card: FileSystemCard, apdu: str) -> int:
    return send(card, apdu)[1]


def fetch(card: FileSystemCard, apdu: str) -> tuple[bytes, int]:
    """What an application sees after following 61xx with GET RESPONSE."""
    data, status = send(card, apdu)
    while status >> 8 == 0x61:
        more, status = send(card, f"00C00000{status & 0xFF:02X}")
        data += more
    return data, status


def objects(data: bytes, template: int) -> dict[int, TlvNode]:
    result = decode_tlv(data)
    assert result.error is None and len(result.nodes) == 1
    assert result.nodes[0].tag == template and result.nodes[0].end == len(data)
    return {node.tag: node for node in result.nodes[0].children}


# -- the demo profile ------------------------------------------------------------------

def test_demo_profile_loads_and_its_atr_is_clean() -> None:
    assert demo_profile_path().is_file()
    atr = decode_atr(DEMO.atr)
    assert atr.findings == ()
    assert atr.protocols == (0, 1) and atr.tck_ok
    assert DEMO.t0 and DEMO.mf.fid == 0x3F00 and make_card().atr == DEMO.atr
    assert [child.fid for child in DEMO.mf.children] == [0x2F00, 0x2F01, 0x2FE2, 0x1000, 0x2000]
    assert VirtualCard(DEMO.atr, make_card()).process(bytes.fromhex("00A4000C023F00")) == b"\x90\x00"


def test_ef_dir_lists_the_applications() -> None:
    card = make_card()
    assert sw(card, "00A4000C023F00") == 0x9000
    labels = {}
    for number in (1, 2):
        record, status = send(card, f"00B2{number:02X}F41E")  # SFI 30, record number P1
        assert status == 0x9000 and len(record) == 30
        template = objects(record.rstrip(b"\xff"), 0x61)
        labels[template[0x4F].value.hex().upper()] = template[0x50].value.decode()
    assert labels == {APP_AID: "Demo application", LOYALTY_AID: "Demo loyalty"}


# -- SELECT ---------------------------------------------------------------------------

def test_select_mf_returns_fcp() -> None:
    card = make_card()
    data, status = send(card, "00A4000402 3F00")
    assert data == b"" and status >> 8 == 0x61
    fcp, status = fetch(card, "00A4000402 3F00")
    assert status == 0x9000
    found = objects(fcp, 0x62)
    assert found[0x82].value == b"\x38" and found[0x83].value == b"\x3f\x00" and found[0x8A].value == b"\x05"
    assert 0x84 not in found


def test_select_answers_61xx_under_t0_and_get_response_in_chunks() -> None:
    card = make_card()
    assert send(card, f"00A4040008{APP_AID}") == (b"", 0x6132)
    first, status = send(card, "00C0000010")
    assert len(first) == 16 and status == 0x6122
    assert send(card, "00C0000030") == (b"", 0x6C22)  # too long: the exact length, data kept
    rest, status = send(card, "00C0000022")
    assert status == 0x9000
    found = objects(first + rest, 0x6F)
    assert found[0x84].value.hex().upper() == APP_AID
    proprietary = {n.tag: n.value for n in found[0xA5].children}
    assert proprietary == {0x50: b"Demo application", 0x87: b"\x01", 0x5F2D: b"en"}


def test_select_ef_fcp_by_fid_path_and_sfi_fields() -> None:
    card = make_card()
    fcp, status = fetch(card, "00A4080404 1000 0101")  # path from the MF
    assert status == 0x9000
    found = objects(fcp, 0x62)
    assert found[0x80].value == (96).to_bytes(2, "big")
    assert found[0x82].value == b"\x01"
    assert found[0x83].value == b"\x01\x01"
    assert found[0x88].value == bytes([1 << 3])
    fcp, _ = fetch(card, "00A4020402 0102")  # EF in the current DF (1000)
    found = objects(fcp, 0x62)
    assert found[0x82].value == bytes.fromhex("0401001B03")  # linear-variable, 27-byte records, 3 of them
    assert found[0x80].value == (27 + 13 + 13).to_bytes(2, "big")
    fcp, _ = fetch(card, "00A4000402 2F01")  # P1 00 also finds the children of the parent DF
    assert objects(fcp, 0x62)[0x88].value == b""  # no SFI


def test_select_path_from_current_df_parent_and_child() -> None:
    card = make_card()
    assert sw(card, "00A4000C02 2000") == 0x9000
    fcp, _ = fetch(card, "00A4090402 0202")
    assert objects(fcp, 0x62)[0x82].value[0] == 0x06  # cyclic
    assert sw(card, "00A4030C") == 0x9000  # parent of DF 2000: the MF
    assert sw(card, "00A4030C") == 0x6A82  # the MF has none
    assert sw(card, "00A4010C02 1000") == 0x9000
    assert sw(card, "00A4010C02 0101") == 0x6A82  # an EF is not a child DF
    assert sw(card, "00A4020C02 0101") == 0x9000
    assert sw(card, "00A4020C02 1000") == 0x6A82  # nor a DF an EF


def test_select_by_partial_name_and_occurrence() -> None:
    card = make_card(t0=False)
    fci, status = send(card, "00A40400 07 F0434152444558 00")
    assert status == 0x9000 and objects(fci, 0x6F)[0x84].value.hex().upper() == APP_AID
    fci, status = send(card, "00A40402 07 F0434152444558 00")  # next occurrence
    assert status == 0x9000 and objects(fci, 0x6F)[0x84].value.hex().upper() == LOYALTY_AID
    assert sw(card, "00A40402 07 F0434152444558 00") == 0x6A82  # no more
    fci, _ = send(card, "00A40401 07 F0434152444558 00")  # last
    assert objects(fci, 0x6F)[0x84].value.hex().upper() == LOYALTY_AID
    fci, _ = send(card, "00A40403 07 F0434152444558 00")  # previous
    assert objects(fci, 0x6F)[0x84].value.hex().upper() == APP_AID
    assert sw(card, "00A4040C 08 F043415244455851") == 0x6A82


@pytest.mark.parametrize(("apdu", "status"), [
    ("00A4000C02 4444", 0x6A82),
    ("00A4080C04 1000 0999", 0x6A82),
    ("00A4080C04 0101 0101", 0x6A82),  # 0101 is not in the MF
    ("00A4050C02 3F00", 0x6A86),
    ("00A4001C02 3F00", 0x6A86),  # P2 b8-b5 RFU
    ("00A4000D02 3F00", 0x6A86),  # occurrence is for DF names only
    ("00A4000C03 3F0000", 0x6A87),
    ("00A4080C03 100001", 0x6A87),
    ("00A4030C02 3F00", 0x6A87),
    ("00A4040C11 " + "00" * 17, 0x6A87),
])
def test_select_errors(apdu: str, status: int) -> None:
    assert sw(make_card(), apdu) == status


def test_select_without_data_selects_the_mf_and_fmd() -> None:
    card = make_card(t0=False)
    assert sw(card, "00A4010C02 1000") == 0x9000
    fmd, status = send(card, "00A4000800")
    assert status == 0x9000 and fmd == b"\x64\x00"
    assert sw(card, "00A4020C02 2F01") == 0x9000  # the MF is current again
    fmd, _ = send(card, "00A4040808 F043415244455850 00")
    assert objects(fmd, 0x64)[0xA5].children[0].value == b"Demo application"


def test_direct_answers_cut_to_ne_and_no_le_means_no_data() -> None:
    card = make_card(t0=False)
    assert send(card, f"00A4040008{APP_AID}") == (b"", 0x9000)  # case 3: nothing expected
    first, status = send(card, f"00A4040008{APP_AID}10")
    assert len(first) == 16 and status == 0x6122
    rest, status = send(card, "00C0000000")
    assert status == 0x9000 and len(rest) == 0x22
    objects(first + rest, 0x6F)


# -- READ BINARY, UPDATE BINARY ------------------------------------------------------------

def test_read_binary_by_offset_and_sfi() -> None:
    for t0 in (True, False):
        card = make_card(t0)
        assert sw(card, "00A4040C08" + APP_AID) == 0x9000
        assert sw(card, "00B0000005") == 0x6986  # no current EF yet
        assert send(card, "00B0810005") == (b"Hello", 0x9000)  # SFI 1 makes 0101 current
        assert send(card, "00B0000604") == (b"from", 0x9000)
        text, status = send(card, "00B0000000")  # Le 00: up to 256, the file has 96
        assert status == 0x9000 and len(text) == 96 and text.startswith(b"Hello from the Card Explorer")
        assert sw(card, "00B0006000") == 0x6B00  # offset 96: outside
        assert sw(card, "00B0840001") == 0x6A82  # no SFI 4 in this DF
        assert sw(card, "00B0820001") == 0x6981  # SFI 2 is a record EF
        assert sw(card, "00B0A10001") == 0x6A86  # P1 b7-b6 must be 00
        assert sw(card, "00B00000") == 0x6700  # no Le


def test_read_binary_past_the_end_t0_and_direct() -> None:
    t0, direct = make_card(True), make_card(False)
    for card in (t0, direct):
        assert sw(card, "00A4040C08" + APP_AID) == 0x9000
    assert send(t0, "00B0815A10") == (b"", 0x6C06)  # 6 bytes left from offset 90
    assert send(t0, "00B0815A06") == (bytes(6), 0x9000)  # the size pads the text with 00
    assert send(direct, "00B0815A10") == (bytes(6), 0x6282)


def test_pin_protected_file() -> None:
    card = make_card()
    assert sw(card, "00A4080C04 1000 0103") == 0x9000
    assert sw(card, "00B0000000") == 0x6982
    assert sw(card, "00200081" + PIN_OK) == 0x9000
    assert send(card, "00B0000000") == (b"Secret: you have verified PIN 81.", 0x9000)
    card.reset()
    assert sw(card, "00B0830000") == 0x6A82  # the MF is current after a reset
    assert sw(card, "00A4040C08" + APP_AID) == 0x9000
    assert sw(card, "00B0830000") == 0x6982  # and the PIN is no longer verified


def test_update_binary_reads_back_and_survives_reset() -> None:
    card = make_card()
    assert sw(card, "00A4040C08" + APP_AID) == 0x9000
    assert sw(card, "00D6810003 4A4F59") == 0x6982  # update needs PIN 81
    assert sw(card, "00200081" + PIN_OK) == 0x9000
    assert sw(card, "00D6810003 4A4F59") == 0x9000
    assert send(card, "00B0000008") == (b"JOYlo fr", 0x9000)
    assert sw(card, "00D6005E03 010203") == 0x6A84  # 94 + 3 > 96
    assert sw(card, "00D6006001 01") == 0x6B00
    assert sw(card, "00D60000") == 0x6700
    card.reset()
    assert send(card, "00A4080C04 1000 0101") == (b"", 0x9000)
    assert send(card, "00B0000003") == (b"JOY", 0x9000)
    assert sw(card, "00A4000C02 2F01") == 0x9000
    assert sw(card, "00D6000001 00") == 0x6982  # update "never"


# -- READ RECORD -------------------------------------------------------------------------------

def test_read_record_t0_le_rules() -> None:
    card = make_card()
    assert sw(card, "00A4040C08" + APP_AID) == 0x9000
    assert sw(card, "00B2011405") == 0x6C1B
    record, status = send(card, "00B201141B")
    assert status == 0x9000 and objects(record, 0x70)[0x5F20].value == b"DEMO/CARD HOLDER"
    assert send(card, "00B2011400") == (record, 0x9000)
    assert sw(card, "00B2011420") == 0x6C1B
    assert sw(card, "00B2041400") == 0x6A83
    assert sw(card, "00B2030400") == 0x9000  # SFI 0: the current EF, 0102 since SFI 2 was used
    assert sw(card, "00B2010C00") == 0x6981  # SFI 1 is transparent
    assert sw(card, "00B201FC00") == 0x6A86  # SFI 31 is RFU
    assert sw(card, "00B2FF1400") == 0x6A86
    assert sw(card, "00B2011500") == 0x6A81  # several records at once


def test_read_record_direct_le_rules() -> None:
    card = make_card(t0=False)
    assert sw(card, "00A4040C08" + APP_AID) == 0x9000
    record, status = send(card, "00B2021420")
    assert len(record) == 13 and status == 0x6282
    assert send(card, "00B2021405") == (b"", 0x6C0D)


def test_read_record_first_next_and_cyclic_wrap() -> None:
    card = make_card()
    assert sw(card, "00A4080C04 2000 0202") == 0x9000
    assert sw(card, "00B2000400") == 0x6A83  # P1 00 + mode 100: the current record, none yet
    assert send(card, "00B2000000")[0][:2] == b"\x25\x05"  # first = newest
    seen = [send(card, "00B2000200")[0][1] for _ in range(3)]  # next, next, next (wraps)
    assert seen == [0x04, 0x04, 0x05]
    assert send(card, "00B2000400")[0][1] == 0x05  # P1 00 + mode 100: the current record
    assert send(card, "00B2000300")[0][2] == 0x02  # previous wraps back to the oldest
    assert sw(card, "00B2010000") == 0x6A86  # record identifiers are not offered
    linear = make_card()
    assert sw(linear, "00A4040C08" + APP_AID) == 0x9000
    assert send(linear, "00B2001100")[0] == send(linear, "00B2031400")[0]  # last record of SFI 2
    assert sw(linear, "00B2001200") == 0x6A83  # next after the last of a linear file


# -- VERIFY --------------------------------------------------------------------------------

def test_verify_counts_down_then_blocks() -> None:
    card = make_card()
    assert sw(card, "0020008100") == 0x63C3  # query with an Le byte: same answer
    assert sw(card, "00200081") == 0x63C3  # query, case 1
    assert sw(card, "00200081" + PIN_BAD) == 0x63C2
    assert sw(card, "00200081" + PIN_BAD) == 0x63C1
    assert sw(card, "00200081" + PIN_BAD) == 0x63C0
    assert sw(card, "00200081" + PIN_OK) == 0x6983
    assert sw(card, "00200081") == 0x6983
    card.reset()
    assert sw(card, "00200081" + PIN_OK) == 0x6983  # a power cycle does not unblock
    assert card.tries_left(0x81) == 0


def test_verify_right_pin_resets_tries_and_reset_keeps_the_counter() -> None:
    card = make_card()
    assert sw(card, "00200081" + PIN_BAD) == 0x63C2
    assert sw(card, "00200081" + PIN_OK) == 0x9000
    assert sw(card, "00200081") == 0x9000
    assert card.tries_left(0x81) == 3
    assert sw(card, "00200081" + PIN_BAD) == 0x63C2  # and a wrong PIN un-verifies
    assert sw(card, "00200081") == 0x63C2
    card.reset()
    assert sw(card, "00200081") == 0x63C2
    assert sw(card, "00200082") == 0x6A88
    assert sw(card, "00200181") == 0x6A86


# -- GET CHALLENGE, GET DATA, GET RESPONSE, classes ---------------------------------------

def test_get_challenge() -> None:
    card = make_card()
    assert send(card, "0084000008") == (bytes(range(8)), 0x9000)
    data, status = send(card, "0084000000")
    assert len(data) == 256 and status == 0x9000
    assert sw(card, "0084010008") == 0x6A86
    assert sw(card, "00840000") == 0x6700
    real = FileSystemCard(DEMO)
    assert send(real, "0084000008")[0] != send(real, "0084000008")[0]


def test_get_data() -> None:
    for t0 in (True, False):
        card = make_card(t0)
        cplc, status = send(card, "80CA9F7F00")
        assert status == 0x9000
        [node] = decode_tlv(cplc).nodes
        assert node.tag == 0x9F7F and node.length == 42
        assert send(card, "00CA5F2D05") == (bytes.fromhex("5F2D02656E"), 0x9000)
        assert sw(card, "00CA5F2D02") == 0x6C05
        assert sw(card, "00CA004200") == 0x6A88
    assert sw(make_card(True), "00CA5F2D10") == 0x6C05
    assert send(make_card(False), "00CA5F2D10") == (bytes.fromhex("5F2D02656E"), 0x9000)


def test_get_response_needs_pending_data() -> None:
    card = make_card()
    assert sw(card, "00C0000010") == 0x6985
    assert sw(card, "00A4000402 3F00") >> 8 == 0x61
    assert sw(card, "0084000008") == 0x9000  # any other command drops the pending data
    assert sw(card, "00C0000000") == 0x6985
    assert sw(card, "00A4000402 3F00") >> 8 == 0x61
    assert sw(card, "00C0010000") == 0x6A86  # an error keeps it
    assert sw(card, "80C0000000") == 0x9000  # a proprietary class is kept by clients: accepted
    assert sw(make_card(), "00A4000402 3F00") >> 8 == 0x61
    card.reset()
    assert sw(card, "00C0000000") == 0x6985


@pytest.mark.parametrize(("apdu", "status"), [
    ("FFCA000000", 0x6E00),
    ("80A4000C023F00", 0x6E00),
    ("20A4000C023F00", 0x6E00),
    ("01A4000C023F00", 0x6881),
    ("40A4000C023F00", 0x6881),
    ("0CA4000C023F00", 0x6882),
    ("10A4000C023F00", 0x6884),
    ("00EE000000", 0x6D00),
    ("0060000000", 0x6D00),  # INS 6X is invalid
    ("00B0", 0x6700),
    ("", 0x6700),
    ("00B0000000000A", 0x6700),  # extended Le
    ("00A4000C033F00", 0x6700),  # Lc says 3, 2 follow
])
def test_class_ins_and_length_errors(apdu: str, status: int) -> None:
    assert sw(make_card(), apdu) == status


# -- profile errors ------------------------------------------------------------------------

def _demo_json() -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(demo_profile_path().read_text(encoding="utf-8"))
    return obj


def _edit(obj: dict[str, Any], where: tuple[int, ...], **changes: Any) -> None:
    """Change the file at files.children[i].children[j]...; None removes a key."""
    node = obj["files"]
    for i in where:
        node = node["children"][i]
    for key, value in changes.items():
        if value is None:
            node.pop(key)
        else:
            node[key] = value


def _broken(change: Any) -> dict[str, Any]:
    obj = copy.deepcopy(_demo_json())
    change(obj)
    return obj


@pytest.mark.parametrize(("change", "message"), [
    (lambda o: _edit(o, (3, 0), content="01G2", text=None),
     "files.children[3].children[0]: content is not hex ('G' at column 3 is not a hex digit)"),
    (lambda o: o["files"]["children"][1].update(content="01 G2"),
     "demo.json: files.children[1]: content is not hex ('G' at column 4"),
    (lambda o: o["files"]["children"][1].update(contnet="00"), "files.children[1]: unknown key 'contnet'"),
    (lambda o: o["files"]["children"][1].pop("fid"), "files.children[1]: missing key 'fid'"),
    (lambda o: o["files"]["children"][1].update(fid="2F00"), "files.children[1]: fid 2F00 is already used"),
    (lambda o: o["files"]["children"][1].update(fid="3FFF"), "files.children[1]: fid 3FFF is reserved"),
    (lambda o: o["files"]["children"][1].update(read="pin:82"), "read needs PIN 82"),
    (lambda o: o["files"]["children"][1].update(read="sometimes"), "read must be 'always', 'never'"),
    (lambda o: o["files"]["children"][1].update(structure="linear"), "structure must be one of"),
    (lambda o: o["files"]["children"][1].update(sfi=31), "sfi must be a whole number from 1 to 30"),
    (lambda o: o["files"]["children"][1].update(sfi=True), "sfi must be a whole number"),
    (lambda o: o["files"]["children"][0].pop("record_size"),
     "files.children[0].records[1]: 27 bytes, but records[0] has 30"),
    (lambda o: o["files"]["children"][0]["records"].append("00" * 31),
     "files.children[0].records[2]: 31 bytes, more than record_size 30"),
    (lambda o: o["files"]["children"][3].update(name="00" * 17), "name must have 1 to 16 bytes"),
    (lambda o: o["files"].update(type="DF"), "files: the root of files must be the MF"),
    (lambda o: o["files"]["children"][1].update(type="MF"), "only the root of files is the MF"),
    (lambda o: o.update(format="something"), "demo.json: format must be 'card-explorer-profile'"),
    (lambda o: o.update(version=2), "version 2 is not supported"),
    (lambda o: o.update(t0="yes"), "t0 must be true or false"),
    (lambda o: o.update(atr="3B"), "atr must have 2 to 33 bytes, found 1"),
    (lambda o: o["pins"][0].update(tries=16), "pins[0]: tries must be a whole number from 1 to 15"),
    (lambda o: o["pins"].append(o["pins"][0]), "pins[1]: reference 81 is declared twice"),
    (lambda o: o["data_objects"].update({"9F": "00"}), "data_objects['9F']: the tag must be a BER-TLV tag"),
    (lambda o: o.pop("files"), "missing key 'files'"),
    (lambda o: o.update(name=" "), "name must not be empty"),
    (lambda o: o.update(pins={}), "pins must be a list, found an object"),
    (lambda o: o["data_objects"].update({"5f2d": "00"}), "data_objects['5f2d']: the tag is declared twice"),
    (lambda o: o["data_objects"].update({"5X": "00"}), "data_objects['5X']: the tag is not hex"),
    (lambda o: o["files"].update(fid="3F01"), "files: fid 3F01: the MF is 3F00"),
    (lambda o: o["files"].update(children={}), "files: children must be a list"),
    (lambda o: o["files"]["children"].append(7),
     "files.children[5]: expected a file object, found the number 7"),
    (lambda o: _edit(o, (1,), type="XF"), "files.children[1]: type must be MF, DF or EF, found 'XF'"),
    (lambda o: _edit(o, (1,), text="x"), "files.children[1]: give content or text, not both"),
    (lambda o: _edit(o, (1,), records=[]), "records is for record EFs"),
    (lambda o: _edit(o, (0,), text="x"), "files.children[0]: text is for transparent EFs"),
    (lambda o: _edit(o, (0,), records={}), "records must be a list"),
    (lambda o: _edit(o, (0,), records=["00"] * 255), "255 records: record numbers go up to 254"),
    (lambda o: _edit(o, (3, 1), record_size=30), "record_size is for linear-fixed and cyclic EFs"),
    (lambda o: _edit(o, (3, 1), sfi=1), "files.children[3].children[1]: sfi 1 is already used in this DF"),
    (lambda o: _edit(o, (3, 0), size=10), "the content has 74 bytes, more than size 10"),
    (lambda o: _edit(o, (1,), content="00" * 32769), "the content has 32769 bytes: READ BINARY offsets"),
    (lambda o: _edit(o, (1,), read="pin:8G"), "read must be 'always', 'never' or 'pin:RR'"),
    (lambda o: _edit(o, (1,), type=None), "files.children[1]: missing key 'type'"),
    (lambda o: o.update(name=3), "name must be a string, found the number 3"),
    (lambda o: _edit(o, (3,), fci_proprietary="87 05 01"),
     "files.children[3]: fci_proprietary is not BER-TLV"),
])
def test_profile_errors_name_the_place(change: Any, message: str) -> None:
    obj = _broken(change)
    with pytest.raises(ProfileError) as caught:
        parse_profile(obj, "demo.json")
    assert message in str(caught.value)


def test_protected_record_file_and_record_errors() -> None:
    obj = {"format": "card-explorer-profile", "version": 1, "name": "x", "atr": "3B 00",
           "pins": [{"reference": "01", "value": "00"}],
           "files": {"fid": "3F00", "type": "MF", "children": [
               {"fid": "0001", "type": "EF", "structure": "linear-fixed", "records": ["01", "02"], "sfi": 1,
                "read": "pin:01", "update": "never"}]}}
    profile = parse_profile(obj)
    assert [str(profile.mf.children[0].read), str(profile.mf.children[0].update)] == ["pin:01", "never"]
    card = make_card(False, profile)
    assert sw(card, "00B2010400") == 0x6986  # no current EF
    assert sw(card, "00B2011400") == 0x6A82  # no SFI 2
    assert sw(card, "00B2010C00") == 0x6982
    assert sw(card, "0020000101 00") == 0x9000
    assert send(card, "00B2000B00") == (b"\x02", 0x9000)  # previous, with no current record: the last


def test_load_profile_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "card-explorer-profile",\n "version": 1,,}', encoding="utf-8")
    with pytest.raises(ProfileError, match=r"bad\.json: not valid JSON: line 2, column 15"):
        load_profile(bad)
    bad.write_text('{"format": "x", "format": "y"}', encoding="utf-8")
    with pytest.raises(ProfileError, match="key 'format' appears twice"):
        load_profile(bad)
    with pytest.raises(ProfileError, match=r"missing\.json: cannot open it: No such file"):
        load_profile(tmp_path / "missing.json")


def test_profile_options_text_size_padding_and_comments() -> None:
    obj = {"format": "card-explorer-profile", "version": 1, "name": "x", "atr": "3B 00", "_note": "ignored",
           "files": {"fid": "3F00", "type": "MF", "children": [
               {"fid": "0001", "type": "EF", "structure": "transparent", "text": "hé", "size": 5},
               {"fid": "0002", "type": "EF", "structure": "cyclic", "records": ["01", "0203"],
                "record_size": 3}]}}
    profile = parse_profile(obj)
    text_ef, cyclic = profile.mf.children
    assert text_ef.content == "hé".encode() + b"\x00\x00"
    assert cyclic.structure is Structure.CYCLIC and cyclic.records == (b"\x01\xff\xff", b"\x02\x03\xff")
    assert not profile.t0 and profile.pins == ()
    card = make_card(False, profile)
    assert send(card, "00A4000C02 0001") == (b"", 0x9000)
    assert send(card, "00B0000000") == (text_ef.content, 0x9000)


# -- never raise --------------------------------------------------------------------------

_INS = [0xA4, 0xB0, 0xD6, 0xB2, 0x20, 0x84, 0xCA, 0xC0, 0x00, 0x60]
_structured = st.builds(
    lambda cla, ins, p1, p2, data, le: (bytes([cla, ins, p1, p2])
                                        + (bytes([len(data)]) + data if data else b"")
                                        + (bytes([le]) if le is not None else b"")),
    st.sampled_from([0x00, 0x80, 0x01, 0x0C, 0x10, 0x40, 0xFF]) | st.integers(0, 255),
    st.sampled_from(_INS) | st.integers(0, 255),
    st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x09, 0x81, 0x83]) | st.integers(0, 255),
    st.sampled_from([0x00, 0x04, 0x0C, 0x14, 0xF4, 0x81, 0x02]) | st.integers(0, 255),
    st.sampled_from([b"", b"\x3f\x00", b"\x10\x00", b"\x10\x00\x01\x01", bytes.fromhex(APP_AID),
                     bytes.fromhex("31323334FFFFFFFF")]) | st.binary(max_size=20),
    st.none() | st.integers(0, 255),
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t0=st.booleans(), apdus=st.lists(_structured | st.binary(max_size=300), min_size=1, max_size=6))
def test_random_apdus_never_raise(t0: bool, apdus: list[bytes]) -> None:
    card = make_card(t0)
    for apdu in apdus:
        response = card(apdu)
        assert len(response) >= 2
        assert response[-2] >> 4 in (0x6, 0x9)
        # 6Cxx never carries data; 61xx does only when answering directly (part
        # of the data now, the rest by GET RESPONSE), never in T=0 mode.
        if response[-2] == 0x6C or (t0 and response[-2] == 0x61):
            assert len(response) == 2
