"""Text from outside (reader names, file names, a profile's name, a card's error
text) made safe to print on one line.

A control character in such text can move a terminal's cursor, recolour it or
forge a line of a log; a bidirectional override makes text read differently
from what it holds. Everything `str.isprintable` refuses is written as a
Python escape instead, so what is shown is what is there. Escaping is
idempotent: the escapes themselves are printable.
"""

from __future__ import annotations

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every non-printable character (controls, line breaks, tabs, format and
    bidirectional marks, lone surrogates) escaped as Python writes it: \\t \\n \\r, else
    \\xNN, \\uNNNN or \\UNNNNNNNN."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def shortened(text: str, limit: int = 60) -> str:
    """Printable, and cut to about `limit` characters with the full length said: for
    quoting a value in a message, where a megabyte of it helps nobody."""
    if len(text) <= limit:
        return printable(text)
    return f"{printable(text[:limit])}… ({len(text)} characters)"
