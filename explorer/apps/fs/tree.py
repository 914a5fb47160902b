"""A finding tree under construction: branches are attached before they are filled, so when the
user cancels (or the card fails) mid-way, freezing the root keeps everything read so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from explorer.apps.findings import Finding

T = TypeVar("T", "Branch", Finding)


@dataclass
class Branch:
    name: str
    value: str = ""
    explanation: str = ""
    items: list[Finding | Branch] = field(default_factory=list)

    def add(self, item: T) -> T:
        self.items.append(item)
        return item

    def freeze(self) -> Finding:
        # Depth is bounded by the analyzer (MF, DF, sub-DF, EF, record, TLV): recursion is safe here.
        children = tuple(item.freeze() if isinstance(item, Branch) else item for item in self.items)
        return Finding(self.name, self.value, self.explanation, children=children)
