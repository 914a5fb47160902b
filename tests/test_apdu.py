"""The APDU model (ISO/IEC 7816-4 5.1/5.2) and hexfmt.byte_columns: pure, no PC/SC."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.apdu import (
    ApduCase,
    ApduError,
    ApduField,
    CommandApdu,
    class_meaning,
    command_name,
    get_response,
    parse_apdu,
    parse_apdu_text,
)
from explorer.core.hexfmt import HexError, byte_columns, parse_hex

H = bytes.fromhex
AID = H("A0000000031010")

# -- the cases, short and extended ---------------------------------------------

CASES = [
    ("00A40400", ApduCase.CASE_1, b"", None, False),
    ("00B0000010", ApduCase.CASE_2S, b"", 16, False),
    ("00B0000000", ApduCase.CASE_2S, b"", 256, False),
    ("00A40400023F00", ApduCase.CASE_3S, H("3F00"), None, False),
    ("00A4040007A000000003101000", ApduCase.CASE_4S, AID, 256, False),
    ("00A4040007A000000003101001", ApduCase.CASE_4S, AID, 1, False),
    ("00B0000000012C", ApduCase.CASE_2E, b"", 300, True),
    ("00B0000000FFFF", ApduCase.CASE_2E, b"", 65535, True),
    ("00B00000000000", ApduCase.CASE_2E, b"", 65536, True),
    ("00B00000000100", ApduCase.CASE_2E, b"", 256, True),
    ("00D60000000003112233", ApduCase.CASE_3E, H("112233"), None, True),
    ("002A8086000003AABBCC0000", ApduCase.CASE_4E, H("AABBCC"), 65536, True),
    ("002A8086000003AABBCC0005", ApduCase.CASE_4E, H("AABBCC"), 5, True),
]


@pytest.mark.parametrize(("text", "case", "data", "le", "extended"), CASES)
def test_each_case_decodes_and_round_trips(text: str, case: ApduCase, data: bytes,
                                           le: int | None, extended: bool) -> None:
    raw = H(text)
    apdu = parse_apdu(raw)
    assert apdu.case is case
    assert (apdu.data, apdu.le, apdu.extended) == (data, le, extended)
    assert apdu.nc == len(data)
    assert apdu.ne == (le or 0)
    assert apdu.header == raw[:4]
    assert apdu.to_bytes() == raw


def test_case_labels() -> None:
    assert ApduCase.CASE_1.label == "case 1"
    assert ApduCase.CASE_4S.label == "case 4 short"
    assert ApduCase.CASE_2E.label == "case 2 extended"
    assert [c.extended for c in ApduCase] == [False, False, False, False, True, True, True]


def test_short_boundaries() -> None:
    full = CommandApdu(0x00, 0xD6, 0, 0, bytes(range(255)), le=256)
    raw = full.to_bytes()
    assert full.case is ApduCase.CASE_4S
    assert raw[4] == 0xFF and raw[-1] == 0x00 and len(raw) == 4 + 1 + 255 + 1
    assert parse_apdu(raw) == full


def test_too_much_for_short_goes_extended() -> None:
    apdu = CommandApdu(0x00, 0xD6, 0, 0, bytes(256))
    assert apdu.extended and apdu.case is ApduCase.CASE_3E
    assert apdu.to_bytes()[4:7] == H("000100")
    le_only = CommandApdu(0x00, 0xB0, 0, 0, le=257)
    assert le_only.case is ApduCase.CASE_2E
    assert le_only.to_bytes() == H("00B00000000101")
    # Both length fields go extended together (7816-4 does not mix them).
    mixed = CommandApdu(0x00, 0x2A, 0x80, 0x86, H("01"), le=1000)
    assert mixed.to_bytes() == H("002A808600000101" + "03E8")


def test_extended_boundaries() -> None:
    biggest = CommandApdu(0x00, 0xD6, 0, 0, bytes(65535), le=65536)
    raw = biggest.to_bytes()
    assert raw[4:7] == H("00FFFF") and raw[-2:] == H("0000") and len(raw) == 4 + 3 + 65535 + 2
    assert parse_apdu(raw) == biggest


def test_forced_extended_for_small_command() -> None:
    apdu = CommandApdu(0x00, 0xB0, 0, 0, le=16, extended=True)
    assert apdu.to_bytes() == H("00B00000000010")
    assert parse_apdu(apdu.to_bytes()) == apdu
    assert CommandApdu(0x00, 0xA4, 4, 0, extended=True).to_bytes() == H("00A40400")


@pytest.mark.parametrize(("apdu", "start", "end", "words"), [
    (CommandApdu(0, 0xD6, 0, 0, bytes(65536)), 4, 7, "65536 data bytes"),
    (CommandApdu(0, 0xB0, 0, 0, le=65537), 4, 7, "Le = 65537 is out of range"),
    (CommandApdu(0, 0xB0, 0, 0, le=0), 4, 5, "Le = 0 is out of range"),
    (CommandApdu(0, 0x6A, 0, 0), 1, 2, "byte 1 (INS = 6A) is invalid"),
])
def test_unencodable_commands(apdu: CommandApdu, start: int, end: int, words: str) -> None:
    with pytest.raises(ApduError) as info:
        apdu.to_bytes()
    assert (info.value.start, info.value.end) == (start, end)
    assert words in str(info.value)


def test_header_bytes_must_be_bytes() -> None:
    with pytest.raises(ValueError, match="P1 must be a byte"):
        CommandApdu(0, 0xA4, 256, 0)


@given(cla=st.integers(0, 255), ins=st.integers(0, 255).filter(lambda i: i >> 4 not in (6, 9)),
       p1=st.integers(0, 255), p2=st.integers(0, 255), data=st.binary(max_size=600),
       le=st.none() | st.integers(1, 65536), extended=st.booleans())
def test_round_trip_property(cla: int, ins: int, p1: int, p2: int, data: bytes,
                             le: int | None, extended: bool) -> None:
    apdu = CommandApdu(cla, ins, p1, p2, data, le, extended)
    raw = apdu.to_bytes()
    again = parse_apdu(raw)
    assert again.to_bytes() == raw
    assert (again.data, again.le, again.case) == (data, le, apdu.case)


# -- structural errors and where they are ----------------------------------------

@pytest.mark.parametrize(("text", "start", "end", "words"), [
    ("", 0, 0, "needs at least 4 bytes (CLA INS P1 P2), but 0 were given"),
    ("00A404", 0, 3, "but 3 were given"),
    ("0060 0000", 1, 2, "byte 1 (INS = 60) is invalid"),
    ("009F 0000 00", 1, 2, "byte 1 (INS = 9F) is invalid"),
    ("00A40400 07 A0000000031010"[:-2], 4, 5, "byte 4 (Lc = 07) announces 7 data bytes but 6 follow"),
    ("00A40400 07 A0000000031010 00 11 22", 13, 15, "bytes 13-14 left over"),
    ("00A40400 00 01", 4, 6, "byte 4 is 00 and 1 byte follows"),
    ("00D60000 000000 11", 4, 7, "bytes 4-6 (extended Lc = 00 00 00) count no data"),
    ("00D60000 000003 1122", 4, 7, "announce 3 data bytes but 2 follow"),
    ("00D60000 000002 1122 00", 9, 10, "byte 9 (00) is alone after the data"),
    ("00D60000 000002 1122 0000 FF", 11, 12, "byte 11 left over"),
])
def test_structural_errors_name_the_byte(text: str, start: int, end: int, words: str) -> None:
    with pytest.raises(ApduError) as info:
        parse_apdu(parse_hex(text))
    assert (info.value.start, info.value.end) == (start, end)
    assert words in str(info.value)


def test_odd_ins_and_class_ff_are_allowed() -> None:
    assert parse_apdu(H("00CB3FFF")).ins == 0xCB
    assert parse_apdu(H("FFCA000000")).name == "GET DATA"


def test_short_only_refuses_extended() -> None:
    with pytest.raises(ApduError) as info:
        parse_apdu(H("00B00000000100"), max_short_only=True)
    assert (info.value.start, info.value.end) == (4, 7)
    assert "bytes 4-6 (00 01 00) are an extended length field" in str(info.value)
    assert parse_apdu(H("00A4040007A000000003101000"), max_short_only=True).le == 256


def test_parse_apdu_text_keeps_the_two_error_kinds_apart() -> None:
    assert parse_apdu_text("00 a4 04 00 02 3f 00").data == H("3F00")
    with pytest.raises(HexError) as hex_info:
        parse_apdu_text("00 A4 04 0G")
    assert hex_info.value.position == 10
    with pytest.raises(ApduError) as apdu_info:
        parse_apdu_text("00 A4 04 00 05 3F 00")
    assert apdu_info.value.start == 4
    with pytest.raises(ApduError):
        parse_apdu_text("00 B0 00 00 00 00 10", max_short_only=True)


# -- with_le (the 6Cxx re-send) ---------------------------------------------------

def test_with_le_on_every_case() -> None:
    case1 = CommandApdu(0x00, 0xB0, 0, 0)
    assert case1.with_le(0x20).to_bytes() == H("00B0000020")
    assert case1.with_le(0).to_bytes() == H("00B0000000")
    assert case1.with_le(0).le == 256
    case2 = parse_apdu(H("00B0000000"))
    assert case2.with_le(0x10).to_bytes() == H("00B0000010")
    case3 = parse_apdu(H("00A40400023F00"))
    assert case3.with_le(0x12).to_bytes() == H("00A40400023F0012")
    assert case3.with_le(0x12).case is ApduCase.CASE_4S
    case4 = parse_apdu(H("00A40400023F0000"))
    assert case4.with_le(0x1A).to_bytes() == H("00A40400023F001A")


def test_with_le_keeps_extended() -> None:
    case2e = parse_apdu(H("00B00000000000"))
    again = case2e.with_le(0x10)
    assert again.extended and again.to_bytes() == H("00B00000000010")
    case3e = parse_apdu(H("00D60000 000003 112233"))
    assert case3e.with_le(0).to_bytes() == H("00D60000 000003 112233 0100")
    assert CommandApdu(0, 0xB0, 0, 0, extended=True).with_le(5).to_bytes() == H("00B00000000005")


# -- fields -------------------------------------------------------------------------

def test_fields_of_case_4_short() -> None:
    fields = parse_apdu(H("00A4040007A000000003101000")).fields()
    assert [(f.name, f.start, f.end) for f in fields] == [
        ("CLA", 0, 1), ("INS", 1, 2), ("P1", 2, 3), ("P2", 3, 4),
        ("Lc", 4, 5), ("Data", 5, 12), ("Le", 12, 13)]
    by_name = {f.name: f for f in fields}
    assert by_name["CLA"].meaning == "interindustry, no SM, logical channel 0"
    assert by_name["INS"].meaning == "SELECT"
    assert by_name["P1"].meaning == "select by DF name (AID)"
    assert by_name["P2"].meaning == "first or only occurrence, return FCI template"
    assert by_name["Lc"] == ApduField("Lc", 4, 5, H("07"), "7 data bytes")
    assert by_name["Data"].value == AID
    assert by_name["Le"] == ApduField("Le", 12, 13, H("00"), "up to 256 bytes expected (00)")


def test_fields_of_extended_cases() -> None:
    case2e = parse_apdu(H("00B00000000000")).fields()
    assert case2e[-1] == ApduField("Le", 4, 7, H("000000"),
                                   "up to 65536 bytes expected (0000) (extended length)")
    case4e = parse_apdu(H("002A8086000003AABBCC0102")).fields()
    assert [(f.name, f.start, f.end, f.value) for f in case4e[4:]] == [
        ("Lc", 4, 7, H("000003")), ("Data", 7, 10, H("AABBCC")), ("Le", 10, 12, H("0102"))]
    assert case4e[4].meaning == "3 data bytes (extended length)"
    assert case4e[6].meaning == "up to 258 bytes expected (0102) (extended length)"
    assert case4e[1].meaning == "PERFORM SECURITY OPERATION"


def test_fields_of_case_1_and_parameters() -> None:
    fields = CommandApdu(0x00, 0xB0, 0x81, 0x10).fields()
    assert [f.name for f in fields] == ["CLA", "INS", "P1", "P2"]
    assert (fields[2].meaning, fields[3].meaning) == ("short EF identifier 1", "offset 16")
    read_record = CommandApdu(0x00, 0xB2, 0x01, 0x0C, le=256).fields()
    assert (read_record[2].meaning, read_record[3].meaning) == (
        "record number 1", "short EF identifier 1, record number P1")
    verify = CommandApdu(0x00, 0x20, 0x00, 0x81, b"1234").fields()
    assert verify[3].meaning == "specific (DF) reference data, number 1"
    unknown = CommandApdu(0x80, 0x10, 0x01, 0x02).fields()
    assert unknown[1].meaning == "not a known instruction for this class"
    assert unknown[2].meaning == ""


@pytest.mark.parametrize(("cla", "meaning"), [
    (0x00, "interindustry, no SM, logical channel 0"),
    (0x03, "interindustry, no SM, logical channel 3"),
    (0x04, "interindustry, proprietary SM, logical channel 0"),
    (0x0C, "interindustry, SM, header authenticated, logical channel 0"),
    (0x19, "interindustry, SM, header not authenticated, logical channel 1, "
           "command chaining (not the last command)"),
    (0x40, "interindustry, no SM, logical channel 4"),
    (0x6F, "interindustry, SM, header not authenticated, logical channel 19"),
    (0x20, "reserved for future use (20)"),
    (0x80, "proprietary (80)"),
    (0xA0, "proprietary (A0)"),
])
def test_class_meaning(cla: int, meaning: str) -> None:
    assert class_meaning(cla) == meaning


def test_class_ff_says_pcsc() -> None:
    assert class_meaning(0xFF).startswith("PC/SC reader pseudo-APDU")


# -- names and GET RESPONSE --------------------------------------------------------

@pytest.mark.parametrize(("cla", "ins", "name"), [
    (0x00, 0xA4, "SELECT"), (0x0C, 0xB0, "READ BINARY"), (0x00, 0xB1, "READ BINARY"),
    (0x00, 0xB3, "READ RECORD(S)"), (0x00, 0xC0, "GET RESPONSE"), (0x00, 0x20, "VERIFY"),
    (0x00, 0x82, "EXTERNAL / MUTUAL AUTHENTICATE"), (0x00, 0x87, "GENERAL AUTHENTICATE"),
    (0x00, 0x04, "DEACTIVATE FILE"), (0x00, 0x44, "ACTIVATE FILE"), (0x00, 0xFE, "TERMINATE CARD USAGE"),
    (0x01, 0x70, "MANAGE CHANNEL"), (0x00, 0x2A, "PERFORM SECURITY OPERATION"), (0x00, 0xE6, "TERMINATE DF"),
    (0x80, 0x50, "INITIALIZE UPDATE"), (0x84, 0x82, "EXTERNAL AUTHENTICATE"), (0x80, 0xE6, "INSTALL"),
    (0x80, 0xE8, "LOAD"), (0x80, 0xF2, "GET STATUS"), (0x80, 0xD8, "PUT KEY"), (0x81, 0xE2, "STORE DATA"),
    (0xC1, 0xF2, "GET STATUS"),
    (0x80, 0xAE, "GENERATE AC"), (0x80, 0xA8, "GET PROCESSING OPTIONS"), (0x80, 0xCA, "GET DATA"),
    (0x84, 0x1E, "APPLICATION BLOCK"), (0x84, 0x18, "APPLICATION UNBLOCK"), (0x84, 0x16, "CARD BLOCK"),
    (0x84, 0x24, "PIN CHANGE/UNBLOCK"),
    (0xFF, 0xCA, "GET DATA"), (0xFF, 0x82, "LOAD KEYS"), (0xFF, 0x86, "GENERAL AUTHENTICATE"),
    (0xFF, 0xB0, "READ BINARY"), (0xFF, 0xD6, "UPDATE BINARY"),
    (0xA0, 0xF2, "STATUS"), (0xA0, 0x88, "RUN GSM ALGORITHM"),
])
def test_command_names(cla: int, ins: int, name: str) -> None:
    assert command_name(cla, ins) == name


@pytest.mark.parametrize(("cla", "ins"), [(0x00, 0x02), (0x80, 0xA4), (0x80, 0x24), (0xB0, 0xA4),
                                          (0xFF, 0xA4), (0x84, 0xAE)])
def test_unknown_commands_have_no_name(cla: int, ins: int) -> None:
    assert command_name(cla, ins) is None


@pytest.mark.parametrize(("cla", "le", "expected"), [
    (0x00, 0x10, "00C0000010"),
    (0x00, 0, "00C0000000"),
    (0x00, 256, "00C0000000"),
    (0x0D, 0x20, "01C0000020"),  # SM dropped, channel 1 kept
    (0x13, 0x20, "03C0000020"),  # chaining dropped, channel 3 kept
    (0x65, 0x08, "45C0000008"),  # further interindustry: channel 9, SM dropped
    (0x84, 0x08, "84C0000008"),  # proprietary kept as is
    (0xA0, 0x22, "A0C0000022"),
])
def test_get_response(cla: int, le: int, expected: str) -> None:
    assert get_response(cla, le) == H(expected)
    assert parse_apdu(get_response(cla, le)).name in ("GET RESPONSE", None)


def test_get_response_rejects_a_long_le() -> None:
    with pytest.raises(ValueError, match="0-256"):
        get_response(0x00, 257)


# -- byte_columns agrees with parse_hex ---------------------------------------------

@pytest.mark.parametrize(("text", "spans"), [
    ("00 A4", [(0, 2), (3, 5)]),
    ("00A40400", [(0, 2), (2, 4), (4, 6), (6, 8)]),
    ("0x00, 0XA4", [(0, 4), (6, 10)]),
    ("0x12 0x34", [(0, 4), (5, 9)]),
    (" 3b:8c\r\n\t80 ", [(1, 3), (4, 6), (9, 11)]),
    ("", []),
])
def test_byte_columns_examples(text: str, spans: list[tuple[int, int]]) -> None:
    assert byte_columns(text) == spans
    assert len(parse_hex(text)) == len(spans)


_SEPARATORS = ["", " ", "  ", ":", ",", ", ", "\t", "\n", "\r\n"]


@st.composite
def rendered_bytes(draw: st.DrawFn) -> tuple[bytes, str, list[tuple[int, int]]]:
    """Random bytes written in a random mix of the accepted styles, with the
    span each byte was written at."""
    data = draw(st.binary(max_size=40))
    text = draw(st.sampled_from(_SEPARATORS))
    spans = []
    for i, b in enumerate(data):
        if i:
            text += draw(st.sampled_from(_SEPARATORS))
        prefix = draw(st.sampled_from(["", "", "0x", "0X"]))
        digits = f"{b:02X}" if draw(st.booleans()) else f"{b:02x}"
        if draw(st.booleans()):
            digits = digits[0].swapcase() + digits[1]
        spans.append((len(text), len(text) + len(prefix) + 2))
        text += prefix + digits
    text += draw(st.sampled_from(_SEPARATORS))
    return data, text, spans


@given(rendered_bytes())
def test_byte_columns_map_back_to_the_bytes(case: tuple[bytes, str, list[tuple[int, int]]]) -> None:
    data, text, spans = case
    assert parse_hex(text) == data
    columns = byte_columns(text)
    assert columns == spans
    for value, (start, end) in zip(data, columns, strict=True):
        chunk = text[start:end]
        assert int(chunk[2:] if chunk[:2] in ("0x", "0X") else chunk, 16) == value


@given(st.text(alphabet="0123456789abcdefABCDEFxX :,\t\ngz", max_size=30))
def test_byte_columns_fails_exactly_where_parse_hex_does(text: str) -> None:
    try:
        expected = parse_hex(text)
    except HexError as exc:
        with pytest.raises(HexError) as info:
            byte_columns(text)
        assert (info.value.position, str(info.value)) == (exc.position, str(exc))
        return
    columns = byte_columns(text)
    assert len(columns) == len(expected)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(columns))
    for value, (start, end) in zip(expected, columns, strict=True):
        assert int(text[start:end].lower().removeprefix("0x"), 16) == value
