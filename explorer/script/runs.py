"""One script's run on one reader (and one card, one round): what every report is made of."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.core.printable import printable
from explorer.script.runner import ScriptResult


@dataclass(frozen=True)
class ScriptRun:
    """`result` of a script on `reader`. `atr` is the card's ATR when known; `card` counts
    the cards of a run on every card inserted (0: not such a run); `round` counts the
    rounds of a repeated run (0: run once)."""

    result: ScriptResult
    reader: str
    atr: bytes = b""
    card: int = 0
    round: int = 0

    @property
    def title(self) -> str:
        """`demo.apdu on Virtual PCD 00 00, card 2, round 3`: one line, printable."""
        extra = "".join(f", {what} {n}" for what, n in (("card", self.card), ("round", self.round)) if n)
        return printable(f"{self.result.file} on {self.reader}{extra}")
