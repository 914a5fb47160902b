"""The snapshot diff that decides every monitor event: pure, no PC/SC."""

from explorer.core.reader_events import (
    CardInserted,
    CardRemoved,
    ReaderAdded,
    ReaderRemoved,
    ReaderStateChanged,
    ServiceLost,
    describe,
    diff,
    forget_counters,
)
from explorer.core.reader_state import ReaderFlag as F
from explorer.core.reader_state import ReaderSnapshot

ATR = bytes.fromhex("3B8C800143617264")


def snap(name: str, flags: F, atr: bytes = b"", count: int | None = 0) -> ReaderSnapshot:
    return ReaderSnapshot(name, flags, atr, count)


def kinds(events: list[object]) -> list[tuple[str, str]]:
    return [(type(e).__name__, e.reader) for e in events]  # type: ignore[attr-defined]


def test_start_reports_readers_then_their_cards() -> None:
    new = {"A": snap("A", F.EMPTY), "B": snap("B", F.PRESENT, ATR)}
    events = diff({}, new, at=1.0)
    assert kinds(events) == [("ReaderAdded", "A"), ("ReaderAdded", "B"), ("CardInserted", "B")]
    assert events[2] == CardInserted("B", ATR, 1.0)


def test_insert_and_remove() -> None:
    empty, full = {"A": snap("A", F.EMPTY, count=0)}, {"A": snap("A", F.PRESENT, ATR, 1)}
    assert diff(empty, full, 2.0) == [CardInserted("A", ATR, 2.0)]
    assert diff(full, {"A": snap("A", F.EMPTY, count=2)}, 3.0) == [CardRemoved("A", 3.0)]


def test_nothing_changed_means_no_event() -> None:
    state = {"A": snap("A", F.PRESENT, ATR, 5)}
    assert diff(state, dict(state), 1.0) == []


def test_card_swapped_between_calls_is_seen_by_counter() -> None:
    before, after = {"A": snap("A", F.PRESENT, ATR, 1)}, {"A": snap("A", F.PRESENT, ATR, 3)}
    assert kinds(diff(before, after, 1.0)) == [("CardRemoved", "A"), ("CardInserted", "A")]


def test_counter_wraps() -> None:
    before, after = {"A": snap("A", F.PRESENT, ATR, 0xFFFF)}, {"A": snap("A", F.PRESENT, ATR, 1)}
    assert kinds(diff(before, after, 1.0)) == [("CardRemoved", "A"), ("CardInserted", "A")]


def test_after_restart_only_the_atr_compares() -> None:
    before = forget_counters({"A": snap("A", F.PRESENT, ATR, 9), "B": snap("B", F.PRESENT, ATR)})
    after = {"A": snap("A", F.PRESENT, ATR, 1), "B": snap("B", F.PRESENT, b"\x3b\x00", 1)}
    assert kinds(diff(before, after, 1.0)) == [("CardRemoved", "B"), ("CardInserted", "B")]


def test_reader_removed_with_its_card_removes_card_first() -> None:
    events = diff({"A": snap("A", F.PRESENT, ATR)}, {}, 1.0)
    assert events == [CardRemoved("A", 1.0), ReaderRemoved("A", 1.0)]


def test_watched_flags_change_is_an_event_other_flags_are_not() -> None:
    base = {"A": snap("A", F.PRESENT, ATR, 1)}
    excl = {"A": snap("A", F.PRESENT | F.EXCLUSIVE, ATR, 1)}
    assert diff(base, excl, 1.0) == [ReaderStateChanged("A", F.PRESENT | F.EXCLUSIVE, 1.0)]
    atrmatch = {"A": snap("A", F.PRESENT | F.ATRMATCH, ATR, 1)}
    assert diff(base, atrmatch, 1.0) == []


def test_snapshot_from_pcsc_event_state() -> None:
    s = ReaderSnapshot.from_event_state("A", (7 << 16) | 0x0122, list(ATR))  # type: ignore[arg-type]
    assert s.card_present and s.event_count == 7 and s.flags == F.PRESENT | F.INUSE
    assert s.to_json() == {"reader": "A", "card_present": True,
                           "atr": "3B 8C 80 01 43 61 72 64", "state": ["in use"]}
    empty = ReaderSnapshot.from_event_state("A", 0x0012, b"junk")
    assert not empty.card_present and empty.atr == b"" and empty.to_json()["atr"] is None


def test_describe_every_event() -> None:
    assert describe(ReaderAdded("A", F.EMPTY, 0)) == ("reader+", "A", "ready")
    assert describe(CardInserted("A", b"", 0))[2] == "mute card (no ATR)"
    assert describe(CardInserted("A", ATR, 0))[2] == "3B 8C 80 01 43 61 72 64"
    assert describe(ServiceLost("gone", 0)) == ("service", "", "PC/SC service lost (gone)")
    assert describe(ReaderStateChanged("A", F.PRESENT | F.MUTE, 0))[2] == "mute"
