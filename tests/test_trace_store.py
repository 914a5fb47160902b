"""The trace store and its journal: records, grouping, the file format, and
a SIGKILL in the middle of a 10,000-APDU run on pcscd + vpcd."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.core.exchange import Exchange, LinkEvent, LinkEventKind, Origin
from explorer.core.link_modes import Protocol, ShareMode
from explorer.core.reader_events import CardInserted, ServiceLost
from explorer.trace import jsonl
from explorer.trace.journal import Journal, read_journal, sessions
from explorer.trace.records import CARD_INSERTED, SERVICE_LOST, Kind
from explorer.trace.store import TraceStore
from tests.conftest import CardFactory

ROOT = Path(__file__).resolve().parent.parent
R = "Virtual PCD 00 00"


def exchange(command: str, response: str, origin: Origin = Origin.CONSOLE, reader: str = R) -> Exchange:
    return Exchange(reader, bytes.fromhex(command), bytes.fromhex(response), 1_700_000_000.123456, 0.000250,
                    origin, Protocol.T0, ShareMode.SHARED)


def test_records_group_automatic_steps_under_their_command(tmp_path: Path) -> None:
    store = TraceStore(Journal.new_session(tmp_path))
    store(LinkEvent(R, LinkEventKind.CONNECTED, 1.0, Protocol.T0, ShareMode.SHARED, "ATR 3B 02 14 50"))
    select = store.add_exchange(exchange("00A4040002 3F00".replace(" ", ""), "611C"))
    step = store.add_exchange(exchange("00C000001C", "6F" + "00" * 27 + "9000", Origin.GET_RESPONSE))
    other = store.add_exchange(exchange("00B0000000", "6C0C", reader="B"))
    resend = store.add_exchange(exchange("00B000000C", "00" * 12 + "9000", Origin.RESEND, reader="B"))
    store.add_monitor_event(CardInserted(R, bytes.fromhex("3B021450"), 2.0))
    store.add_monitor_event(ServiceLost("pcscd gone", 3.0))
    assert [r.seq for r in store.records()] == [1, 2, 3, 4, 5, 6, 7]
    assert select.parent is None and step.parent == select.seq
    assert resend.parent == other.seq  # per reader: B's re-send is B's
    assert select.sw == 0x611C and step.data[:1] == b"\x6f" and store[0].kind is Kind.EVENT
    assert store[5].origin == CARD_INSERTED and store[5].detail == "3B 02 14 50"
    assert store[6].origin == SERVICE_LOST and store[6].reader == ""
    store.close()
    contents = read_journal(store.journal.path)  # type: ignore[union-attr]
    assert contents.records == tuple(store.records())
    assert not contents.problems and not contents.cut_short


def test_a_store_that_keeps_nothing_writes_every_record_to_its_journal(tmp_path: Path) -> None:
    """A command line's trace file: numbered and grouped as ever, none of it held in memory."""
    store = TraceStore(Journal.new_session(tmp_path), keep=False)
    for _ in range(1000):
        store.add_exchange(exchange("00B0000002", "6C02"))
        store.add_exchange(exchange("00B0000002", "00009000", Origin.RESEND))
    assert len(store) == 0 and store.records() == []
    store.close()
    written = read_journal(store.journal.path).records  # type: ignore[union-attr]
    assert [r.seq for r in written] == list(range(1, 2001))
    assert written[-1].parent == 1999


def test_journal_is_private_and_line_by_line(tmp_path: Path) -> None:
    journal = Journal.new_session(tmp_path / "traces")
    assert stat.S_IMODE(os.stat(journal.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(journal.path.parent).st_mode) == 0o700
    store = TraceStore(journal)
    store.add_exchange(exchange("0020008108 31323334FFFFFFFF", "9000"))
    # Nothing is buffered in the process: the line is in the file now.
    lines = journal.path.read_text().splitlines()
    assert jsonl.is_header(json.loads(lines[0])) and '"seq":1' in lines[1]
    second = Journal.new_session(tmp_path / "traces")
    assert second.path != journal.path and sessions(tmp_path / "traces")[0] in (journal.path, second.path)
    journal.close()
    second.close()


def test_reader_survives_a_cut_last_line_and_a_bad_middle_line(tmp_path: Path) -> None:
    store = TraceStore(Journal.new_session(tmp_path))
    for i in range(3):
        store.add_exchange(exchange(f"80CA00{i:02X}00", "9000"))
    store.close()
    path = store.journal.path  # type: ignore[union-attr]
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1] + "{not json\n" + lines[3] + lines[2][:25])
    contents = read_journal(path)
    assert [r.seq for r in contents.records] == [1, 3]
    assert contents.cut_short and contents.problems == (f"{path.name} line 3: not valid JSON: column 2: "
                                                         "Expecting property name enclosed in double quotes",)
    (tmp_path / "other.jsonl").write_text('{"hello": 1}\n')
    with pytest.raises(jsonl.TraceFormatError, match="not a Card Explorer trace"):
        read_journal(tmp_path / "other.jsonl")


def test_encoder_round_trips_awkward_text() -> None:
    awkward = LinkEvent('Reader "A" \\ é\n', LinkEventKind.LOST, 5.5, detail="tab\there")
    r = TraceStore().add_link_event(awkward)
    obj = json.loads(jsonl.encode(r))
    assert list(obj) == list(jsonl.FIELDS)
    assert jsonl.decode(obj) == r


@pytest.mark.pcsc
def test_sigkill_mid_run_loses_no_completed_exchange(readers: list[str], insert_card: CardFactory,
                                                     tmp_path: Path) -> None:
    def echo_counter(apdu: bytes) -> bytes:
        return apdu[2:4] + b"\x90\x00"

    insert_card(readers[0], handler=echo_counter)
    args = [sys.executable, "-m", "tests.trace_kill_child", readers[0], str(tmp_path), "10000"]
    child = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    done: list[int] = []
    try:
        # Kill at a point the child does not choose: after 2000 completions are reported.
        for line in child.stdout:
            done.append(int(line))
            if len(done) == 2000:
                child.send_signal(signal.SIGKILL)
                break
        done.extend(int(line) for line in child.stdout)  # what it reported before dying
    finally:
        child.kill()
        child.wait(10)
    assert child.returncode == -signal.SIGKILL and 2000 <= len(done) < 10000
    [path] = sessions(tmp_path)
    contents = read_journal(path)
    exchanges = [r for r in contents.records if r.kind is Kind.EXCHANGE]
    # Every completed exchange is there, in order, with its answer; at most the one in flight is missing.
    counters = [int.from_bytes(r.command[2:4], "big") for r in exchanges]
    assert counters[:len(done)] == done
    assert counters == list(range(len(counters))) and len(counters) - len(done) <= 1
    assert all(r.response == r.command[2:4] + b"\x90\x00" for r in exchanges)
    assert [r.seq for r in contents.records] == list(range(1, len(contents.records) + 1))
    assert contents.records[0].origin == "connected"
    assert not contents.problems
