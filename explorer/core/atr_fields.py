"""The tree a decoded ATR is shown as: fields that point at their bytes.

Every field carries the half-open span [start, end) of ATR bytes it was read
from, so a view can go from a byte to what it means and back. Sub-fields of
one byte (Fi and Di in TA1) share their parent's span; fields inside the
historical bytes get narrower spans as the tree goes down.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


class Level(enum.IntEnum):
    """How much a finding matters to a tester."""

    NOTE = 0
    WARNING = 1
    ERROR = 2


@dataclass(frozen=True)
class Finding:
    """Something wrong or unusual in the ATR, with the bytes it is about.
    An empty span (start == end) points just past the last byte: a byte
    that should be there and is not."""

    level: Level
    message: str
    start: int
    end: int


@dataclass(frozen=True)
class AtrField:
    name: str
    value: str
    meaning: str
    start: int
    end: int
    children: tuple[AtrField, ...] = ()
    level: Level | None = None

    def contains(self, index: int) -> bool:
        return self.start <= index < self.end

    def walk(self, depth: int = 0) -> Iterator[tuple[int, AtrField]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


def span_text(start: int, end: int) -> str:
    """Where a span is, for people: `byte 2`, `bytes 13-16`, `after byte 7`."""
    if end <= start:
        return f"after byte {start - 1}" if start else "where the ATR should start"
    if end - start == 1:
        return f"byte {start}"
    return f"bytes {start}-{end - 1}"


def field_path(fields: Sequence[AtrField], index: int) -> tuple[int, ...]:
    """Row path to the field that best explains byte `index`: the top-level
    field holding it, then down through children only while a child is
    narrower than its parent (Fi and Di explain TA1 together, so hovering
    TA1 selects TA1; a byte inside a TLV object selects that object's value).
    Empty when no field holds the byte."""
    path: list[int] = []
    level = fields
    span = None
    while True:
        for row, field in enumerate(level):
            if field.contains(index) and (span is None or field.end - field.start < span):
                path.append(row)
                span = field.end - field.start
                level = field.children
                break
        else:
            return tuple(path)


def field_by_path(fields: Sequence[AtrField], path: Sequence[int]) -> AtrField | None:
    level = fields
    found: AtrField | None = None
    for row in path:
        if not 0 <= row < len(level):
            return None
        found = level[row]
        level = found.children
    return found
