"""What the reader monitor reports, and how two snapshots differ.

Events are frozen dataclasses: they cross from the monitor thread to the GUI.
`diff` is the one place that decides which events a change of state means, so
the start-up report, live changes and the recovery after a PC/SC restart all
follow the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from explorer.core.hexfmt import to_hex
from explorer.core.reader_state import ReaderFlag, ReaderSnapshot, flag_words


@dataclass(frozen=True)
class ReaderAdded:
    reader: str
    flags: ReaderFlag
    at: float
    #: An in-process virtual reader: the PC/SC service's coming and going does not touch it.
    embedded: bool = False


@dataclass(frozen=True)
class ReaderRemoved:
    reader: str
    at: float


@dataclass(frozen=True)
class CardInserted:
    reader: str
    atr: bytes  # empty for a mute card (present, no ATR)
    at: float


@dataclass(frozen=True)
class CardRemoved:
    reader: str
    at: float


@dataclass(frozen=True)
class ReaderStateChanged:
    reader: str
    flags: ReaderFlag  # the full state; `watched` flags are what changed
    at: float


@dataclass(frozen=True)
class ServiceLost:
    reason: str
    at: float


@dataclass(frozen=True)
class ServiceRestored:
    """The PC/SC service answers. `initial` is True for the first contact at start."""

    initial: bool
    at: float


MonitorEvent = (
    ReaderAdded
    | ReaderRemoved
    | CardInserted
    | CardRemoved
    | ReaderStateChanged
    | ServiceLost
    | ServiceRestored
)


def _card_changed(old: ReaderSnapshot, new: ReaderSnapshot) -> tuple[bool, bool]:
    """(removed, inserted) between two snapshots of one reader."""
    if old.card_present and not new.card_present:
        return True, False
    if new.card_present and not old.card_present:
        return False, True
    if not new.card_present:
        return False, False
    # Present both times: a different ATR, or two or more card events on the
    # reader's counter, mean the card went out and one came in meanwhile.
    swapped = old.atr != new.atr
    if old.event_count is not None and new.event_count is not None:
        swapped = swapped or (new.event_count - old.event_count) % 0x10000 >= 2
    return swapped, swapped


def diff(
    old: Mapping[str, ReaderSnapshot], new: Mapping[str, ReaderSnapshot], at: float
) -> list[MonitorEvent]:
    """Events that take a watcher who saw `old` to `new`, in a stable order:
    removals first (cards before their readers), then additions and changes."""
    events: list[MonitorEvent] = []
    for name, before in old.items():
        if name not in new:
            if before.card_present:
                events.append(CardRemoved(name, at))
            events.append(ReaderRemoved(name, at))
    for name, after in new.items():
        before_or_none = old.get(name)
        if before_or_none is None:
            events.append(ReaderAdded(name, after.flags, at))
            if after.card_present:
                events.append(CardInserted(name, after.atr, at))
            continue
        removed, inserted = _card_changed(before_or_none, after)
        if removed:
            events.append(CardRemoved(name, at))
        if inserted:
            events.append(CardInserted(name, after.atr, at))
        if before_or_none.watched != after.watched:
            events.append(ReaderStateChanged(name, after.flags, at))
    return events


def forget_counters(snapshots: Mapping[str, ReaderSnapshot]) -> dict[str, ReaderSnapshot]:
    """Counters restart with the service: after a restart only ATRs compare."""
    return {
        name: ReaderSnapshot(s.name, s.flags, s.atr, None) for name, s in snapshots.items()
    }


def describe(event: MonitorEvent) -> tuple[str, str, str]:
    """(kind, reader, text) for logs and the CLI; reader is '' for service events."""
    match event:
        case ReaderAdded(reader, flags, _):
            words = flag_words(flags & ~ReaderFlag.PRESENT) or ["ready"]
            return "reader+", reader, ", ".join(words)
        case ReaderRemoved(reader, _):
            return "reader-", reader, "reader removed"
        case CardInserted(reader, atr, _):
            return "card+", reader, to_hex(atr) if atr else "mute card (no ATR)"
        case CardRemoved(reader, _):
            return "card-", reader, "card removed"
        case ReaderStateChanged(reader, flags, _):
            return "state", reader, ", ".join(flag_words(flags)) or "idle"
        case ServiceLost(reason, _):
            return "service", "", f"PC/SC service lost ({reason})"
        case ServiceRestored(initial, _):
            return "service", "", "PC/SC service available" if initial else "PC/SC service restored"
    raise TypeError(f"not a monitor event: {event!r}")
