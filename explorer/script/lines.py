"""Pieces of a script line: words with their columns, numbers, tag paths, and the lines that
belong to the command above (expect, capture, option). Errors are LineError, at an index in the
logical line, which the parser turns into a placed diagnostic."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from itertools import islice

from explorer.core.hexfmt import HexError, parse_hex
from explorer.script.model import BytePattern, Capture, Command, Compare, Expectation, Place
from explorer.script.patterns import PatternError, byte_pattern, sw_pattern

MAX_OFFSET = 65_536
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class LineError(Exception):
    """A line cannot be read: the message, and the index in the logical line."""

    def __init__(self, message: str, at: int) -> None:
        super().__init__(message)
        self.at = at


_WORD = re.compile(r"\S+")


def words(text: str, offset: int, limit: int | None = None) -> list[tuple[str, int]]:
    """The words of `text` with where each starts (plus `offset`): the first `limit` only."""
    return [(m.group(0), offset + m.start()) for m in islice(_WORD.finditer(text), limit)]


def number(token: str, at: int, what: str, largest: int) -> int:
    """A whole number in ASCII digits, at most `largest`, read without converting huge text."""
    if not token.isascii() or not token.isdigit():
        raise LineError(f"{what} must be a whole number, not {token!r}", at)
    if len(token) > 12 or int(token) > largest:
        raise LineError(f"{what} is at most {largest}", at)
    return int(token)


def tag_path(text: str, at: int) -> tuple[int, ...]:
    tags: list[int] = []
    for part in text.split("/"):
        try:
            raw = parse_hex(part)
        except HexError as exc:
            raise LineError(f"tag path {text!r}: {exc}", at) from None
        if not 1 <= len(raw) <= 3:
            raise LineError(f"tag path {text!r}: a tag is 1 to 3 bytes, e.g. 6F/84", at)
        tags.append(int.from_bytes(raw, "big"))
    return tuple(tags)


def read_expect(expect: Expectation, rest: str, at: int) -> Expectation:
    """`expect …` (what follows the keyword, starting at index `at`) added to `expect`."""
    found = words(rest, at, 2)  # what follows `data` or `sw` is a pattern, read as a whole
    if not found:
        raise LineError("expect what: a status word (90 00), data, length or tlv", at)
    kind = found[0][0].lower()
    if kind in ("length", "tlv"):
        found = words(rest, at)
    try:
        if kind == "data":
            text = rest[found[0][1] - at + 4:]
            start = at + len(rest) - len(text.lstrip())
            return replace(expect, data=byte_pattern(text.strip(), start), data_text=text.strip())
        if kind == "length":
            compare = Compare.EXACTLY
            tail = found[1:]
            if tail and tail[0][0] in (">=", "=="):
                compare = Compare(tail.pop(0)[0])
            if len(tail) != 1:
                raise LineError("expect length [>=] N", at)
            return replace(expect, length=(compare, number(tail[0][0], tail[0][1], "a length", MAX_OFFSET)))
        if kind == "tlv":
            return replace(expect, tlv=(*expect.tlv, _tlv(rest, at, found)))
        if kind == "sw" and len(found) == 1:
            raise LineError("expect sw PATTERN, e.g. expect sw 90 00", at)
        if kind != "sw" and len(kind) > 2 and not all(c in "0123456789abcdefx|" for c in kind):
            # A word, not a status word: most likely a misspelt kind ("len", "tag").
            raise LineError(f"expect {found[0][0]!r}? expect sw, data, length or tlv "
                            "(or a status word such as 90 00)", found[0][1])
        text = rest[found[1][1] - at:] if kind == "sw" else rest
        start = at + len(rest) - len(text.lstrip())
        return replace(expect, sw=sw_pattern(text.strip(), start))
    except PatternError as exc:
        raise LineError(str(exc), exc.at) from None


def _tlv(rest: str, at: int, found: list[tuple[str, int]]) -> tuple[tuple[int, ...], BytePattern | None, str]:
    if len(found) < 2:
        raise LineError("expect tlv PATH [= VALUE], e.g. expect tlv 6F/84", at)
    path = tag_path(found[1][0], found[1][1])
    after = rest[found[1][1] - at + len(found[1][0]):]
    if not after.strip():
        return path, None, ""
    if not after.strip().startswith("="):
        raise LineError("after the tag path: = VALUE, or nothing", found[1][1] + len(found[1][0]))
    text = after.strip()[1:].strip()
    start = at + len(rest) - len(after.lstrip()) + 1
    return path, byte_pattern(text, start), text


def read_capture(rest: str, at: int, place: Callable[[int], Place]) -> Capture:
    found = words(rest, at)
    if len(found) < 3 or found[1][0].lower() not in ("data", "tlv"):
        raise LineError("capture NAME data OFFSET [LENGTH], or capture NAME tlv PATH", at)
    name = found[0][0]
    if not NAME.match(name):
        raise LineError(f"{name!r} is not a variable name (letters, digits, _)", found[0][1])
    where = place(found[0][1])
    if found[1][0].lower() == "tlv":
        if len(found) != 3:
            raise LineError("capture NAME tlv PATH", found[1][1])
        return Capture(name, where, tlv_path=tag_path(found[2][0], found[2][1]))
    if len(found) > 4:
        raise LineError("capture NAME data OFFSET [LENGTH]", found[4][1])
    offset = number(found[2][0], found[2][1], "an offset", MAX_OFFSET)
    length = number(found[3][0], found[3][1], "a length", MAX_OFFSET) if len(found) == 4 else None
    return Capture(name, where, offset, length)


def read_option(command: Command, rest: str, at: int) -> Command:
    found = words(rest, at)
    if len(found) != 2 or found[0][0].lower() not in ("get-response", "resend") \
            or found[1][0].lower() not in ("on", "off"):
        raise LineError("option get-response on|off, or option resend on|off", at)
    on = found[1][0].lower() == "on"
    if found[0][0].lower() == "get-response":
        return replace(command, get_response=on)
    return replace(command, resend=on)
