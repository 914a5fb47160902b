"""What every analyzer is: a key (`--only fs,gp,emv,sim`), a title, a guess from the ATR whether
a card is its kind, and the reading of a card into a tree of findings."""

from __future__ import annotations

from typing import Protocol

from explorer.apps.findings import Finding
from explorer.apps.session import AnalysisSession


class Analyzer(Protocol):
    key: str  # short name on the command line: fs, gp, emv, sim
    title: str  # "GlobalPlatform", "EMV payment", …

    def likely(self, atr: bytes) -> bool:
        """Whether the ATR (its historical bytes) suggests this kind of card. A False is no
        verdict: `analyze` still probes (SELECT by AID, EF.DIR) when asked."""

    def analyze(self, session: AnalysisSession) -> Finding:
        """Read the card into findings. Read-only unless `session.allow_changes`; stops at
        Cancelled (raised by the session) with nothing half-made: the caller keeps what it has.
        A card that is not this kind gives a finding that says so, not an exception."""
