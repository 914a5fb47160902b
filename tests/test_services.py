"""The workbench (explorer/services), without Qt or PC/SC: what the window builds its panels on."""

from __future__ import annotations

from pathlib import Path

from explorer.core.exchange import Origin
from explorer.core.link_modes import Protocol, ShareMode
from explorer.core.reader_events import MonitorEvent, ReaderRemoved
from explorer.services.card_access import CardAccess
from explorer.services.workbench import Workbench
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
