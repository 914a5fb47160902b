"""An analysis: the analyzers asked for, run one after another over one session, and what they
found, with every reply kept so each finding's bytes can be shown and its trace record found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from explorer.apps.analyzer import Analyzer
from explorer.apps.findings import Finding
from explorer.apps.session import AnalysisSession, Cancelled, NotAllowed
from explorer.core.card_errors import CardError, CardRemoved, ServiceGone
from explorer.core.exchange import Reply


@dataclass(frozen=True)
class AnalyzerResult:
    key: str
    title: str
    finding: Finding
    error: str = ""  # why this analyzer stopped early ("" when it ran through)


@dataclass(frozen=True)
class Analysis:
    reader: str
    atr: bytes
    results: tuple[AnalyzerResult, ...]
    replies: tuple[Reply, ...]
    cancelled: bool = False
    # What ended the analysis early: the card removed or the PC/SC service gone (None otherwise).
    lost: CardError | None = None


def run_analyzers(session: AnalysisSession, analyzers: Sequence[Analyzer], reader: str,
                  atr: bytes) -> Analysis:
    """Each analyzer in turn (on the calling thread: the reader's worker). A card error ends one
    analyzer; a card removed, the service gone or a cancel ends the analysis, what was found so
    far kept."""
    results: list[AnalyzerResult] = []
    cancelled = False
    lost: CardError | None = None
    for analyzer in analyzers:
        session.failure = None
        # A secure channel is one analyzer's (a passport's BAC): the next starts in plain.
        session.secure(None)
        try:
            finding = analyzer.analyze(session)
        except Cancelled:
            cancelled = True
            results.append(AnalyzerResult(analyzer.key, analyzer.title, Finding(analyzer.title),
                                          "cancelled"))
            break
        except NotAllowed as exc:  # an analyzer that did not ask first: said, not a crash
            results.append(AnalyzerResult(analyzer.key, analyzer.title, Finding(analyzer.title),
                                          f"a command that changes the card was not allowed: {exc}"))
            continue
        except CardError as exc:
            results.append(AnalyzerResult(analyzer.key, analyzer.title, Finding(analyzer.title), str(exc)))
            if isinstance(exc, CardRemoved | ServiceGone):
                lost = exc
                break
            continue
        # An analyzer may catch a cancel or a card error itself, to return what it read before:
        # the analysis is then as cancelled, or as cut short, as if it had not.
        if session.cancelled:
            cancelled = True
            results.append(AnalyzerResult(analyzer.key, analyzer.title, finding, "cancelled"))
            break
        if isinstance(session.failure, CardRemoved | ServiceGone):
            lost = session.failure
            results.append(AnalyzerResult(analyzer.key, analyzer.title, finding, str(lost)))
            break
        results.append(AnalyzerResult(analyzer.key, analyzer.title, finding))
    return Analysis(reader, atr, tuple(results), tuple(session.replies), cancelled, lost)
