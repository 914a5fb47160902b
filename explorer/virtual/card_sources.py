"""Where an embedded reader's card comes from: the demo profile, a profile file, or a trace.

`load_card` reads files and may take a while on a big trace: call it off the
GUI thread. What it returns is made on that thread and then only handed on.
The profile, file-system card and trace-reading code is imported there too,
when a card is loaded: the window's menu needs only the names below.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from explorer.core.printable import printable
from explorer.virtual.card import VirtualCard
from explorer.virtual.replay import ReplayMode


class SourceKind(enum.Enum):
    DEMO = "demo profile"
    PROFILE = "profile"
    TRACE = "trace"


@dataclass(frozen=True)
class CardSource:
    kind: SourceKind
    path: str = ""
    mode: ReplayMode = ReplayMode.ORDER


@dataclass(frozen=True)
class LoadedCard:
    card: VirtualCard
    label: str  # what the tree and the status bar call it
    note: str = ""  # what the tester should know (lines skipped, nothing to replay)


class CardSourceError(ValueError):
    """A profile or trace that cannot make a card; the message names the file and the place.
    `load_card` raises nothing else for anything a file may hold or be."""


def load_card(source: CardSource) -> LoadedCard:
    from explorer.virtual.filesystem_card import profile_card
    from explorer.virtual.profile import ProfileError, demo_profile, load_profile

    match source.kind:
        case SourceKind.DEMO | SourceKind.PROFILE:
            try:
                profile = demo_profile() if source.kind is SourceKind.DEMO else load_profile(source.path)
            except ProfileError as exc:
                raise CardSourceError(str(exc)) from None
            return LoadedCard(VirtualCard(profile.atr, profile_card(profile)),
                              f"profile {printable(profile.name)}")
        case SourceKind.TRACE:
            return _replay(Path(source.path), source.mode)
    raise ValueError(f"unknown card source {source!r}")


def _replay(path: Path, mode: ReplayMode) -> LoadedCard:
    from explorer.trace.journal import read_journal
    from explorer.trace.jsonl import TraceFormatError
    from explorer.virtual.replay import ReplayCard

    try:
        contents = read_journal(path)
    except TraceFormatError as exc:  # the file named in it, and the place
        raise CardSourceError(str(exc)) from None
    handler = ReplayCard(contents.records, mode)
    skipped = (f"{contents.bad_lines} bad line(s) skipped, first: {contents.problems[0]}" if contents.problems
               else "")
    if not handler.exchanges:
        why = f" ({skipped})" if skipped else ""
        raise CardSourceError(f"{printable(path.name)}: the trace holds no answered command to replay{why}")
    notes = [skipped] if skipped else []
    if contents.cut_short:
        notes.append("the last line was cut short")
    follow = "in order" if mode is ReplayMode.ORDER else "by command"
    label = f"replay of {printable(path.name)} ({handler.exchanges} exchanges, {follow})"
    return LoadedCard(VirtualCard(handler.atr, handler), label, "; ".join(notes))
