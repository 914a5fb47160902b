"""ATR decoding (ISO/IEC 7816-3, 7816-4 historical bytes, PC/SC part 3) on
real ATRs from the pcsc-tools list and on broken ones. No PC/SC, no Qt."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.atr import MAX_ATR_LENGTH, Atr, Convention, decode_atr
from explorer.core.atr_fields import AtrField, Level, field_by_path, field_path
from explorer.core.atr_report import atr_json, atr_text
from explorer.core.atrdb import default_database
from explorer.core.hexfmt import parse_hex

MIFARE_1K = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
# T=1 card with TA1, TC1, T=1 parameters, T=15 global bytes, category 00 compact-TLV and status.
JAVA_CARD = "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C"
SPECIFIC_MODE = "3B 90 96 91 81 B1 FE 55 1F C7 D4"
T0_WITH_WI = "3B 85 40 20 68 01 01 00 00"
DIR_REFERENCE = "3B 02 10 50"
INVERSE = "3F FF 95 00 FF 91 81 71 64 47 00 44 4E 41 53 50 30 30 33 20 52 65 76 33 32 33 FF"
CAT80_STATUS = "3B 0F 80 91 E1 31 80 65 B0 83 11 11 AC 83 00 90 00"


def atr(text: str) -> Atr:
    return decode_atr(parse_hex(text))


def names(a: Atr) -> list[str]:
    return [f.name for f in a.fields]


def child(f: AtrField, name: str) -> AtrField:
    return next(c for c in f.children if c.name == name)


def top(a: Atr, name: str) -> AtrField:
    return next(f for f in a.fields if f.name == name)


def findings(a: Atr, level: Level = Level.NOTE) -> list[str]:
    return [f.message for f in a.findings if f.level >= level]


@pytest.mark.parametrize("text", [MIFARE_1K, JAVA_CARD, SPECIFIC_MODE, T0_WITH_WI, DIR_REFERENCE, INVERSE,
                                  CAT80_STATUS])
def test_examples_are_real_atrs_from_the_list(text: str) -> None:
    db = default_database()
    assert db is not None
    assert any(m.exact for m in db.lookup(text))
    assert findings(atr(text)) == []


def test_pcsc_storage_card() -> None:
    a = atr(MIFARE_1K)
    assert a.convention is Convention.DIRECT and a.ts == 0x3B and a.t0 == 0x8F and a.k == 15
    assert [b.name for b in a.interface_bytes] == ["TD1", "TD2"]
    assert a.protocols == (0, 1) and a.first_protocol == 0 and a.default_protocol == 0
    assert a.fi is None and a.di is None and a.fmax_mhz is None
    assert a.tck_expected and a.tck == 0x6A and a.tck_ok
    card = a.historical.storage_card
    assert card is not None and card.name == "MIFARE Classic 1K"
    assert card.standard_name == "ISO/IEC 14443 A, part 3"
    hb = top(a, "Historical bytes")
    assert (hb.start, hb.end) == (4, 19)
    pcsc = child(hb, "PC/SC storage card")
    assert (child(pcsc, "RID").start, child(pcsc, "RID").end) == (7, 12)
    assert (child(pcsc, "Card name").start, child(pcsc, "Card name").end) == (13, 15)
    assert names(a) == ["TS", "T0", "TD1", "TD2", "Historical bytes", "TCK"]


def test_t1_card_with_global_bytes_and_compact_tlv() -> None:
    a = atr(JAVA_CARD)
    assert {b.name: b.value for b in a.interface_bytes} == {
        "TA1": 0x18, "TC1": 0xFF, "TD1": 0x81, "TD2": 0xB1,
        "TA3": 0xFE, "TB3": 0x75, "TD3": 0x1F, "TA4": 0x03}
    assert (a.fi, a.di, a.fmax_mhz, a.n) == (372, 12, 5, 255)
    assert a.protocols == (1,)
    assert (a.ifsc, a.bwi, a.cwi, a.edc) == (254, 7, 5, None)
    assert a.clock_stop == "clock stop not supported" and a.classes == ("A (5 V)", "B (3 V)")
    hb = a.historical
    assert hb.category == 0x00 and hb.status == bytes.fromhex("009000")
    assert hb.tlv is not None and [(o.tag, o.length, o.value.hex()) for o in hb.tlv] == [
        (3, 1, "c5"), (7, 3, "c00140")]
    caps = child(child(top(a, "Historical bytes"), "Tag 7: card capabilities"),
                 "Command chaining, lengths, logical channels")
    assert "extended Lc and Le fields" in caps.meaning and (caps.start, caps.end) == (16, 17)
    status = child(top(a, "Historical bytes"), "Status indicator")
    assert child(status, "Status word").meaning.startswith("Normal processing")
    assert "129 032 bit/s at 4 MHz" in top(a, "TA1").meaning
    assert a.tck_ok


def test_specific_mode_and_t15_classes() -> None:
    a = atr(SPECIFIC_MODE)
    assert (a.fi, a.di) == (512, 32)
    assert a.specific_mode_protocol == 1 and a.default_protocol == 1
    assert "cannot switch" in top(a, "TA2").meaning
    assert a.clock_stop == "clock stop supported, no preference for state L or H"
    assert a.classes == ("A (5 V)", "B (3 V)", "C (1.8 V)")
    assert a.k == 0 and a.historical.field is None and a.tck_ok


def test_t0_waiting_time_and_no_tck() -> None:
    a = atr(T0_WITH_WI)
    assert a.wi == 0x20 and a.protocols == (0,) and not a.tck_expected and a.tck is None and a.tck_ok is None
    assert "WI = 32" in top(a, "TC2").meaning
    assert a.extra_bytes == b"" and not a.truncated


def test_dir_reference_inverse_and_category_80_status() -> None:
    assert atr(DIR_REFERENCE).historical.dir_ref == 0x50
    inverse = atr(INVERSE)
    assert inverse.convention is Convention.INVERSE and inverse.tck_ok
    cat80 = atr(CAT80_STATUS).historical
    assert cat80.category == 0x80 and cat80.status == bytes.fromhex("009000")


def test_pcsc_without_td_is_t0_only() -> None:
    a = atr("3B 02 14 50")
    assert a.protocols == (0,) and a.first_protocol == 0 and a.specific_mode_protocol is None
    assert not a.tck_expected and a.historical.category == 0x14


# -- broken ATRs: findings, never exceptions ------------------------------------------


def test_trailing_byte_after_t0_only_is_extra_not_tck() -> None:
    a = atr("3B 02 14 50 11")
    assert not a.tck_present and a.tck is None and a.extra_bytes == b"\x11"
    assert names(a)[-1] == "Extra bytes"
    assert any("no TCK" in m for m in findings(a, Level.WARNING))


def test_wrong_tck_says_what_it_should_be() -> None:
    a = atr(MIFARE_1K[:-2] + "6B")
    assert a.tck_ok is False
    assert findings(a, Level.ERROR) == ["TCK is 6B, should be 6A"]
    assert top(a, "TCK").level is Level.ERROR


def test_missing_tck_is_truncation() -> None:
    a = atr(MIFARE_1K[:-3])
    assert a.truncated and a.tck is None and a.tck_ok is None
    assert any("TCK is missing" in m for m in findings(a, Level.ERROR))


def test_truncated_interface_and_historical_bytes() -> None:
    a = atr("3B DA 18 FF")
    assert a.truncated and a.historical.data == b""
    assert any("interface bytes" in m for m in findings(a, Level.ERROR))
    b = atr("3B 0F 80 31 C0")
    assert b.truncated and b.historical.data == bytes.fromhex("8031C0")
    assert "T0 announces 15 historical byte(s), only 3 present" in findings(b, Level.ERROR)


def test_empty_ts_only_and_invalid_ts() -> None:
    empty = decode_atr(b"")
    assert empty.convention is Convention.INVALID and empty.ts is None
    assert empty.truncated and empty.fields == ()
    only_ts = decode_atr(b"\x3b")
    assert only_ts.truncated and only_ts.t0 is None and names(only_ts) == ["TS"]
    wrong = atr("03 00")
    assert wrong.convention is Convention.INVALID
    assert "wrong convention" in findings(wrong, Level.ERROR)[0]


def test_too_long_and_td1_t15_and_rfu_ta1() -> None:
    long = decode_atr(bytes([0x3B, 0x0F]) + bytes(15) + bytes(23))
    assert long.too_long and long.length == 40 and len(long.extra_bytes) == 23
    assert any(f"at most {MAX_ATR_LENGTH}" in m for m in findings(long, Level.ERROR))
    t15 = atr("3B 80 1F C7 80 31 E0 73 FE 21 11 63 40 71 63 83 07 90 00 9A")
    assert any("TD1 cannot announce T=15" in m for m in findings(t15, Level.ERROR))
    rfu = decode_atr(bytes([0x3B, 0x10, 0x7A]))
    assert rfu.fi == "RFU" and rfu.fmax_mhz == "RFU" and rfu.di == "RFU"


def test_category_00_too_short_and_cut_tlv() -> None:
    a = atr("3B 03 00 90 00")
    assert a.historical.status is None
    assert any("3-byte status indicator" in m for m in findings(a, Level.ERROR))
    cut = atr("3B 03 80 73 C0")
    value = child(child(top(cut, "Historical bytes"), "Tag 7: card capabilities"), "Value")
    assert value.level is Level.ERROR and "cut short" in value.meaning


# -- invariants: bytes and fields always line up --------------------------------------


def check_invariants(a: Atr) -> None:
    """Top-level fields tile the ATR with no gap or overlap; children stay
    inside their parent; every byte leads to a field and back."""
    at = 0
    for f in a.fields:
        assert f.start == at and f.end > f.start, (a.raw.hex(), f)
        at = f.end
        for _, sub in f.walk():
            for c in sub.children:
                assert sub.start <= c.start <= c.end <= sub.end, (a.raw.hex(), sub.name, c.name)
    assert at == len(a.raw)
    for i in range(len(a.raw)):
        path = field_path(a.fields, i)
        found = field_by_path(a.fields, path)
        assert found is not None and found.contains(i)
    for finding in a.findings:
        assert 0 <= finding.start <= finding.end <= len(a.raw)
    json.dumps(atr_json(a))
    atr_text(a)


def test_every_concrete_atr_of_the_list_decodes_with_its_bytes_accounted_for() -> None:
    db = default_database()
    assert db is not None
    atrs = db.concrete_atrs()
    assert len(atrs) > 3000
    wrong_tck = 0
    for raw in atrs:
        a = decode_atr(raw)
        check_invariants(a)
        wrong_tck += a.tck_ok is False
    # The list is of real cards: a wrong checksum is rare there.
    assert wrong_tck < len(atrs) * 0.01


@settings(max_examples=10_000, deadline=None)
@given(st.binary(min_size=0, max_size=40))
def test_random_bytes_never_raise(raw: bytes) -> None:
    check_invariants(decode_atr(raw))


@settings(max_examples=2_000, deadline=None)
@given(st.binary(min_size=2, max_size=33).map(lambda b: b"\x3b" + b[1:]))
def test_random_direct_atrs_never_raise(raw: bytes) -> None:
    check_invariants(decode_atr(raw))


def test_field_path_prefers_the_narrowest_explanation() -> None:
    a = atr(JAVA_CARD)
    # TA1: Fi and Di share the byte, so TA1 itself is the answer.
    assert field_by_path(a.fields, field_path(a.fields, 2)).name == "TA1"  # type: ignore[union-attr]
    # A byte inside the card capabilities goes down to its own row.
    assert field_by_path(a.fields, field_path(a.fields, 16)).name == (  # type: ignore[union-attr]
        "Command chaining, lengths, logical channels")
    assert field_path(a.fields, 99) == ()
