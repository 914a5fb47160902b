"""Card Production Life Cycle data (CPLC, tag 9F7F): 42 bytes in 18 fixed fields, in the order
and lengths the GlobalPlatform Card Specification gives them (inherited from Visa Open Platform).
Dates are 2 BCD bytes YDDD: the last digit of the year and the day of the year."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from explorer.apps.findings import Finding
from explorer.apps.session import Answer
from explorer.apps.traced import at


class Kind(enum.Enum):
    IDENTIFIER = "identifier"
    DATE = "date"
    NUMBER = "number"


@dataclass(frozen=True)
class Field:
    name: str
    length: int
    kind: Kind
    meaning: str


FIELDS: tuple[Field, ...] = (
    Field("IC fabricator", 2, Kind.IDENTIFIER, "who made the chip (silicon)"),
    Field("IC type", 2, Kind.IDENTIFIER, "the chip's type, in the fabricator's numbering"),
    Field("Operating system identifier", 2, Kind.IDENTIFIER, "who provided the card's operating system"),
    Field("Operating system release date", 2, Kind.DATE, "when the operating system was released"),
    Field("Operating system release level", 2, Kind.IDENTIFIER, "the operating system's version"),
    Field("IC fabrication date", 2, Kind.DATE, "when the chip was made"),
    Field("IC serial number", 4, Kind.NUMBER, "the chip's serial number, unique with the batch"),
    Field("IC batch identifier", 2, Kind.NUMBER, "the production batch of the chip"),
    Field("IC module fabricator", 2, Kind.IDENTIFIER, "who put the chip into its module"),
    Field("IC module packaging date", 2, Kind.DATE, "when the module was packaged"),
    Field("ICC manufacturer", 2, Kind.IDENTIFIER, "who embedded the module into the card body"),
    Field("IC embedding date", 2, Kind.DATE, "when the module was embedded"),
    Field("IC pre-personalizer", 2, Kind.IDENTIFIER, "who pre-personalized the card"),
    Field("IC pre-personalization equipment date", 2, Kind.DATE, "when the card was pre-personalized"),
    Field("IC pre-personalization equipment identifier", 4, Kind.NUMBER,
          "the machine that pre-personalized the card"),
    Field("IC personalizer", 2, Kind.IDENTIFIER, "who personalized the card for its issuer"),
    Field("IC personalization date", 2, Kind.DATE, "when the card was personalized"),
    Field("IC personalization equipment identifier", 4, Kind.NUMBER,
          "the machine that personalized the card"),
)
LENGTH = sum(f.length for f in FIELDS)  # 42

#: Fabricator codes as cards commonly carry them (the numbering is the industry's, not GP's).
FABRICATORS = {0x4090: "Infineon", 0x4250: "Samsung", 0x4790: "NXP"}

#: The decades offered for a YDDD date: the digit alone cannot tell them apart.
DECADES = (2000, 2010, 2020)


def _bcd_digits(value: bytes) -> str | None:
    text = value.hex()
    return text if text.isdigit() else None


def date_text(value: bytes) -> tuple[str, str]:
    """(value, explanation) of a YDDD date."""
    if value in (b"\x00\x00", b"\xff\xff"):
        return value.hex().upper(), "not set (0000 and FFFF are no date)"
    digits = _bcd_digits(value)
    day = int(digits[1:]) if digits else 0
    if digits is None or not 1 <= day <= 366:
        return value.hex().upper(), ("not a valid YDDD date: four decimal digits are expected, the last "
                                     "three a day of the year from 001 to 366")
    year = int(digits[0])
    dates = []
    for decade in DECADES:
        first = datetime.date(decade + year, 1, 1)
        when = first + datetime.timedelta(days=day - 1)
        if when.year == first.year:  # day 366 exists in leap years only
            dates.append(when.isoformat())
    possible = ", ".join(dates) if dates else "none: day 366 of a year that is not a leap year"
    return (f"day {day} of a year ending in {year}",
            f"YDDD: {digits[0]} is the last digit of the year, {digits[1:]} the day of the year; "
            f"possible calendar dates: {possible}")


def _field_text(spec: Field, value: bytes) -> tuple[str, str]:
    if spec.kind is Kind.DATE:
        shown, why = date_text(value)
        return shown, f"{spec.meaning.capitalize()}. {why}"
    number = int.from_bytes(value, "big")
    shown = value.hex().upper()
    if spec.kind is Kind.IDENTIFIER and spec.name.endswith("fabricator") and number in FABRICATORS:
        return f"{shown} ({FABRICATORS[number]})", f"{spec.meaning.capitalize()}: {FABRICATORS[number]}."
    return shown, f"{spec.meaning.capitalize()}."


def decode_cplc(answer: Answer, start: int, end: int) -> list[Finding]:
    """The CPLC fields found in bytes `start:end` of `answer`'s data (the value of 9F7F). Fewer
    bytes than 42 give the fields that fit and a finding for the missing rest; more give one for
    the extra bytes."""
    out: list[Finding] = []
    pos = start
    for spec in FIELDS:
        if pos + spec.length > end:
            out.append(at(answer, pos, end, "Missing fields", f"{LENGTH - (pos - start)} bytes short",
                          f"CPLC data is {LENGTH} bytes; this one has {end - start}: {spec.name} and the "
                          "fields after it are missing."))
            return out
        value = answer.data[pos : pos + spec.length]
        shown, why = _field_text(spec, value)
        out.append(at(answer, pos, pos + spec.length, spec.name, shown, why))
        pos += spec.length
    if pos < end:
        out.append(at(answer, pos, end, "Extra bytes", f"{end - pos} bytes",
                      f"CPLC data is {LENGTH} bytes; these follow the last field and mean nothing defined."))
    return out
