"""The trace's filter and search without a widget: every visible column is
searched (command names, meanings, hex, errors, events), masked PINs are not,
folded commands are judged by where their automatic steps ended, and a
search overtaken by the next one stops."""

from __future__ import annotations

import itertools

import pytest

from explorer.core.exchange import Exchange, Origin
from explorer.core.link_modes import Protocol, ShareMode
from explorer.core.reader_events import CardInserted
from explorer.core.status_words import explain, explanation_texts
from explorer.trace.export import clock
from explorer.trace.filter import Cancelled, SwClass, TraceFilter, matching_rows
from explorer.trace.records import TraceRecord
from explorer.trace.steps import outcome
from explorer.trace.store import TraceStore

A, B = "Virtual PCD 00 00", "Virtual PCD 00 01"
_ticks = itertools.count(1)
FCI = bytes.fromhex("6F1A8407A0000000041010A50F500A4D617374657243617264870101")


def ex(reader: str, command: str, response: str, origin: Origin = Origin.CONSOLE,
       error: str | None = None) -> Exchange:
    at = 1_700_000_000.0 + next(_ticks) * 0.25  # each its own time, to search by
    return Exchange(reader, bytes.fromhex(command), bytes.fromhex(response), at, 0.0003, origin, Protocol.T0,
                    ShareMode.SHARED, error=error)


def store() -> list[TraceRecord]:
    global _ticks
    _ticks = itertools.count(1)
    s = TraceStore()
    s.add_monitor_event(CardInserted(A, bytes.fromhex("3B021450"), 1_700_000_000.0))  # 1
    s.add_exchange(ex(A, "00A4040007A0000000041010", "611C"))  # 2
    s.add_exchange(ex(A, "00C000001C", FCI.hex() + "9000", Origin.GET_RESPONSE))  # 3
    s.add_exchange(ex(B, "00B0000010", "6A82", Origin.SCRIPT))  # 4
    s.add_exchange(ex(A, "0020008108313233340000FFFF", "63C2"))  # 5: a wrong PIN
    s.add_exchange(ex(A, "00B0000000", "6C10"))  # 6
    s.add_exchange(ex(A, "00B0000010", "00112233445566778899AABBCCDDEEFF9000", Origin.RESEND))  # 7
    s.add_exchange(ex(B, "00D6000003010203", "6700"))  # 8
    s.add_exchange(ex(A, "00A4040005A000000099", "6110"))  # 9
    s.add_exchange(ex(A, "00C0000010", "6A82", Origin.GET_RESPONSE))  # 10
    s.add_exchange(ex(B, "00B2010C00", "", error="card removed"))  # 11
    return s.records()


def seqs(records: list[TraceRecord], **kw: object) -> list[int]:
    return [records[i].seq for i in matching_rows(records, TraceFilter(**kw))]  # type: ignore[arg-type]


@pytest.mark.parametrize(("needle", "found"), [
    ("VERIFY", [5]), ("verify", [5]), ("SELECT", [2, 9]),  # command names
    ("get response", [2, 3, 9, 10]),  # and 61xx means "… GET RESPONSE with Le=…"
    ("Wrong length", [6, 8]),  # meanings: 67 00, and 6C 10 "Wrong length Le: ..."
    ("wrong pin", [5]), ("application not found", [4, 10]),
    ("6A 82", [4, 10]), ("6a82", [4, 10]), ("6A:82", [4, 10]),  # the SW, however typed
    ("A0 00 00 00 04", [2, 3]), ("4d 61 73 74", [3]),  # command and response hex
    ("card removed", [11]),  # an error, and the event of that name
    ("3b021450", [1]), ("card inserted", [1]),  # an event's detail (the ATR) and what it is
    ("pcd 00 01", [4, 8, 11]), ("SCRIPT", [4]),  # reader, origin
    ("re-send", [6, 7]),  # an origin, and 6C 10 says "re-send with Le=10"
])
def test_search_covers_every_visible_column(needle: str, found: list[int]) -> None:
    assert seqs(store(), text=needle) == found


