"""What the subcommands say about input they refuse: the message, and the
input with carets under the characters at fault. Input, file names and what
files hold are untrusted text: printed with their control characters escaped
(explorer.core.printable), so nothing read can move the terminal's cursor or
forge a line of output."""

from __future__ import annotations

import sys

from explorer.core.printable import printable


class BadInput(Exception):
    """A usage problem found before anything was done; the message is printed as is."""


def refuse(command: str, message: str) -> int:
    """Print why `command` refuses its input, on one line with controls escaped; returns the exit code (2)."""
    from explorer.cli import EXIT_USAGE

    print(f"card-explorer {command}: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def pointer(text: str, start: int, end: int | None = None) -> str:
    """The text with carets under characters start..end (end exclusive; one caret by default).
    A tab shows as a space and any other control character escaped; the carets follow."""
    shown = [" " if ch == "\t" else printable(ch) for ch in text]
    start = min(start, len(shown))
    stop = start + 1 if end is None else max(start + 1, end)
    column = sum(len(piece) for piece in shown[:start])
    past_end = max(0, stop - len(shown))  # a missing byte is pointed at after the text
    width = max(1, sum(len(piece) for piece in shown[start:stop]) + past_end)
    return f"  {''.join(shown)}\n  {' ' * column}{'^' * width}"
