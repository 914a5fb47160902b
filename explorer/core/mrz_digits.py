"""ICAO Doc 9303 Part 3 check digits, and the MRZ information Basic Access Control keys come from.

Shared by the passport analyzer (checking what the user typed or what DG1 holds) and the virtual
passport (deriving the same keys on the card's side).
"""

from __future__ import annotations

import string

# 9303-3 4.9: digits are themselves, A-Z are 10-35, the filler '<' is 0; weights 7, 3, 1 repeated.
_VALUES = {c: i for i, c in enumerate(string.digits + string.ascii_uppercase)} | {"<": 0}
_WEIGHTS = (7, 3, 1)


class MrzCharacterError(ValueError):
    """A character an MRZ cannot hold; `position` is its 0-based index in the field."""

    def __init__(self, field: str, position: int) -> None:
        super().__init__(f"{field!r}: character {position + 1} ({field[position]!r}) is not "
                         "0-9, A-Z or <")
        self.position = position


def check_digit(field: str) -> str:
    """The check digit of an MRZ field ("L898902C<" gives "3")."""
    total = 0
    for i, char in enumerate(field):
        value = _VALUES.get(char)
        if value is None:
            raise MrzCharacterError(field, i)
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


def mrz_information(document_number: str, date_of_birth: str, date_of_expiry: str) -> str:
    """What BAC's key seed is hashed from (9303-11 9.7.1.1): the document number padded with '<'
    to at least 9 characters, the two dates (YYMMDD), each followed by its check digit."""
    number = document_number.upper().ljust(9, "<")
    return "".join(f + check_digit(f) for f in (number, date_of_birth, date_of_expiry))
