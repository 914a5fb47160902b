"""What the trace holds: one record per exchange and per event.

A record is flat and frozen (it crosses from reader threads to the GUI and
goes to disk as it is made); every field is plain data, so a journal line
and an imported JSON Lines record rebuild the very same object.
"""

from __future__ import annotations

import enum
from typing import NamedTuple, Protocol

from explorer.core.exchange import Exchange, LinkEvent, LinkEventKind, Origin
from explorer.core.hexfmt import HexError, parse_hex, to_hex
from explorer.core.reader_events import (
    CardInserted,
    CardRemoved,
    MonitorEvent,
    ReaderAdded,
    ReaderRemoved,
    ReaderStateChanged,
    ServiceLost,
    ServiceRestored,
)
from explorer.core.reader_state import ReaderFlag, flag_words


class Kind(enum.Enum):
    EXCHANGE = "exchange"
    EVENT = "event"


UNWRAPPED = Origin.UNWRAPPED.value

# What an event record's `origin` says, for events from the monitor.
READER_ADDED = "reader added"
READER_REMOVED = "reader removed"
CARD_INSERTED = "card inserted"
CARD_REMOVED = "card removed"
READER_STATE = "reader state"
SERVICE_LOST = "service lost"
SERVICE_RESTORED = "service restored"
#: Every `origin` an event record may have: the monitor's events above and the connections' own.
EVENT_ORIGINS = frozenset({READER_ADDED, READER_REMOVED, CARD_INSERTED, CARD_REMOVED, READER_STATE,
                           SERVICE_LOST, SERVICE_RESTORED, *(kind.value for kind in LinkEventKind)})


class TraceRecord(NamedTuple):
    """One line of the trace. Immutable like the frozen dataclasses elsewhere,
    but a NamedTuple: a session can make a million of them, and building a
    tuple costs a fraction of a frozen dataclass's 13 guarded attribute sets.

    For an exchange `origin` is an `Origin` value ("console", "get response"...)
    and `parent` the sequence number of the command an automatic step
    (GET RESPONSE, 6Cxx re-send) was sent for. For an event `origin` names
    the event ("card inserted", "connected"...) and `detail` carries its data
    (the ATR, the reason); an exchange's `detail` is its note (a command sent
    as is, without the APDU check). `time` is epoch seconds with microseconds;
    `duration` seconds.
    """

    seq: int
    kind: Kind
    time: float
    reader: str
    origin: str
    duration: float = 0.0
    protocol: str | None = None
    share: str | None = None
    command: bytes = b""
    response: bytes = b""
    error: str | None = None
    detail: str = ""
    parent: int | None = None

    @property
    def sw(self) -> int | None:
        if self.kind is not Kind.EXCHANGE or self.error is not None or len(self.response) < 2:
            return None
        return self.response[-2] << 8 | self.response[-1]

    @property
    def data(self) -> bytes:
        return self.response[:-2] if self.sw is not None else b""

    @property
    def automatic(self) -> bool:
        return self.parent is not None

    @property
    def unwrapped(self) -> bool:
        """The plain command and answer of a secure-messaging exchange: not wire bytes."""
        return self.origin == UNWRAPPED and self.kind is Kind.EXCHANGE


_ATR_TEXT_MAX = 33 * 6  # 33 bytes written as "0x3B, " at the widest


def inserted_atr(r: TraceRecord) -> bytes:
    """The ATR a "card inserted" event recorded, or b"" (a mute card, another record, or a
    detail that is no ATR: not hex, or too long to be one, which is then not even parsed)."""
    if r.kind is not Kind.EVENT or r.origin != CARD_INSERTED or len(r.detail) > _ATR_TEXT_MAX:
        return b""
    try:
        return parse_hex(r.detail)
    except HexError:
        return b""


class Records(Protocol):
    """Records by index: a list of them, or a TraceStore (which only grows)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> TraceRecord: ...


def _value(member: enum.Enum | None) -> str | None:
    return None if member is None else str(member._value_)


_new_tuple = tuple.__new__


def from_exchange(seq: int, e: Exchange, parent: int | None = None) -> TraceRecord:
    # The append hot path, a record per exchange: `_value_` is the member's own
    # attribute (`.value` is a descriptor), and the tuple is built directly
    # (NamedTuple's generated __new__ is a Python call with 13 arguments).
    # Together that took the append rate from 160,000 to over 200,000 records/s.
    protocol, share = e.protocol, e.share
    values = (seq, Kind.EXCHANGE, e.started, e.reader, e.origin._value_, e.duration,
              None if protocol is None else protocol._value_, None if share is None else share._value_,
              e.command, e.response, e.error, e.note, parent)
    return _new_tuple(TraceRecord, values)


def from_link_event(seq: int, e: LinkEvent) -> TraceRecord:
    return TraceRecord(
        seq, Kind.EVENT, e.at, e.reader, e.kind.value, 0.0,
        _value(e.protocol), _value(e.share), detail=e.detail,
    )


def _flags(flags: ReaderFlag) -> str:
    return ", ".join(flag_words(flags))


def from_monitor_event(seq: int, e: MonitorEvent) -> TraceRecord:
    match e:
        case ReaderAdded():
            detail = ", ".join(filter(None, [_flags(e.flags), "embedded virtual reader" * e.embedded]))
            return TraceRecord(seq, Kind.EVENT, e.at, e.reader, READER_ADDED, detail=detail)
        case ReaderRemoved():
            return TraceRecord(seq, Kind.EVENT, e.at, e.reader, READER_REMOVED)
        case CardInserted():
            return TraceRecord(seq, Kind.EVENT, e.at, e.reader, CARD_INSERTED,
                               detail=to_hex(e.atr) if e.atr else "mute card (no ATR)")
        case CardRemoved():
            return TraceRecord(seq, Kind.EVENT, e.at, e.reader, CARD_REMOVED)
        case ReaderStateChanged():
            return TraceRecord(seq, Kind.EVENT, e.at, e.reader, READER_STATE, detail=_flags(e.flags))
        case ServiceLost():
            return TraceRecord(seq, Kind.EVENT, e.at, "", SERVICE_LOST, detail=e.reason)
        case ServiceRestored():
            return TraceRecord(seq, Kind.EVENT, e.at, "", SERVICE_RESTORED,
                               detail="service up at start" if e.initial else "service back")
    raise TypeError(f"not a monitor event: {e!r}")
