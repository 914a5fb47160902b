"""A trace exported from a session replays as a card giving the same answers
to the same commands: offline (the handler alone) and through pcscd + vpcd."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.core.exchange import Origin
from explorer.core.link_modes import Protocol
from explorer.pcsc.session import Session
from explorer.trace.export import ExportFormat, import_jsonl, write_export
from explorer.trace.records import Kind, TraceRecord
from explorer.trace.store import TraceStore
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import demo_profile
from explorer.virtual.replay import NOT_IN_TRACE, ReplayCard, ReplayMode, trace_atr
from tests.conftest import CardFactory

COMMANDS = ["00 A4 04 00 08 F0 43 41 52 44 45 58 50", "00 A4 02 0C 02 01 01", "00 B0 00 00 05",
            "00 B0 00 00 00", "00 20 00 81 08 31 32 33 35 FF FF FF FF", "00 20 00 81 00",
            "00 84 00 00 08", "00 CA 9F 7F 00", "00 B0 00 00 FF"]


def record(seq: int, command: str, response: str) -> TraceRecord:
    return TraceRecord(seq, Kind.EXCHANGE, 1.0 + seq, "R", "console", 0.001,
                       command=bytes.fromhex(command), response=bytes.fromhex(response))


def test_order_then_match_then_unknown() -> None:
    records = [record(1, "0084000008", "0102030405060708 9000".replace(" ", "")),
               record(2, "0084000008", "11121314151617189000"), record(3, "00B0000000", "6982")]
    card = ReplayCard(records)
    assert card(bytes.fromhex("0084000008")) == bytes.fromhex("01020304050607089000")
    assert card(bytes.fromhex("0084000008")) == bytes.fromhex("11121314151617189000")
    assert card(bytes.fromhex("0084000008")) == bytes.fromhex("11121314151617189000")  # last one repeats
    assert card(bytes.fromhex("00A4000000")) == NOT_IN_TRACE and card.unknown == [bytes.fromhex("00A4000000")]
    match = ReplayCard(records, ReplayMode.MATCH)
    assert match(bytes.fromhex("00B0000000")) == bytes.fromhex("6982")
    card.reset()
    assert card(bytes.fromhex("0084000008")) == bytes.fromhex("01020304050607089000")
    assert trace_atr(records) == ReplayCard(records).atr  # no card inserted event: the default ATR


@pytest.mark.pcsc
def test_exported_session_replays_with_the_same_answers(readers: list[str], insert_card: CardFactory,
                                                        tmp_path: Path) -> None:
    profile = demo_profile()
    first = insert_card(readers[0], atr=profile.atr, handler=FileSystemCard(profile))
    store = TraceStore()
    with Session(readers[0], Protocol.T0, origin=Origin.CONSOLE, sink=store) as session:
        original = [session.send(c) for c in COMMANDS]
    first.remove()
    exported = tmp_path / "session.jsonl"
    write_export(exported, store.records(), ExportFormat.JSONL, reveal_secrets=True)

    replay = ReplayCard(import_jsonl(exported).records)
    insert_card(readers[1], atr=profile.atr, handler=replay)
    with Session(readers[1], Protocol.T0, origin=Origin.CONSOLE) as session:
        again = [session.send(c) for c in COMMANDS]
    # Same final answers, through the same steps (61xx / GET RESPONSE, 6Cxx / re-send) on the wire.
    assert [(r.data, r.sw) for r in again] == [(r.data, r.sw) for r in original]
    steps = [[e.command for e in r.exchanges] for r in original]
    assert [[e.command for e in r.exchanges] for r in again] == steps
    assert replay.unknown == []
