"""The machine readable zone (ICAO Doc 9303 Parts 3 to 6): what the user types for BAC (document
number, birth and expiry dates) and a whole MRZ, pasted or read from DG1, parsed into its fields
with every check digit verified.

Each parsed field keeps where it is in the MRZ's lines joined without separators (DG1's 5F1F
holds them so), so a DG1 finding can point at its bytes.
"""

from __future__ import annotations

import datetime
import enum
import re
from dataclasses import dataclass

from explorer.core.mrz_digits import MrzCharacterError, check_digit, mrz_information

_ALLOWED = re.compile(r"[0-9A-Z<]*")


class MrzError(ValueError):
    """What is wrong with an MRZ or an MRZ entry, naming the field."""


class Layout(enum.Enum):
    TD1 = "TD1 (ID card, 3 lines of 30)"
    TD2 = "TD2 (2 lines of 36)"
    TD3 = "TD3 (passport, 2 lines of 44)"


_WIDTH_LINES = {30: (Layout.TD1, 3), 36: (Layout.TD2, 2), 44: (Layout.TD3, 2)}


@dataclass(frozen=True)
class Entry:
    """What BAC needs, checked: `information` is the MRZ information its keys come from."""

    document_number: str
    date_of_birth: str
    date_of_expiry: str

    @property
    def information(self) -> str:
        return mrz_information(self.document_number, self.date_of_birth, self.date_of_expiry)


def _date(value: str, field: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"\d{6}", value):
        raise MrzError(f"{field}: {value!r} is not a date written YYMMDD (six digits)")
    try:
        # The century does not matter for validity except 29 February: 2000 is a leap year as
        # 1900 is not, and 9303 dates are read in a 100-year window; take the leap-friendly one.
        datetime.date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
    except ValueError:
        raise MrzError(f"{field}: {value!r} is not a real date (YYMMDD)") from None
    return value


def parse_entry(document_number: str, date_of_birth: str, date_of_expiry: str) -> Entry:
    """The three BAC fields as a user types them: the document number in capitals (lowercase is
    taken) of 0-9, A-Z and `<`, padded with `<` to 9; the dates as YYMMDD real dates."""
    number = document_number.strip().upper()
    if not number:
        raise MrzError("document number: empty")
    if not _ALLOWED.fullmatch(number):
        bad = next(c for c in number if not _ALLOWED.fullmatch(c))
        raise MrzError(f"document number: {bad!r} is not 0-9, A-Z or <")
    if len(number) > 22:
        raise MrzError(f"document number: {len(number)} characters, at most 22")
    return Entry(number.ljust(9, "<"), _date(date_of_birth, "date of birth"),
                 _date(date_of_expiry, "date of expiry"))


@dataclass(frozen=True)
class Field:
    name: str
    value: str  # as read for a person: fillers removed, names spaced
    start: int  # where in the joined lines
    end: int
    check: Check | None = None


@dataclass(frozen=True)
class Check:
    """A check digit: over which field, the digit the MRZ holds, the one it should hold."""

    of: str
    position: int
    found: str
    expected: str

    @property
    def ok(self) -> bool:
        # 9303-4 4.2.2.2: an all-filler optional data field may have a filler for its digit.
        return self.found == self.expected or (self.found == "<" and self.expected == "0")


@dataclass(frozen=True)
class Mrz:
    layout: Layout
    text: str  # the lines joined
    fields: tuple[Field, ...]
    checks: tuple[Check, ...]
    document_number: str  # whole, with a TD1/TD2 long number's overflow

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(f"{c.of}: check digit is {c.found}, should be {c.expected}"
                     for c in self.checks if not c.ok)

    @property
    def information(self) -> str:
        """The MRZ information BAC's keys come from (9303-11 9.7.1.1)."""
        return mrz_information(self.document_number, self.field("Date of birth").value,
                               self.field("Date of expiry").value)


