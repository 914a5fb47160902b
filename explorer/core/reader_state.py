"""PC/SC reader state: the SCARD_STATE_* bits as named flags, and snapshots.

The bit values are the PC/SC standard's (identical in pcsc-lite and WinSCard),
restated here so that `core` needs no pyscard. pcsc-lite keeps an event
counter in the upper 16 bits of a reader's event state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from explorer.core.hexfmt import to_hex


class ReaderFlag(enum.IntFlag):
    IGNORE = 0x0001
    CHANGED = 0x0002
    UNKNOWN = 0x0004
    UNAVAILABLE = 0x0008
    EMPTY = 0x0010
    PRESENT = 0x0020
    ATRMATCH = 0x0040
    EXCLUSIVE = 0x0080
    INUSE = 0x0100
    MUTE = 0x0200
    UNPOWERED = 0x0400


#: The flags a tester watches besides presence; a change in these is an event.
WATCHED_FLAGS = (
    ReaderFlag.EXCLUSIVE | ReaderFlag.INUSE | ReaderFlag.MUTE | ReaderFlag.UNAVAILABLE
)

_FLAG_WORDS = {
    ReaderFlag.EXCLUSIVE: "exclusive",
    ReaderFlag.INUSE: "in use",
    ReaderFlag.MUTE: "mute",
    ReaderFlag.UNAVAILABLE: "unavailable",
    ReaderFlag.UNPOWERED: "unpowered",
}


def flag_words(flags: ReaderFlag) -> list[str]:
    """Plain words for the watched flags that are set, in a fixed order."""
    return [word for flag, word in _FLAG_WORDS.items() if flags & flag]


@dataclass(frozen=True)
class ReaderSnapshot:
    """One reader as last seen. `event_count` is None when not comparable
    (another PC/SC service instance, or a stack without counters)."""

    name: str
    flags: ReaderFlag
    atr: bytes = b""
    event_count: int | None = None

    @classmethod
    def from_event_state(cls, name: str, event_state: int, atr: bytes) -> ReaderSnapshot:
        flags = ReaderFlag(event_state & 0x07FF) & ~ReaderFlag.CHANGED
        present = bool(flags & ReaderFlag.PRESENT)
        return cls(name, flags, atr if present else b"", (event_state >> 16) & 0xFFFF)

    @property
    def card_present(self) -> bool:
        return bool(self.flags & ReaderFlag.PRESENT)

    @property
    def watched(self) -> ReaderFlag:
        return self.flags & WATCHED_FLAGS

    def to_json(self) -> dict[str, object]:
        return {
            "reader": self.name,
            "card_present": self.card_present,
            "atr": to_hex(self.atr) if self.card_present and self.atr else None,
            "state": flag_words(self.watched),
        }
