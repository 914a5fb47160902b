"""The console's structured view: one field edited, Lc and the encoding follow (pure, no Qt)."""

from __future__ import annotations

import pytest

from explorer.core.apdu import parse_apdu
from explorer.core.apdu_edit import FieldError, edit_field
from explorer.core.hexfmt import parse_hex, to_hex


def edited(command: str, name: str, text: str) -> str:
    return to_hex(edit_field(parse_apdu(parse_hex(command)), name, text).to_bytes())


@pytest.mark.parametrize(("command", "name", "text", "result"), [
    ("00 A4 04 00 02 3F 00", "P1", "08", "00 A4 08 00 02 3F 00"),
    ("00 A4 04 00 02 3F 00", "CLA", "80", "80 A4 04 00 02 3F 00"),
    ("00 A4 04 00 02 3F 00", "Data", "3F 00 50 15", "00 A4 04 00 04 3F 00 50 15"),  # Lc follows
    ("00 A4 04 00 02 3F 00", "Data", "", "00 A4 04 00"),  # no data: no Lc
    ("00 A4 04 00", "Le", "00", "00 A4 04 00 00"),  # Le 00: up to 256
    ("00 A4 04 00 00", "Le", "", "00 A4 04 00"),
    ("00 B0 00 00 10", "Le", "0100", "00 B0 00 00 00 01 00"),  # two bytes typed: extended
    ("00 D6 00 00 01 AA", "Data", "AA " * 300, "00 D6 00 00 00 01 2C " + "AA " * 299 + "AA"),
    ("00 D6 00 00 00 01 2C " + "AA " * 300, "Data", "BB", "00 D6 00 00 01 BB"),  # short again
    ("00 B0 00 00 00 00 10", "P1", "01", "00 B0 01 00 00 00 10"),  # the tester's extended is kept
    ("00 B0 00 00 00 00 10", "Le", "20", "00 B0 00 00 00 00 20"),
])
def test_one_field_edited(command: str, name: str, text: str, result: str) -> None:
    assert edited(command, name, text) == result


@pytest.mark.parametrize(("name", "text", "words"), [
    ("P1", "0102", "P1: one byte expected, 2 given"),
    ("INS", "", "INS: one byte expected, 0 given"),
    ("INS", "61", "INS: byte 1 (INS = 61) is invalid"),
    ("Data", "3G", "Data: 'G' at column 2 is not a hex digit"),
    ("Le", "01 02 03", "Le: 3 bytes; Le is one byte (short) or two (extended)"),
    ("Lc", "05", "Lc: not a field that can be typed"),
    ("P2", "０１", "P2: '０' (U+FF10) at column 1 is not a hex digit"),
])
def test_a_bad_value_names_its_field(name: str, text: str, words: str) -> None:
    with pytest.raises(FieldError, match="^" + name) as info:
        edited("00 A4 04 00 02 3F 00", name, text)
    assert words in str(info.value)