def test_search_finds_the_time_and_number_shown() -> None:
    records = store()
    assert seqs(records, text=clock(records[3].time)) == [4]
    assert 11 in seqs(records, text="11")
    assert seqs(records, text="0.300") == [r.seq for r in records if r.kind.value == "exchange"]  # ms column


def test_masked_pin_bytes_are_not_searched_unless_revealed() -> None:
    records = store()
    assert seqs(records, text="31 32 33 34") == []
    assert seqs(records, text="31 32 33 34", reveal=True) == [5]
    assert seqs(records, text="00 20 00 81") == [5]  # the header is on screen even when masked


def test_folded_command_shows_and_is_judged_by_its_final_outcome() -> None:
    records = store()
    select = outcome(records, 1)
    assert (select.steps, select.final.seq, select.response) == (1, 3, FCI + b"\x90\x00")
    assert outcome(records, 5).response == bytes.fromhex("00112233445566778899AABBCCDDEEFF9000")
    assert outcome(records, 3).steps == 0  # no steps: the record itself
    failures = frozenset({SwClass.ERROR})
    assert seqs(records, classes=failures) == [4, 8, 10, 11]
    # Folded: the SELECT answered 61 10 then 6A 82 failed; the one ending in 90 00 did not.
    assert seqs(records, classes=failures, fold=True) == [4, 8, 9, 11]
    assert seqs(records, text="normal processing") == [3, 7]
    assert seqs(records, text="normal processing", fold=True) == [2, 6]
    assert seqs(records, fold=True) == [1, 2, 4, 5, 6, 8, 9, 11]


def test_a_search_overtaken_stops() -> None:
    records = store() * 5000
    asked = 0

    def cancelled() -> bool:
        nonlocal asked
        asked += 1
        return asked > 2

    with pytest.raises(Cancelled):
        TraceFilter(text="zzz").rows(records, 0, len(records), cancelled)
    assert asked == 3
    assert isinstance(TraceFilter().rows(records, 5, 9), range)  # no filter: no work


def test_explanation_texts_hold_every_explanation() -> None:
    commands = [bytes.fromhex(c) for c in (
        "00A4040007A0000000041010", "00A404000E315041592E5359532E4444463031", "0020008108313233340000FFFF",
        "00200081", "0020008100", "002C000000", "0082000008" + "00" * 8, "80CA9F1700",
        "80500000080102030405060708", "80E60200", "84240000", "00B0000010", "FFCA000000",
        "0088000004DEADBEEF", "80AE800000")]
    for sw in (0x9000, 0x6A82, 0x6A88, 0x6985, 0x6982, 0x6700, 0x6C10, 0x611C, 0x63C0, 0x63C3, 0x6283, 0x6581,
               0x6D00, 0x9484, 0x6400, 0x6F00, 0x6B00, 0x6A86, 0x6A80, 0x6999, 0x9301):
        texts = explanation_texts(sw)
        for command in commands:
            assert explain(sw, command).text in texts, (hex(sw), command.hex())



def test_a_note_is_searched() -> None:
    from explorer.core.exchange import SENT_AS_IS, Exchange, Origin
    from explorer.trace.records import from_exchange
    from explorer.trace.search import text_test

    noted = from_exchange(1, Exchange("R", bytes.fromhex("00A40400053F00"), b"\x67\x00", 1.7e9, 0.001,
                                      Origin.CONSOLE, note=SENT_AS_IS))
    plain = from_exchange(2, Exchange("R", bytes.fromhex("00A4040000"), b"\x90\x00", 1.7e9, 0.001,
                                      Origin.CONSOLE))
    test = text_test("as is", reveal=False)
    assert test is not None
    assert test(noted, noted, b"") and not test(plain, plain, b"")
