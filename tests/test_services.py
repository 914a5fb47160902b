"""The workbench (explorer/services), without Qt or PC/SC: what the window builds its panels on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from explorer.core.exchange import Exchange, Origin
from explorer.core.link_modes import Protocol, ShareMode
from explorer.core.reader_events import MonitorEvent, ReaderRemoved
from explorer.core.sensitive import AUTHENTICATION
from explorer.services.card_access import CardAccess
from explorer.services.workbench import Workbench
from explorer.trace.journal import read_journal
from explorer.trace.records import Kind
from explorer.virtual.card import VirtualCard, demo_handler


def no_pcsc(reader: str) -> object:
    raise AssertionError(f"{reader} is not a PC/SC reader here")


def test_an_embedded_reader_is_opened_and_traced_and_closes_with_its_reader(tmp_path: Path) -> None:
    events: list[MonitorEvent] = []
    bench = Workbench(no_pcsc, events.append, journal_dir=tmp_path)  # type: ignore[arg-type]
    assert not bench.journal_problem and bench.store.journal is not None
    reader = bench.embedded.add_reader()
    bench.embedded.insert(reader, VirtualCard(handler=demo_handler))
    for event in events:
        bench.record(event)
        bench.observe(event)
    conn = bench.manager.open(reader)
    conn.connect(Protocol.ANY, ShareMode.SHARED).result(5)
    reply = conn.send(bytes.fromhex("00 84 00 00 08"), Origin.CONSOLE).result(5)
    assert reply.sw == 0x9000
    exchanges = [r for r in bench.store.records() if r.kind is Kind.EXCHANGE]
    assert exchanges and exchanges[-1].origin == Origin.CONSOLE.value
    bench.embedded.remove_reader(reader)
    removed = next(e for e in events if isinstance(e, ReaderRemoved))
    bench.record(removed)
    bench.observe(removed)  # the reader's connection closes with it
    assert bench.manager.open(reader) is not conn
    assert bench.close(1.0)


def test_without_a_journal_the_trace_stays_in_memory_and_says_why(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    bench = Workbench(no_pcsc, lambda event: None, journal_dir=blocked / "traces")  # type: ignore[arg-type]
    assert bench.journal_problem.startswith("no journal:") and bench.store.journal is None


def test_a_reader_not_embedded_goes_to_pcsc(tmp_path: Path) -> None:
    opened: list[str] = []

    def pcsc(reader: str) -> object:
        opened.append(reader)
        return object()

    bench = Workbench(pcsc, lambda event: None, journal_dir=tmp_path)  # type: ignore[arg-type]
    bench.link_for("Some PC/SC reader")
    assert opened == ["Some PC/SC reader"]


def test_card_access_alone_streams_exchanges_to_its_sink_and_keeps_none() -> None:
    """What a command line builds on: the same readers and manager as the window, no store."""
    seen: list[object] = []
    access = CardAccess(no_pcsc)  # type: ignore[arg-type]
    reader = access.add_card(VirtualCard(handler=demo_handler), "demo")
    access.manager.set_sink(seen.append)
    conn = access.manager.open(reader)
    conn.connect(Protocol.ANY, ShareMode.SHARED).result(5)
    assert conn.send(bytes.fromhex("00 84 00 00 08"), Origin.CLI).result(5).sw == 0x9000
    assert access.close(1.0)
    assert any(getattr(item, "origin", None) is Origin.CLI for item in seen)
    assert not hasattr(access, "store")


@pytest.mark.parametrize("keep", [False, True])
def test_the_session_journal_masks_pins_and_personal_data_unless_asked_to_keep_them(
        tmp_path: Path, keep: bool) -> None:
    events: list[MonitorEvent] = []
    bench = Workbench(no_pcsc, events.append, journal_dir=tmp_path, keep_secrets=keep)  # type: ignore[arg-type]
    reader = bench.embedded.add_reader()
    bench.embedded.insert(reader, VirtualCard(handler=demo_handler))
    conn = bench.manager.open(reader)
    conn.connect(Protocol.ANY, ShareMode.SHARED).result(5)
    verify = bytes.fromhex("00 20 00 81 04 31 32 33 34")  # PIN 1234
    conn.send(verify, Origin.CONSOLE).result(5)  # whatever the card answers, the PIN went out
    # What secure messaging carried, as the trace records it under the protected exchange.
    mrz = b"P<UTOERIKSSON<<ANNA<MARIA"
    bench.store.add_exchange(Exchange(reader, bytes.fromhex("00B0000020"), mrz + b"\x90\x00", time.time(),
                                      1e-4, Origin.UNWRAPPED, Protocol.T1, ShareMode.SHARED))
    assert bench.close(1.0)
    journal = bench.store.journal
    assert journal is not None
    raw = journal.path.read_bytes()
    back = read_journal(journal.path)
    assert back.header["secrets"] == ("revealed" if keep else "masked")
    [sent] = [r for r in back.records if r.origin == Origin.CONSOLE.value]
    [plain] = [r for r in back.records if r.origin == Origin.UNWRAPPED.value]
    if keep:
        assert sent.command == verify and plain.response == mrz + b"\x90\x00"
    else:
        assert b"31323334" not in raw and b"ERIKSSON" not in raw and b"455249" not in raw.upper()
        assert sent.command == verify[:5] + bytes(4) and b'"masked":[5,9]' in raw
        assert plain.response == bytes(len(mrz)) + b"\x90\x00" and b'"masked_response":[0,25]' in raw
    # The records in memory, which the window shows (masked unless revealed), are as they happened.
    assert any(r.command == verify for r in bench.store.records())


def test_the_answer_an_authentication_gets_through_get_response_is_noted_and_masked(tmp_path: Path) -> None:
    e_ic = bytes(range(0xA0, 0xC8))

    def card(apdu: bytes) -> bytes:  # T=0 style: the cryptogram waits for GET RESPONSE
        return {0x82: b"\x61\x28", 0xC0: e_ic + b"\x90\x00"}.get(apdu[1], b"\x90\x00")

    events: list[MonitorEvent] = []
    bench = Workbench(no_pcsc, events.append, journal_dir=tmp_path)  # type: ignore[arg-type]
    reader = bench.embedded.add_reader()
    bench.embedded.insert(reader, VirtualCard(handler=card))
    conn = bench.manager.open(reader)
    conn.connect(Protocol.ANY, ShareMode.SHARED).result(5)
    assert conn.send(bytes.fromhex("0082000028") + bytes(40) + b"\x28", Origin.CONSOLE).result(5).data == e_ic
    conn.send(bytes.fromhex("00C0000028"), Origin.CONSOLE).result(5)  # typed by hand: not under it
    assert bench.close(1.0)
    external, fetched, typed = [r for r in bench.store.records() if r.kind is Kind.EXCHANGE]
    assert fetched.origin == Origin.GET_RESPONSE.value and fetched.parent == external.seq
    assert AUTHENTICATION in external.detail and AUTHENTICATION in fetched.detail and not typed.detail
    assert bench.store.journal is not None
    journal = bench.store.journal.path.read_text().upper().replace(" ", "")
    assert journal.count(e_ic.hex().upper()) == 1  # the hand-typed GET RESPONSE's answer only
