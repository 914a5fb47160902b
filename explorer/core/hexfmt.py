"""Hex in and out, shared by every layer: upper case, single spaces out;
spaces, colons, line breaks and `0x` prefixes accepted in."""

from __future__ import annotations

_SEPARATORS = frozenset(" \t\r\n:,")


def to_hex(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


class HexError(ValueError):
    """Bad hex input. `position` is the 0-based character index in the text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def parse_hex(text: str) -> bytes:
    """Bytes from hex text such as `00 A4 04 00`, `00:a4`, `0x00 0xA4` or `00A40400`.

    Raises HexError naming the character (1-based column in the message) at
    fault: a non-hex character, or a digit left alone at the end of a group.
    """
    out = bytearray()
    nibble: int | None = None
    nibble_at = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in _SEPARATORS:
            if nibble is not None:
                raise HexError(f"odd number of hex digits: '{text[nibble_at]}' at column "
                               f"{nibble_at + 1} has no partner", nibble_at)
            i += 1
            continue
        if ch == "0" and nibble is None and i + 1 < n and text[i + 1] in "xX":
            i += 2
            continue
        try:
            value = int(ch, 16)
        except ValueError:
            raise HexError(f"'{ch}' at column {i + 1} is not a hex digit", i) from None
        if nibble is None:
            nibble, nibble_at = value, i
        else:
            out.append(nibble << 4 | value)
            nibble = None
        i += 1
    if nibble is not None:
        raise HexError(f"odd number of hex digits: '{text[nibble_at]}' at column "
                       f"{nibble_at + 1} has no partner", nibble_at)
    return bytes(out)
