"""The FASC-N (Federal Agency Smart Credential Number, TIG SCEPACS 2.3 §6; SP 800-73-4 Part 1
§3.1.2): 40 characters of 5 bits in 25 bytes. Each character is 4 data bits, least significant
first, and an odd parity bit; a start sentinel, field separators and an end sentinel frame the
fields, and a longitudinal redundancy character (the XOR of the 39 before it, with its own odd
parity) ends it.

    SS AGENCY(4) FS SYSTEM(4) FS CREDENTIAL(6) FS CS FS ICI FS PI(10) OC OI(4) POA ES LRC
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

LENGTH = 25
CHARACTERS = 40


class Control(enum.IntEnum):
    START_SENTINEL = 0x0B
    FIELD_SEPARATOR = 0x0D
    END_SENTINEL = 0x0F


@dataclass(frozen=True)
class FieldSpec:
    name: str
    first: int  # character index
    count: int
    explanation: str
    #: Names the person (credential and person numbers); the others name agencies and categories.
    personal: bool = False


#: The data fields, by character position.
FIELDS = (
    FieldSpec("Agency code", 1, 4, "the government agency that issued the credential (9999: a "
              "non-federal issuer)"),
    FieldSpec("System code", 6, 4, "the system the card is enrolled in, unique within the agency"),
    FieldSpec("Credential number", 11, 6, "assigned by the agency: no two active ones in a system", True),
    FieldSpec("Credential series (CS)", 18, 1, "reflects major system changes"),
    FieldSpec("Individual credential issue (ICI)", 20, 1, "usually 1, incremented when a card is "
              "replaced (lost, damaged)"),
    FieldSpec("Person identifier (PI)", 22, 10, "the identity source's number for the cardholder", True),
    FieldSpec("Organizational category (OC)", 32, 1, "what kind of organization the cardholder "
              "belongs to"),
    FieldSpec("Organizational identifier (OI)", 33, 4, "the organization (for OC 1, an agency "
              "code per SP 800-87)"),
    FieldSpec("Person/organization association (POA)", 37, 1, "how the cardholder is affiliated "
              "with the organization"),
)
#: Where the framing characters must be.
FRAMING = {0: Control.START_SENTINEL, 5: Control.FIELD_SEPARATOR, 10: Control.FIELD_SEPARATOR,
           17: Control.FIELD_SEPARATOR, 19: Control.FIELD_SEPARATOR, 21: Control.FIELD_SEPARATOR,
           38: Control.END_SENTINEL}
LRC_INDEX = 39

ORGANIZATIONAL_CATEGORY = {1: "Federal Government Agency", 2: "State Government Agency",
                           3: "Commercial Enterprise", 4: "Foreign Government"}
ASSOCIATION = {1: "Employee", 2: "Civil", 3: "Executive Staff", 4: "Uniformed Service",
               5: "Contractor", 6: "Organizational Affiliate", 7: "Organizational Beneficiary"}


@dataclass(frozen=True)
class Field:
    spec: FieldSpec
    digits: str  # "?" for a character that is not a digit
    start: int  # byte span of the FASC-N holding the field's bits
    end: int

    @property
    def meaning(self) -> str:
        if not self.digits.isdigit():
            return ""
        table = {"Organizational category (OC)": ORGANIZATIONAL_CATEGORY,
                 "Person/organization association (POA)": ASSOCIATION}.get(self.spec.name, {})
        return table.get(int(self.digits), "")


@dataclass(frozen=True)
class Fascn:
    characters: tuple[int, ...]  # the 4-bit values
    fields: tuple[Field, ...]
    problems: tuple[str, ...]  # parity, framing and LRC errors; empty when well formed

    @property
    def text(self) -> str:
        """The usual printed form, fields joined by dashes."""
        parts = [f.digits for f in self.fields]
        return "-".join(parts[:5]) + "-" + "".join(parts[5:])


def byte_span(first: int, count: int) -> tuple[int, int]:
    """The bytes that hold characters first .. first+count-1 (5 bits each, from the top bit)."""
    return first * 5 // 8, ((first + count) * 5 - 1) // 8 + 1


def _characters(data: bytes) -> tuple[list[int], list[int]]:
    """The 40 4-bit values and the characters whose parity is even (wrong)."""
    bits = int.from_bytes(data, "big")
    values, bad = [], []
    for i in range(CHARACTERS):
        five = bits >> (LENGTH * 8 - 5 * (i + 1)) & 0x1F
        # Sent b1 first: the top bit of the five is the least significant data bit.
        b = [five >> (4 - k) & 1 for k in range(5)]
        values.append(b[0] | b[1] << 1 | b[2] << 2 | b[3] << 3)
        if sum(b) % 2 == 0:
            bad.append(i)
    return values, bad


def decode_fascn(data: bytes) -> Fascn | None:
    """The FASC-N in `data`, or None when it is not 25 bytes."""
    if len(data) != LENGTH:
        return None
    values, bad_parity = _characters(data)
    problems = [f"character {i + 1} has even parity" for i in bad_parity]
    for index, control in FRAMING.items():
        if values[index] != control:
            problems.append(f"character {index + 1} should be the {control.name.lower().replace('_', ' ')}")
    lrc = 0
    for value in values[:LRC_INDEX]:
        lrc ^= value
    if values[LRC_INDEX] != lrc:
        problems.append(f"the LRC is {values[LRC_INDEX]:X}, the characters before it give {lrc:X}")
    fields = []
    for spec in FIELDS:
        chars = values[spec.first : spec.first + spec.count]
        digits = "".join(str(c) if c <= 9 else "?" for c in chars)
        fields.append(Field(spec, digits, *byte_span(spec.first, spec.count)))
    return Fascn(tuple(values), tuple(fields), tuple(problems))
