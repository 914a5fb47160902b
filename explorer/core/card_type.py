"""Card types: predicates over an ATR, deciding which cards a session, a script
or a handler may act on."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from explorer.core.hexfmt import HexError, parse_hex, to_hex

# Characters that make a card-type text a pcsc-tools regular expression rather than plain hex.
_REGEX_CHARS = frozenset(".[]()|*+?\\^${}")


class CardType(Protocol):
    @property
    def description(self) -> str: ...

    def matches(self, atr: bytes) -> bool: ...


@dataclass(frozen=True)
class AnyCardType:
    @property
    def description(self) -> str:
        return "any card"

    def matches(self, atr: bytes) -> bool:
        # TS and T0 are mandatory: anything shorter is no answer to reset.
        return len(atr) >= 2


@dataclass(frozen=True)
class AtrCardType:
    """An exact ATR, or the ATR bits selected by `mask` (same length)."""

    atr: bytes
    mask: bytes | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "atr", bytes(self.atr))
        if self.mask is not None:
            object.__setattr__(self, "mask", bytes(self.mask))
            if len(self.mask) != len(self.atr):
                raise ValueError(f"the mask has {len(self.mask)} bytes but the ATR has {len(self.atr)}: "
                                 "they must be the same length")

    @property
    def description(self) -> str:
        if self.mask is None:
            return f"ATR {to_hex(self.atr)}"
        return f"ATR {to_hex(self.atr)} / mask {to_hex(self.mask)}"

    def matches(self, atr: bytes) -> bool:
        if len(atr) != len(self.atr):
            return False
        if self.mask is None:
            return bytes(atr) == self.atr
        return all(a & m == b & m for a, b, m in zip(atr, self.atr, self.mask, strict=True))


@dataclass(frozen=True)
class AtrPatternCardType:
    """A line of pcsc-tools' smartcard_list.txt, e.g. `3B 8F 80 01 80 4F 0C A0 ..`:
    pcsc_scan treats it as a regular expression over the ATR written in upper
    case with single spaces, matched whole and case-insensitively. Surrounding
    whitespace is dropped, since a pattern read from a file often carries it."""

    pattern: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            regex = re.compile(self.pattern.strip(), re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"ATR pattern '{self.pattern}' is not a valid regular expression: "
                             f"{exc}") from None
        object.__setattr__(self, "_regex", regex)

    @property
    def description(self) -> str:
        return f"ATR matching {self.pattern.strip()}"

    def matches(self, atr: bytes) -> bool:
        # fullmatch, not search: a pattern must not accept an ATR that merely starts like it.
        return self._regex.fullmatch(to_hex(atr)) is not None


@dataclass(frozen=True)
class PredicateCardType:
    predicate: Callable[[bytes], bool]
    description: str

    def matches(self, atr: bytes) -> bool:
        # A card type is asked about every card that shows up; one faulty
        # predicate must not break the monitor, so an exception means "no".
        try:
            return bool(self.predicate(atr))
        except Exception:
            return False


def parse_card_type(text: str) -> CardType:
    """A card type from what a user typed: '' or 'any'; a hex ATR; 'ATR/MASK';
    or a pcsc-tools pattern (anything with '.' or other regex characters).
    Raises ValueError saying which of these the text failed to be."""
    stripped = text.strip()
    if not stripped or stripped.lower() == "any":
        return AnyCardType()
    if "/" in stripped:
        parts = stripped.split("/")
        if len(parts) != 2:
            raise ValueError(f"'{stripped}' has {len(parts) - 1} '/': expected one, as in ATR/MASK")
        atr = _hex_part(parts[0], "ATR", stripped)
        mask = _hex_part(parts[1], "mask", stripped)
        return AtrCardType(atr, mask)
    if any(ch in _REGEX_CHARS for ch in stripped):
        return AtrPatternCardType(stripped)
    return AtrCardType(_hex_part(stripped, "ATR", stripped))


def _hex_part(part: str, what: str, whole: str) -> bytes:
    try:
        value = parse_hex(part)
    except HexError as exc:
        raise ValueError(f"card type '{whole}': the {what} is not hex ({exc}); expected 'any', "
                         "a hex ATR, ATR/MASK or a pcsc-tools pattern such as '3B 8F 80 01 ..'") from None
    if not value:
        raise ValueError(f"card type '{whole}': the {what} is empty")
    return value