def _lines(text: str) -> tuple[Layout, str]:
    compact = re.sub(r"\s+", "", text).upper()
    if not _ALLOWED.fullmatch(compact):
        bad = next(i for i, c in enumerate(compact) if not _ALLOWED.fullmatch(c))
        raise MrzError(f"MRZ: character {bad + 1} ({compact[bad]!r}) is not 0-9, A-Z or <")
    for width, (layout, count) in _WIDTH_LINES.items():
        if len(compact) == width * count:
            return layout, compact
    raise MrzError(f"MRZ: {len(compact)} characters; a TD1 has 3 lines of 30 (90), a TD2 2 lines "
                   "of 36 (72), a TD3 2 lines of 44 (88)")


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.fields: list[Field] = []
        self.checks: list[Check] = []
        self.overflow_end: int | None = None  # where a long document number's digit ends

    def raw(self, start: int, end: int) -> str:
        return self.text[start:end]

    def add(self, name: str, start: int, end: int, value: str | None = None,
            digit_at: int | None = None) -> None:
        check = None
        if digit_at is not None:
            check = self.check(name, start, end, digit_at)
        shown = value if value is not None else self.text[start:end].rstrip("<").replace("<", " ")
        self.fields.append(Field(name, shown, start, end, check))

    def check(self, name: str, start: int, end: int, digit_at: int, over: str | None = None) -> Check:
        try:
            expected = check_digit(over if over is not None else self.text[start:end])
        except MrzCharacterError:  # _lines let only 0-9, A-Z and < through
            expected = "?"
        check = Check(name, digit_at, self.text[digit_at], expected)
        self.checks.append(check)
        return check

    def names(self, start: int, end: int) -> None:
        primary, _, secondary = self.text[start:end].partition("<<")
        self.add("Primary identifier", start, start + len(primary), primary.replace("<", " ").strip())
        self.add("Secondary identifier", min(start + len(primary) + 2, end), end,
                 secondary.replace("<", " ").strip())

    def number(self, start: int, optional: tuple[int, int]) -> str:
        """The document number at start (9 and its digit); a longer one (9303-5 4.2.2 note j):
        a filler for the digit, the rest in the optional data up to a digit followed by <."""
        head = self.text[start:start + 9]
        if self.text[start + 9] != "<":
            self.add("Document number", start, start + 9, head.rstrip("<"), start + 9)
            return head
        opt = self.text[optional[0]:optional[1]]
        match = re.match(r"([0-9A-Z]*?)(\d)(<|$)", opt)
        if match is None:  # a filler digit and no overflow: the check digit is wrong
            self.add("Document number", start, start + 9, head.rstrip("<"), start + 9)
            return head
        rest, digit_at = match.group(1), optional[0] + match.end(1)
        whole = head + rest
        self.overflow_end = digit_at + 1
        self.fields.append(Field("Document number", whole.rstrip("<"), start, digit_at))
        self.check("Document number", start, start + 9, digit_at, over=whole)
        return whole

    def date(self, name: str, start: int) -> None:
        self.add(name, start, start + 6, self.text[start:start + 6], start + 6)

    def composite(self, spans: list[tuple[int, int]], at: int) -> None:
        self.check("Composite", 0, 0, at, over="".join(self.text[a:b] for a, b in spans))


def read_mrz(text: str) -> Mrz:
    """The MRZ parsed, check digits compared but not enforced (`Mrz.problems`): what a chip's
    DG1 holds is shown even when wrong. MrzError only when it is no MRZ at all."""
    layout, joined = _lines(text)
    r = _Reader(joined)
    r.add("Document code", 0, 2)
    r.add("Issuing state", 2, 5)
    if layout is Layout.TD1:
        number = r.number(5, (15, 30))
        r.add("Optional data", r.overflow_end or 15, 30)
        r.date("Date of birth", 30)
        r.add("Sex", 37, 38)
        r.date("Date of expiry", 38)
        r.add("Nationality", 45, 48)
        r.add("Optional data (line 2)", 48, 59)
        r.composite([(5, 30), (30, 37), (38, 45), (48, 59)], 59)
        r.names(60, 90)
    else:
        width = 36 if layout is Layout.TD2 else 44
        r.names(5, width)
        line2 = width
        opt_end = line2 + (35 if layout is Layout.TD2 else 42)
        number = r.number(line2, (line2 + 28, opt_end))
        r.add("Nationality", line2 + 10, line2 + 13)
        r.date("Date of birth", line2 + 13)
        r.add("Sex", line2 + 20, line2 + 21)
        r.date("Date of expiry", line2 + 21)
        if layout is Layout.TD3:
            r.add("Optional data", line2 + 28, line2 + 42, digit_at=line2 + 42)
            r.composite([(line2, line2 + 10), (line2 + 13, line2 + 20), (line2 + 21, line2 + 43)],
                         line2 + 43)
        else:
            r.add("Optional data", r.overflow_end or line2 + 28, line2 + 35)
            r.composite([(line2, line2 + 10), (line2 + 13, line2 + 20), (line2 + 21, line2 + 35)],
                         line2 + 35)
    return Mrz(layout, joined, tuple(r.fields), tuple(r.checks), number.rstrip("<"))


def parse_mrz(text: str) -> Mrz:
    """A pasted MRZ (spaces, line breaks and lowercase tolerated), every check digit right;
    MrzError naming the first wrong one ("date of expiry: check digit is 5, should be 9")."""
    mrz = read_mrz(text)
    if mrz.problems:
        raise MrzError(mrz.problems[0][:1].upper() + mrz.problems[0][1:])
    return mrz
