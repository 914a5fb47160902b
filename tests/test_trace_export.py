"""Trace exports (text, JSON Lines, CSV, HTML) and the masking of secrets:
no PC/SC, records made through a TraceStore from hand-made exchanges."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import stat
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.atr import decode_atr
from explorer.core.atr_report import summary
from explorer.core.atrdb import AtrDatabase
from explorer.core.exchange import Exchange, LinkEvent, LinkEventKind, Origin
from explorer.core.hexfmt import to_hex
from explorer.core.link_modes import Protocol, ShareMode
from explorer.core.reader_events import CardInserted, CardRemoved
from explorer.core.sensitive import AUTHENTICATION, hides_answer, mask, masked_hex, secret_span, zeroed
from explorer.trace.export import (
    ExportFormat,
    import_jsonl,
    write_csv,
    write_export,
    write_text,
)
from explorer.trace.export_html import write_html
from explorer.trace.records import TraceRecord
from explorer.trace.store import TraceStore

R = "Virtual PCD 00 00"
EVIL = '<b>"R"&</b>'
T0 = 1_700_000_000.0
ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
DB = AtrDatabase.parse(f"{to_hex(ATR)}\n\tTest MIFARE card from the export tests\n")
PIN = "31 32 33 34"
VERIFY = bytes.fromhex("0020008008 31323334FFFFFFFF".replace(" ", ""))
SPEC_COLUMNS = ["seq", "time", "reader", "kind", "origin", "command", "response", "sw", "meaning",
                "duration_ms", "protocol", "share", "error", "detail", "parent", "secrets"]


def _x(command: str, response: str, at: float, origin: Origin = Origin.CONSOLE, reader: str = R,
       error: str | None = None) -> Exchange:
    return Exchange(reader, bytes.fromhex(command), bytes.fromhex(response), T0 + at, 0.000321, origin,
                    Protocol.T1, ShareMode.SHARED, error)


def _records() -> list[TraceRecord]:
    store = TraceStore()
    store.add_monitor_event(CardInserted(R, ATR, T0))  # 1
    store.add_link_event(LinkEvent(R, LinkEventKind.CONNECTED, T0 + 0.5, Protocol.T1, ShareMode.SHARED))  # 2
    store.add_exchange(_x("00A4040007A000000004101000", "611C", 1.0))  # 3
    store.add_exchange(_x("00C000001C", "6F1A" + "84" * 26 + "9000", 1.001, Origin.GET_RESPONSE))  # 4
    store.add_exchange(_x(VERIFY.hex(), "63C2", 2.0))  # 5
    store.add_exchange(_x("00A40000023F01", "6A82", 3.0))  # 6
    store.add_exchange(_x("00B0000000", "", 4.0, error="card removed"))  # 7
    store.add_exchange(_x("80CA9F7F00", "9000", 5.0, reader=EVIL))  # 8
    store.add_monitor_event(CardRemoved(R, T0 + 6.0))  # 9
    return store.records()


def _with_command(r: TraceRecord, command: bytes) -> TraceRecord:
    # Positional: works whether TraceRecord is a dataclass or a NamedTuple.
    return TraceRecord(r.seq, r.kind, r.time, r.reader, r.origin, r.duration, r.protocol, r.share,
                       command, r.response, r.error, r.detail, r.parent)


def _header(text: str, fmt: ExportFormat) -> str:
    """What a reader sees first: the comment block, the first line, the page title; for CSV the
    `secrets` column of the first row (the header row is the columns' names)."""
    if fmt is ExportFormat.CSV:
        return next(csv.DictReader(io.StringIO(text, newline="")))["secrets"]
    if fmt is ExportFormat.HTML:
        return text[text.index("<title>"):text.index("</title>")].lower()
    if fmt is ExportFormat.TEXT:
        return text[:text.index("\n\n")].lower()
    return text.splitlines()[0].lower()


def _export(tmp_path: Path, fmt: ExportFormat, reveal: bool = False) -> str:
    path = write_export(tmp_path / f"trace{fmt.suffix}", _records(), fmt, reveal_secrets=reveal,
                        atr_database=DB)
    return path.read_text(encoding="utf-8")


# -- secrets ------------------------------------------------------------------------


def test_secret_commands_hide_their_data_field() -> None:
    assert secret_span(VERIFY) == (5, 13)
    assert masked_hex(VERIFY) == "00 20 00 80 08 " + " ".join(["••"] * 8)
    assert zeroed(VERIFY) == bytes.fromhex("0020008008") + bytes(8)
    change = bytes.fromhex("0024008010") + b"1234" + b"\xff" * 4 + b"5678" + b"\xff" * 4
    assert secret_span(change) == (5, 21)
    assert secret_span(bytes.fromhex("002C008110") + bytes(16)) == (5, 21)  # RESET RETRY COUNTER
    assert secret_span(bytes.fromhex("0026008008") + bytes(8)) == (5, 13)  # DISABLE VERIFICATION REQ.
    assert secret_span(bytes.fromhex("0028008008") + bytes(8)) == (5, 13)  # ENABLE VERIFICATION REQ.
    put_key = bytes.fromhex("80D8018105") + bytes(5) + b"\x00"
    assert secret_span(put_key) == (5, 10)  # PUT KEY, with Le
    assert secret_span(bytes.fromhex("84D801810111")) == (5, 6)
    assert secret_span(bytes.fromhex("00D8018101AA")) is None  # interindustry D8 is no PUT KEY
    assert secret_span(bytes.fromhex("FF82002006") + bytes(6)) == (5, 11)  # PC/SC LOAD KEYS
    assert secret_span(bytes.fromhex("A02000010831323334FFFFFFFF")) == (5, 13)  # GSM VERIFY CHV
    assert mask(b"abc") == "•• •• ••"


def test_authentication_cryptograms_are_hidden_both_ways_and_only_under_interindustry_classes() -> None:
    e_ifd = bytes(range(40))
    assert secret_span(bytes.fromhex("0082000028") + e_ifd + b"\x28") == (5, 45)  # BAC EXTERNAL AUTHENTICATE
    assert secret_span(bytes.fromhex("1086000004") + bytes(4)) == (5, 9)  # PACE GENERAL AUTHENTICATE, chained
    assert secret_span(bytes.fromhex("8482000010") + bytes(16)) is None  # GlobalPlatform's: the card's keys
    assert secret_span(bytes.fromhex("0082000000")) is None  # nothing to hide
    assert hides_answer(bytes.fromhex("0087009A04") + bytes(4))
    get_response = bytes.fromhex("00C0000028")
    assert not hides_answer(get_response) and hides_answer(get_response, AUTHENTICATION)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_the_answer_to_an_authentication_is_hidden_on_t0_too(tmp_path: Path, fmt: ExportFormat) -> None:
    e_ic = "E1" * 32 + "CC" * 8
    store = TraceStore()
    store.add_exchange(_x("00820000" + "28" + "1F" * 40 + "28", "6128", 1.0))
    reply = _x("00C0000028", e_ic + "9000", 1.001, Origin.GET_RESPONSE)
    store.add_exchange(dataclasses.replace(reply, note=AUTHENTICATION))  # as the link notes its chain
    store.add_exchange(_x("00C0000028", e_ic + "9000", 2.0))  # not under an authentication: shown
    records = store.records()
    masked = write_export(tmp_path / f"m{fmt.suffix}", records, fmt).read_text()
    revealed = write_export(tmp_path / f"r{fmt.suffix}", records, fmt, reveal_secrets=True).read_text()

    def count(text: str, data: str) -> int:
        return text.upper().replace(" ", "").count(data)

    assert count(revealed, "1F" * 40) == 1 and count(revealed, e_ic) == 2
    assert count(masked, "1F" * 40) == 0 and count(masked, e_ic) == 1


def test_extended_verify_and_verify_without_data() -> None:
    extended = bytes.fromhex("0020008000000831323334FFFFFFFF")
    assert secret_span(extended) == (7, 15)
    assert masked_hex(extended).startswith("00 20 00 80 00 00 08 ••") and PIN not in masked_hex(extended)
    assert secret_span(extended + b"\x00\x00") == (7, 15)  # case 4E
    assert secret_span(bytes.fromhex("00200080")) is None  # asks for the retry counter only


def test_not_secret_and_garbage() -> None:
    select = bytes.fromhex("00A4040007A000000004101000")
    assert secret_span(select) is None and masked_hex(select) == to_hex(select)
    for junk in (b"", b"\x00", b"\x00\x20", b"\x00\x20\x00", b"\xff" * 3):
        assert secret_span(junk) is None
    # A VERIFY whose Lc lies: its data cannot be located, so everything from byte 5 on goes.
    assert secret_span(bytes.fromhex("0020008008313233")) == (5, 8)
    assert masked_hex(bytes.fromhex("0020008008313233")) == "00 20 00 80 08 •• •• ••"


@given(st.binary(max_size=300))
def test_masking_is_total_and_keeps_lengths(command: bytes) -> None:
    span = secret_span(command)
    if span is not None:
        assert 5 <= span[0] < span[1] <= len(command)
    assert len(masked_hex(command).split()) == len(command)
    assert len(zeroed(command)) == len(command)


# -- JSON Lines -----------------------------------------------------------------------


def test_jsonl_revealed_imports_back_identical(tmp_path: Path) -> None:
    records = _records()
    path = write_export(tmp_path / "t.jsonl", records, "jsonl", reveal_secrets=True)
    contents = import_jsonl(path)
    assert contents.records == tuple(records)
    assert not contents.problems and not contents.cut_short
    assert contents.header["secrets"] == "revealed" and contents.header["records"] == len(records)


def test_jsonl_masked_zeroes_the_pin_and_imports(tmp_path: Path) -> None:
    records = _records()
    path = write_export(tmp_path / "t.jsonl", records, ExportFormat.JSONL)
    text = path.read_text()
    assert PIN not in text and "31323334" not in text
    assert text.count('"masked":[5,13]') == 1
    contents = import_jsonl(path)
    assert contents.header["secrets"] == "masked" and not contents.problems
    expected = [_with_command(r, zeroed(r.command)) if r.command == VERIFY else r for r in records]
    assert list(contents.records) == expected


# -- every format -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_masked_export_hides_the_pin_and_says_so(tmp_path: Path, fmt: ExportFormat) -> None:
    text = _export(tmp_path, fmt)
    assert PIN not in text and "31323334" not in text
    head = _header(text, fmt)
    assert "masked" in head and "revealed" not in head


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_revealed_export_says_so_in_its_header(tmp_path: Path, fmt: ExportFormat) -> None:
    text = _export(tmp_path, fmt, reveal=True)
    assert PIN in text
    head = _header(text, fmt)
    assert "revealed" in head and "masked" not in head


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_files_are_private_even_when_they_existed(tmp_path: Path, fmt: ExportFormat) -> None:
    fresh = write_export(tmp_path / f"new{fmt.suffix}", _records(), fmt, atr_database=DB)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o600
    old = tmp_path / f"old{fmt.suffix}"
    old.write_text("x" * 100_000)
    os.chmod(old, 0o644)
    write_export(old, _records(), fmt, atr_database=DB)
    assert stat.S_IMODE(os.stat(old).st_mode) == 0o600
    assert "x" * 100 not in old.read_text()  # truncated, not overwritten in place


# -- text ---------------------------------------------------------------------------


def test_text_is_line_pairs_with_steps_indented() -> None:
    out = io.StringIO()
    write_text(_records(), out, exported_at=T0 + 10)
    lines = out.getvalue().splitlines()
    assert lines[0] == "# Card Explorer trace"
    select = next(i for i, line in enumerate(lines) if line.startswith("#3 "))
    first, second = lines[select], lines[select + 1]
    assert " console  > 00 A4 04 00 07 A0 00 00 00 04 10 10 00   SELECT" in first
    assert second.lstrip().startswith("< 61 1C   0x1C (28) bytes still available")
    assert second.endswith("[0.321 ms]")
    assert second.index("<") == first.index(">")  # the pair lines up
    step, step_answer = lines[select + 2], lines[select + 3]
    assert step.startswith("    #4 ") and "> 00 C0 00 00 1C   GET RESPONSE" in step
    assert step_answer.index("<") == step.index(">")
    assert any(line.startswith("-- #1 ") and "card inserted" in line and to_hex(ATR) in line
               for line in lines)
    assert any("File not found" in line for line in lines)
    assert any("Verification failed (wrong PIN): 2 tries left" in line for line in lines)
    assert any(line.lstrip().startswith("! card removed") for line in lines)
    # Each exchange is exactly two lines, each event one.
    body = [line for line in lines if line and not line.startswith("# ")]
    assert len(body) == 6 * 2 + 3


# -- CSV ----------------------------------------------------------------------------


def test_csv_parses_back() -> None:
    out = io.StringIO(newline="")
    records = _records()
    write_csv(records, out, exported_at=T0 + 10)
    text = out.getvalue()
    # Plain CSV: the header row first, as spreadsheets and pandas expect; no "#" preamble.
    assert text.startswith("seq,time,reader,")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(records)
    assert list(rows[0]) == SPEC_COLUMNS
    assert {row["secrets"] for row in rows} == {"masked"}
    by_seq = {row["seq"]: row for row in rows}
    assert by_seq["5"]["command"] == masked_hex(VERIFY) and by_seq["5"]["sw"] == "63 C2"
    assert by_seq["6"]["sw"] == "6A 82" and by_seq["6"]["meaning"].startswith("File not found")
    assert by_seq["4"]["parent"] == "3" and by_seq["4"]["origin"] == "get response"
    assert by_seq["7"]["error"] == "card removed" and by_seq["7"]["sw"] == ""
    assert by_seq["8"]["reader"] == EVIL and by_seq["1"]["detail"] == to_hex(ATR)
    assert by_seq["3"]["duration_ms"] == "0.321" and by_seq["3"]["protocol"] == "T=1"
    assert by_seq["3"]["time"].endswith(rows[0]["time"][-6:])  # same offset: one clock
    assert "." in by_seq["3"]["time"] and len(by_seq["3"]["time"].split(".")[1]) >= 6
    revealed = io.StringIO(newline="")
    write_csv(records, revealed, reveal_secrets=True)
    by_seq = {row["seq"]: row for row in csv.DictReader(io.StringIO(revealed.getvalue(), newline=""))}
    assert by_seq["5"]["command"] == to_hex(VERIFY) and by_seq["5"]["secrets"] == "revealed"


# -- HTML ---------------------------------------------------------------------------

_VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}


