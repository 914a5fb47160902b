import pytest

from explorer.core.hexfmt import HexError, parse_hex, to_hex


@pytest.mark.parametrize("text", ["00 A4 04 00", "00:a4:04:00", "0x00 0xA4 0x04 0x00",
                                  "00A40400", "00 A4\n04\t00", " 00a4 0400 "])
def test_accepted_forms(text: str) -> None:
    assert parse_hex(text) == b"\x00\xa4\x04\x00"


def test_round_trip() -> None:
    assert to_hex(parse_hex("3b8c8001")) == "3B 8C 80 01"
    assert parse_hex("") == b""


@pytest.mark.parametrize(("text", "position", "words"), [
    ("00 A4 0G", 7, "'G' at column 8 is not a hex digit"),
    ("00 A 04", 3, "'A' at column 4 has no partner"),
    ("00A", 2, "'A' at column 3 has no partner"),
    # A bare prefix is a typo, not nothing: it must not vanish silently.
    ("3B 0X", 3, "'0x' at column 4 has no hex digits after it"),
    ("0x 3B", 0, "'0x' at column 1 has no hex digits"),
    ("3B 0x0x11", 3, "'0x' at column 4 has no hex digits"),
    ("0x", 0, "'0x' at column 1 has no hex digits"),
])
def test_errors_name_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(HexError) as info:
        parse_hex(text)
    assert info.value.position == position
    assert words in str(info.value)


@pytest.mark.parametrize(("text", "words"), [
    # Full-width digits: int(ch, 16) reads them as 0 and 8, and this was sent as GET CHALLENGE.
    ("００ ８４ ００ ００ ０８", "'０' (U+FF10) at column 1 is not a hex digit"),
    ("00 8٤", "'٤' (U+0664) at column 5 is not a hex digit"),  # Arabic-Indic four
    ("00\u00a084", "U+00A0 at column 3 is not a hex digit"),  # a no-break space is no separator
    ("00 8\u200b4", "U+200B at column 5 is not a hex digit"),  # zero-width space
])
def test_only_ascii_hex_digits(text: str, words: str) -> None:
    with pytest.raises(HexError) as info:
        parse_hex(text)
    assert words in str(info.value)


def test_a_command_in_other_digits_is_never_an_apdu() -> None:
    from explorer.core.apdu import ApduError, parse_apdu
    from explorer.core.apdu_text import check_command_text

    with pytest.raises((ApduError, HexError)):
        parse_apdu(parse_hex("００ ８４ ００ ００ ０８"))
    assert not check_command_text("００ ８４ ００ ００ ０８").ok
