"""Hex in and out, shared by every layer: upper case, single spaces out;
spaces, colons, line breaks and `0x` prefixes accepted in."""

from __future__ import annotations

_SEPARATORS = frozenset(" \t\r\n:,")
# ASCII only: int(ch, 16) also takes other scripts' digits (full-width "８" is 8), and a
# command typed with them must not reach a card as the bytes they happen to stand for.
_DIGITS = {ch: int(ch, 16) for ch in "0123456789abcdefABCDEF"}


def to_hex(data: bytes) -> str:
    # bytes.hex is C: ten times a join over the bytes, which reports of long runs feel.
    return bytes(data).hex(" ").upper()


def hex_digit(ch: str) -> int | None:
    """The value of one ASCII hex digit, or None for anything else."""
    return _DIGITS.get(ch)


def shown_char(ch: str) -> str:
    """A character for an error message: quoted, with its code point when it is not
    printable ASCII (a look-alike such as U+FF10 or a no-break space is then visible)."""
    if " " < ch < "\x7f":
        return f"'{ch}'"
    return f"{ch!r} (U+{ord(ch):04X})" if ch.isprintable() else f"U+{ord(ch):04X}"


class HexError(ValueError):
    """Bad hex input. `position` is the 0-based character index in the text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def _unpaired(text: str, at: int) -> HexError:
    return HexError(f"odd number of hex digits: '{text[at]}' at column {at + 1} has no partner", at)


def _bare_prefix(at: int) -> HexError:
    return HexError(f"'0x' at column {at + 1} has no hex digits after it", at)


def _scan(text: str) -> list[tuple[int, int, int]]:
    """(byte value, start, end) for every byte in `text`; the one reader behind
    parse_hex and byte_columns, so the two can never disagree."""
    out: list[tuple[int, int, int]] = []
    nibble: int | None = None
    nibble_at = 0
    # Where a `0x` prefix ended, so the highlighted span of the byte it
    # introduces covers the prefix too.
    prefix_at: int | None = None
    prefix_end = -1
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in _SEPARATORS:
            if nibble is not None:
                raise _unpaired(text, nibble_at)
            if prefix_end == i:
                raise _bare_prefix(prefix_end - 2)
            i += 1
            continue
        if ch == "0" and nibble is None and i + 1 < n and text[i + 1] in "xX":
            if prefix_end == i:
                raise _bare_prefix(prefix_end - 2)
            prefix_at, prefix_end = i, i + 2
            i += 2
            continue
        value = _DIGITS.get(ch)
        if value is None:
            raise HexError(f"{shown_char(ch)} at column {i + 1} is not a hex digit", i)
        if nibble is None:
            nibble, nibble_at = value, i
        else:
            start = prefix_at if prefix_at is not None and prefix_end == nibble_at else nibble_at
            out.append((nibble << 4 | value, start, i + 1))
            nibble = None
        i += 1
    if nibble is not None:
        raise _unpaired(text, nibble_at)
    if prefix_end == n and n:
        raise _bare_prefix(n - 2)
    return out


def parse_hex(text: str) -> bytes:
    """Bytes from hex text such as `00 A4 04 00`, `00:a4`, `0x00 0xA4` or `00A40400`.

    Raises HexError naming the character (1-based column in the message) at
    fault: a non-hex character, or a digit left alone at the end of a group.
    """
    # Plain hex, spaced or not, is what nearly every line of a script or a console holds:
    # bytes.fromhex reads it at C speed. It takes exactly the pairs _scan takes and skips only
    # ASCII whitespace, of which vertical tab and form feed are not separators here; anything
    # else it refuses goes to _scan, which reads it or names the fault.
    if "\x0b" not in text and "\x0c" not in text:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    return bytes(value for value, _, _ in _scan(text))


def byte_columns(text: str) -> list[tuple[int, int]]:
    """The (start, end) character span, end exclusive, of each byte parse_hex
    reads from `text`, so a UI can highlight byte i of an error in what the
    user typed. A `0x` prefix belongs to the byte it introduces. Raises
    HexError exactly where parse_hex does."""
    return [(start, end) for _, start, end in _scan(text)]
