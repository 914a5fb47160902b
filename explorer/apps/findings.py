"""What an analyzer found: a tree of named values, each explained and traced to its bytes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """Where a finding's bytes are: exchange `exchange` of the analysis (AnalysisSession.exchanges,
    counted from 0), bytes `start` to `end` (end exclusive) of that exchange's response data."""

    exchange: int
    start: int
    end: int


@dataclass(frozen=True)
class Finding:
    """One thing a card holds. `value` is what is shown ("" for a group); `raw` the bytes it was
    read from; `explanation` says in plain words what it means. `sensitive` values (a PAN, track 2
    data, MRZ) are shown masked unless the user reveals them (`shown`)."""

    name: str
    value: str = ""
    explanation: str = ""
    source: Source | None = None
    raw: bytes = b""
    sensitive: bool = False
    children: tuple[Finding, ...] = field(default=())
    #: What `raw` is when it is a picture the panel shows: "JPEG" or "JPEG 2000" ("" otherwise).
    image: str = ""

    def shown(self, reveal: bool = False) -> str:
        return self.value if reveal or not self.sensitive else mask_value(self.value)

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Finding]]:
        """This finding and every one under it, depth first, with its depth."""
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    def find(self, name: str) -> Finding | None:
        """The first finding named `name` here or below (for tests and summaries)."""
        return next((f for _, f in self.walk() if f.name == name), None)


def mask_value(value: str) -> str:
    """A sensitive value as shown masked: its last four characters kept, as card slips print a
    PAN (5413 33•• •••• 0019 would still tell the issuer; the last four only tell the card)."""
    keep = 4 if len(value) > 8 else 0
    return "•" * (len(value) - keep) + value[len(value) - keep:]


def group(name: str, children: list[Finding] | tuple[Finding, ...], explanation: str = "") -> Finding:
    return Finding(name, explanation=explanation, children=tuple(children))