class _Checker(HTMLParser):
    """Fails on any unbalanced tag; collects the text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _html() -> tuple[str, _Checker]:
    out = io.StringIO()
    write_html(_records(), out, atr_database=DB, readers=["Spare reader"], exported_at=T0 + 10)
    page = out.getvalue()
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert not checker.stack
    return page, checker


def test_html_is_a_sound_self_contained_page() -> None:
    page, checker = _html()
    text = "".join(checker.text)
    assert summary(decode_atr(ATR)) in text and "Test MIFARE card from the export tests" in text
    assert "Secrets masked" in text and "Spare reader" in text
    lowered = page.lower()
    assert "<script" not in lowered and "http://" not in lowered and "https://" not in lowered
    assert " src=" not in lowered and " href=" not in lowered and "<link" not in lowered


def test_html_marks_failures_and_escapes_user_data() -> None:
    page, checker = _html()
    assert "failure" in _last_row_class(page, "6")  # 6A 82
    assert "failure" in _last_row_class(page, "7")  # the error exchange
    assert "warning" in _last_row_class(page, "5")  # 63 C2
    assert "auto" in _last_row_class(page, "4")
    assert "<b>" not in page and "&lt;b&gt;&quot;R&quot;&amp;&lt;/b&gt;" in page
    assert EVIL in "".join(checker.text)


def _last_row_class(page: str, seq: str) -> str:
    """The class of the timeline row of record `seq` (the last table row starting with it)."""
    marker = f'<td class="num">{seq}</td><td class="t"'
    at = page.rindex(marker)
    row = page.rindex("<tr", 0, at)
    head = page[row:page.index(">", row)]
    return head.split('class="')[1].split('"')[0] if 'class="' in head else ""


# -- size ---------------------------------------------------------------------------


def test_jsonl_export_of_100000_records(tmp_path: Path) -> None:
    store = TraceStore()
    for i in range(50_000):
        store.add_exchange(_x("00B0000010", "00" * 16 + "9000", i * 0.01))
        store.add_exchange(_x(VERIFY.hex(), "9000", i * 0.01 + 0.005))
    records = store.records()
    t0 = time.perf_counter()
    path = write_export(tmp_path / "big.jsonl", records, ExportFormat.JSONL)
    elapsed = time.perf_counter() - t0
    print(f"\nJSON Lines export of {len(records):,} records (half masked): {elapsed:.2f} s, "
          f"{path.stat().st_size / 1e6:.1f} MB")
    assert elapsed < 20
    assert len(import_jsonl(path).records) == len(records)
