"""Reading the patterns of expectations: status words (`61 xx | 90 00`, `63 Cx`) and bytes
(`6F xx * 90`, nibble wildcards `x`, one `*` for any number of bytes). Pure; errors are
ValueError with the column (0-based in the given text) in `args[1]`."""

from __future__ import annotations

import functools
import re
from itertools import repeat

from explorer.core.hexfmt import hex_digit
from explorer.script.model import BytePattern, SwPattern

_PLAIN = re.compile(r"[0-9A-Fa-f \t]*")


class PatternError(ValueError):
    def __init__(self, message: str, at: int) -> None:
        super().__init__(message)
        self.at = at


def _nibble(ch: str, at: int) -> tuple[int, int]:
    if ch in "xX":
        return 0, 0
    digit = hex_digit(ch)
    if digit is None:
        raise PatternError(f"{ch!r} is not a hex digit or x (any)", at)
    return 0xF, digit


def _tokens(text: str) -> list[tuple[str, int]]:
    """Two-character byte tokens and `*`, with where each starts: spaced or not."""
    out: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
        elif ch == "*":
            out.append(("*", i))
            i += 1
        elif i + 1 < n and text[i + 1] not in " \t*":
            out.append((text[i:i + 2], i))
            i += 2
        else:
            raise PatternError(f"{ch!r} has no second digit: a byte is two hex digits or x", i)
    return out


def _byte(token: str, at: int) -> tuple[int, int]:
    high_mask, high = _nibble(token[0], at)
    low_mask, low = _nibble(token[1], at + 1)
    return high_mask << 4 | low_mask, high << 4 | low


def byte_pattern(text: str, offset: int = 0) -> BytePattern:
    """Bytes with x nibbles and at most one `*`; `offset` is added to error columns."""
    if _PLAIN.fullmatch(text):
        # No wildcard: read at C speed. Pairs split by a blank are refused here as by _tokens,
        # and go to the reader below for the message.
        try:
            data = bytes.fromhex(text)
        except ValueError:
            pass
        else:
            return BytePattern(tuple(zip(repeat(0xFF, len(data)), data, strict=True)))
    head: list[tuple[int, int]] = []
    tail: list[tuple[int, int]] = []
    rest_at: int | None = None
    try:
        tokens = _tokens(text)
    except PatternError as exc:
        raise PatternError(str(exc), exc.at + offset) from None
    for token, at in tokens:
        if token == "*":
            if rest_at is not None:
                raise PatternError("only one * (any number of bytes) in a pattern", at + offset)
            rest_at = len(head)
            continue
        try:
            (tail if rest_at is not None else head).append(_byte(token, at))
        except PatternError as exc:
            raise PatternError(str(exc), exc.at + offset) from None
    return BytePattern(tuple(head), tuple(tail), rest_at)


def sw_pattern(text: str, offset: int = 0) -> SwPattern:
    """`90 00`, `9000`, `63 Cx`, `61 xx | 90 00`: alternatives of exactly two bytes each."""
    try:
        return _sw_pattern(text)
    except PatternError as exc:
        raise PatternError(str(exc), exc.at + offset) from None


@functools.lru_cache(maxsize=256)
def _sw_pattern(text: str) -> SwPattern:
    # A script writes the same few status words on thousands of lines: each is read once.
    alternatives: list[tuple[int, int]] = []
    start = 0
    for part in text.split("|"):
        stripped = part.strip()
        at = start + (len(part) - len(part.lstrip()))
        if not stripped:
            raise PatternError("an empty alternative: a status word is two bytes, e.g. 90 00", at)
        pattern = byte_pattern(stripped, at)
        if pattern.rest_at is not None or len(pattern.head) != 2:
            raise PatternError(f"{stripped!r} is not one status word (two bytes, x for any digit)", at)
        (m1, v1), (m2, v2) = pattern.head
        alternatives.append((m1 << 8 | m2, v1 << 8 | v2))
        start += len(part) + 1
    return SwPattern(tuple(alternatives), " | ".join(p.strip().upper().replace("X", "x")
                                                      for p in text.split("|")))
