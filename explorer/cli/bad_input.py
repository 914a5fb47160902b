"""What the subcommands say about input they refuse: the message, and the
input with carets under the characters at fault."""

from __future__ import annotations


class BadInput(Exception):
    """A usage problem found before anything was done; the message is printed as is."""


def pointer(text: str, start: int, end: int | None = None) -> str:
    """The text with carets under characters start..end (end exclusive; one caret by default)."""
    shown = text.replace("\t", " ")
    start = min(start, len(shown))
    width = 1 if end is None else max(1, end - start)
    return f"  {shown}\n  {' ' * start}{'^' * width}"
