"""Hostile files through every loader: card profiles (load_profile, load_card, `card-explorer
emulate`, the GUI's Insert card) and traces (read_journal and JSON Lines import, replay, the
GUI's Insert replay; and for the records the reader accepts: the trace view's model, search
and filters, every export format).

Each attack must give a message naming the file and the place, never a traceback or a hang,
and be read in bounded memory: tracemalloc's peak while loading stays under twice the file's
size plus READ_BUFFERS, the fixed cost of one read chunk and one line at its limit. Devices and
FIFOs must be refused before they are read, within a deadline.

No PC/SC: `emulate` must fail before it connects anywhere.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from explorer.cli import main
from explorer.trace import jsonl
from explorer.trace.export import ExportFormat, import_jsonl, write_export
from explorer.trace.filter import SwClass, TraceFilter, matching_rows
from explorer.trace.journal import read_journal
from explorer.trace.records import Kind, TraceRecord
from explorer.trace.store import TraceStore
from explorer.ui.trace_model import COLUMNS, RECORD_ROLE, TraceTableModel
from explorer.ui.virtual_reader import VirtualReaderMenu
from explorer.virtual.card_sources import CardSource, CardSourceError, SourceKind, load_card
from explorer.virtual.embedded import EmbeddedReaders
from explorer.virtual.profile import ProfileError, demo_profile_path, load_profile
from explorer.virtual.replay import ReplayCard, ReplayMode

ROOT = Path(__file__).resolve().parent.parent
READ_BUFFERS = 4 << 20
MiB = 1 << 20
NOT_JSONL = r"not a Card Explorer trace \(JSON Lines expected\)"


# -- helpers ----------------------------------------------------------------------------


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail with TimeoutError if the block is still running after `seconds` (a blocked open
    of a FIFO included: the signal interrupts it)."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def measured(load: Callable[[], Any], path: Path, seconds: float = 10.0) -> Any:
    """What `load` returned or raised; fails the test if it took too long or its peak memory
    went over twice the file's size plus READ_BUFFERS."""
    size = path.stat().st_size if path.is_file() else 0
    tracemalloc.start()
    try:
        with deadline(seconds):
            try:
                result = load()
            except (ProfileError, jsonl.TraceFormatError, CardSourceError) as exc:
                result = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * size + READ_BUFFERS, f"peak {peak / MiB:.1f} MiB for a {size / MiB:.1f} MiB file"
    return result


def refused(load: Callable[[], Any], path: Path, error: type[Exception], pattern: str) -> str:
    result = measured(load, path)
    assert isinstance(result, error), f"accepted: {result!r}"
    text = str(result)
    assert path.name in text or str(path) in text, text
    assert _search(pattern, text), text
    return text


def _search(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


def _fifo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


# -- profiles ---------------------------------------------------------------------------

DEMO: dict[str, Any] = json.loads(demo_profile_path().read_text(encoding="utf-8"))
BIG = "9" * 5000
DEEP = "[" * 100_000 + "]" * 100_000


def _profile_text(change: Callable[[dict[str, Any]], None]) -> str:
    obj = json.loads(json.dumps(DEMO))
    change(obj)
    # json.dumps writes NaN and Infinity as Python's json reads them; the big number goes in as text.
    return json.dumps(obj).replace('"@BIG@"', BIG)


def _nested(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda o: o.update({key: value})


def _ef(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda o: o["files"]["children"][1].update(changes)


def _pin(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda o: o["pins"][0].update(changes)


PROFILE_CASES: list[tuple[str, Callable[[Path], bytes | str], str]] = [
    ("deep nesting", lambda _: '{"format": "card-explorer-profile", "_x": ' + DEEP + "}",
     "arrays or objects nested too deep"),
    ("nesting past the limit", lambda _: _profile_text(_set("_x", _nested(40))),
     r"_x(\[0\])+: nested deeper than 32 levels"),
    ("lone surrogate", lambda _: _profile_text(_set("name", "\ud800 card")),
     r"name: the string holds a lone surrogate \(U\+D800 at character 1\)"),
    ("lone surrogate in a file", lambda _: _profile_text(_ef(content=None, text="\udfff")),
     r"files\.children\[1\]\.text: the string holds a lone surrogate"),
    ("5,000-digit integer", lambda _: _profile_text(_pin(tries="@BIG@")),
     r"pins\[0\]\.tries: a number with 5000 digits is refused"),
    ("Infinity", lambda _: _profile_text(_pin(tries=math.inf)), r"pins\[0\]\.tries: Infinity is refused"),
    ("NaN", lambda _: _profile_text(_ef(sfi=math.nan)), r"files\.children\[1\]\.sfi: NaN is refused"),
    ("-Infinity", lambda _: _profile_text(_set("version", -math.inf)), r"version: -Infinity is refused"),
    ("1e300", lambda _: _profile_text(_pin(tries=1e300)),
     r"pins\[0\]: tries must be a whole number from 1 to 15, found the number 1e\+300"),
    ("1e400", lambda _: _profile_text(_pin(tries=1.0)).replace('"tries": 1.0', '"tries": 1e400'),
     r"pins\[0\]\.tries: Infinity is not a number this program reads"),
    ("version true", lambda _: _profile_text(_set("version", True)),
     "version must be a whole number, found true"),
    ("unknown version", lambda _: _profile_text(_set("version", 2)), r"version 2 is not supported"),
    ("name a number", lambda _: _profile_text(_set("name", 5)), "name must be a string, found the number 5"),
    ("files a list", lambda _: _profile_text(_set("files", [1, 2])),
     "files: expected a file object, found a list of 2"),
    ("t0 a list", lambda _: _profile_text(_set("t0", [1, 2])), "t0 must be true or false, found a list of 2"),
    ("not UTF-8", lambda _: _profile_text(_set("name", "card")).encode().replace(b"card", b"c\xffrd", 1),
     r"not UTF-8 text: byte FF at line 1, column \d+"),
    ("UTF-16", lambda _: _profile_text(lambda o: None).encode("utf-16"), "this is UTF-16 text"),
    ("binary", lambda _: bytes(range(256)) * 16, r"not valid JSON|not UTF-8 text"),
    ("empty", lambda _: "", r"not valid JSON: line 1, column 1"),
]


def _write_case(tmp_path: Path, build: Callable[[Path], bytes | str], name: str) -> Path:
    content = build(tmp_path)
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    return path


def _device_cases(tmp_path: Path) -> list[tuple[str, Path, str]]:
    return [("FIFO", _fifo(tmp_path, "card.json"), r"this is a named pipe \(FIFO\)"),
            ("/dev/zero", Path("/dev/zero"), "this is a character device"),
            ("/dev/urandom", Path("/dev/urandom"), "this is a character device"),
            ("directory", tmp_path, "this is a directory")]


@pytest.mark.parametrize(("build", "pattern"), [case[1:] for case in PROFILE_CASES],
                         ids=[case[0] for case in PROFILE_CASES])
def test_a_hostile_profile_is_refused(tmp_path: Path, build: Callable[[Path], Any], pattern: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_case(tmp_path, build, "card.json")
    message = refused(lambda: load_profile(path), path, ProfileError, pattern)
    assert message == refused(lambda: load_card(CardSource(SourceKind.PROFILE, str(path))), path,
                              CardSourceError, pattern)
    _emulate_refuses(path, message, capsys)


def test_devices_fifos_and_directories_are_refused_before_reading(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for _, path, pattern in _device_cases(tmp_path):
        message = refused(lambda p=path: load_profile(p), path, ProfileError, pattern)  # type: ignore[misc]
        refused(lambda p=path: load_card(CardSource(SourceKind.PROFILE, str(p))), path,  # type: ignore[misc]
                CardSourceError, pattern)
        _emulate_refuses(path, message, capsys)
        trace_message = refused(lambda p=path: read_journal(p), path, jsonl.TraceFormatError,  # type: ignore[misc]
                                pattern)
        assert "Card Explorer trace is read from a regular file" in trace_message
        refused(lambda p=path: load_card(CardSource(SourceKind.TRACE, str(p))), path,  # type: ignore[misc]
                CardSourceError, pattern)


def _emulate_refuses(path: Path, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`card-explorer emulate PATH` exits 2 with the loader's message, before any connection."""
    capsys.readouterr()
    with deadline(10):
        code = main(["emulate", str(path), "--port", "9"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == f"card-explorer emulate: {message}\n"


def test_emulate_exits_2_without_a_traceback(tmp_path: Path) -> None:
    """The real command, as a user runs it: exit code 2 and the message alone."""
    path = _write_case(tmp_path, PROFILE_CASES[0][1], "deep.json")
    result = subprocess.run([sys.executable, "-m", "explorer", "emulate", str(path), "--port", "9"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr == "card-explorer emulate: deep.json: arrays or objects nested too deep to read\n"


@pytest.mark.parametrize("port", ["0", "65536", "-1", "99999999999999999999", "http", "３５９６３"])
def test_emulate_refuses_a_port_outside_1_to_65535(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["emulate", "demo", "--port", port])
    assert exited.value.code == 2
    assert "is not a port number (1 to 65535)" in capsys.readouterr().err


def test_emulate_prints_names_with_their_control_characters_escaped(tmp_path: Path) -> None:
    name = "Evil\x1b[2J card\r\nprofile forged\u202e"
    path = tmp_path / "evil\x1b[31m.json"
    path.write_text(_profile_text(_set("name", name)), encoding="utf-8")
    # A closed port: the card waits for vpcd, printing its name first; SIGTERM removes it.
    with subprocess.Popen([sys.executable, "-m", "explorer", "emulate", str(path), "--port", "9"],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            first = child.stdout.readline()
            child.terminate()
            child.communicate(timeout=30)
        finally:
            child.kill()
    assert first == "profile Evil\\x1b[2J card\\r\\nprofile forged\\u202e\n"
    # And in messages: the file name, escaped.
    bad = tmp_path / "bad\x1b[31m\n.json"
    bad.write_text("{", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "explorer", "emulate", str(bad)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("card-explorer emulate: bad\\x1b[31m\\n.json: not valid JSON: line 1")
    assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr


# -- traces -----------------------------------------------------------------------------

HEADER = {"format": "card-explorer-trace", "version": 1, "started": 1_718_000_000.0}
GOOD = TraceRecord(2, Kind.EXCHANGE, 1_718_000_000.25, "Reader 0", "console", 0.001, "T=1", "shared",
                   bytes.fromhex("00A4040007A0000000041010"), b"\x90\x00")


def _record(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(jsonl.encode(GOOD._replace(seq=1)))
    obj.update(changes)
    return obj


def _trace(*lines: str | bytes, header: str | None = None) -> bytes:
    head = json.dumps(HEADER) if header is None else header
    parts = [head.encode(), *(line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
                              for line in lines), jsonl.encode(GOOD).rstrip("\n").encode()]
    return b"\n".join(parts) + b"\n"


def _line(**changes: Any) -> str:
    return json.dumps(_record(**changes)).replace('"@BIG@"', BIG)


LINE_CASES: list[tuple[str, str | bytes, str]] = [
    ("time Infinity", _line(time=math.inf), "field 'time' must be a finite number of epoch seconds from 0 to "
                                            "253402214399, found Infinity"),
    ("time NaN", _line(time=math.nan), "field 'time' must be .*, found NaN"),
    ("time -Infinity", _line(time=-math.inf), "found -Infinity"),
    ("time 1e300", _line(time=1e300), r"field 'time' must be .*, found the number 1e\+300"),
    ("time 1e400", _line(time=1.5).replace("1.5", "1e400"), "field 'time' must be .*, found Infinity"),
    ("time a string", _line(time="5"), "field 'time' must be .*, found the string '5'"),
    ("duration NaN", _line(duration=math.nan), "field 'duration' must be a finite number of seconds"),
    ("seq 5,000 digits", _line(seq="@BIG@"), "field 'seq' must be .*, found a number with 5000 digits"),
    ("seq true", _line(seq=True),
     "field 'seq' must be a whole number from 1 to 9223372036854775807, found true"),
    ("parent a list", _line(parent=[1, 2]),
     "field 'parent' must be null or a whole number .*, found a list of 2"),
    ("error a number", _line(error=5), "field 'error' must be a string, found the number 5"),
    ("protocol a list", _line(protocol=[1, 2]),
     "field 'protocol' must be one of null, 'T=0', .*found a list of 2"),
    ("share an object", _line(share={}), "field 'share' must be one of null, 'shared', .*found an object"),
    ("unknown kind", _line(kind="exchange2"),
     "field 'kind' must be one of 'exchange', 'event', found the string"),
    ("unknown origin", _line(origin="hacker"),
     "field 'origin' must be one of 'console', .*found the string 'hacker'"),
    ("lone surrogate", _line(reader="\udc00 reader"), r"field 'reader' holds a lone surrogate \(U\+DC00"),
    ("lone surrogate in detail", _line(detail="x\ud83d"),
     r"field 'detail' holds a lone surrogate \(U\+D83D at character 2\)"),
    ("command not hex", _line(command="00 A4 0G"), "field 'command' is not hex: 'G' at column 8"),
    ("command in other digits", _line(command="٣٣"), "field 'command' is not hex: '٣' at column 1"),
    ("response odd", _line(response="9 00"), "field 'response' is not hex: column 1: an odd number"),
    ("field missing", json.dumps({k: v for k, v in _record().items() if k != "time"}),
     "field 'time' is missing"),
    ("not an object", "[1, 2, 3]", "a record must be a JSON object, found a list of 3"),
    ("deep nesting", '{"seq": ' + DEEP + "}", "arrays or objects nested too deep"),
    ("not UTF-8", _line(reader="R").encode().replace(b'"R"', b'"\xff"'), "not UTF-8 text: byte FF at column"),
    ("encoded surrogate", _line(reader="R").encode().replace(b'"R"', b'"\xed\xa0\x80"'),
     "not UTF-8 text: byte ED at column"),
    ("not JSON", "{'seq': 1}", "not valid JSON: column 2: Expecting property name"),
]


@pytest.mark.parametrize(("line", "pattern"), [case[1:] for case in LINE_CASES],
                         ids=[c[0] for c in LINE_CASES])
def test_a_hostile_line_is_skipped_with_its_place(tmp_path: Path, line: str | bytes, pattern: str,
                                                  qapp: Any) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(_trace(line))
    contents = measured(lambda: read_journal(path), path)
    assert [r.seq for r in contents.records] == [2] and contents.bad_lines == 1
    (problem,) = contents.problems
    assert problem.startswith("trace.jsonl line 2: ") and _search(pattern, problem), problem
    assert import_jsonl(path) == contents
    loaded = load_card(CardSource(SourceKind.TRACE, str(path)))
    assert loaded.note == f"1 bad line(s) skipped, first: {problem}"
    # Only the bad line: nothing to replay, and the message says why.
    path.write_bytes(_trace(line)[:-len(jsonl.encode(GOOD))])
    refused(lambda: load_card(CardSource(SourceKind.TRACE, str(path))), path, CardSourceError,
            re.escape("trace.jsonl: the trace holds no answered command to replay "
                      f"(1 bad line(s) skipped, first: {problem})"))


HEADER_CASES: list[tuple[str, str, str]] = [
    ("version true", json.dumps({**HEADER, "version": True}),
     "trace.jsonl line 1: the header's version must be a whole number, found true"),
    ("unknown version", json.dumps({**HEADER, "version": 2}),
     r"trace.jsonl line 1: version 2 is not supported \(this program reads version 1\)"),
    ("version 5,000 digits", json.dumps({**HEADER, "version": "@BIG@"}).replace('"@BIG@"', BIG),
     "the header's version must be a whole number, found a number with 5000 digits"),
    ("Infinity in the header", json.dumps({**HEADER, "started": math.inf}),
     r"trace.jsonl line 1: header.started: Infinity is refused"),
    ("lone surrogate in the header", json.dumps({**HEADER, "generator": "\udbff"}),
     r"header.generator: the string holds a lone surrogate"),
    ("nesting in the header", json.dumps({**HEADER, "x": _nested(20)}),
     r"header.x(\[0\])+: nested deeper than 8"),
    ("deep nesting", '{"format": "card-explorer-trace", "x": ' + DEEP + "}",
     "trace.jsonl line 1: not a Card Explorer trace: arrays or objects nested too deep"),
    ("no header", json.dumps({"hello": 1}),
     "trace.jsonl line 1: not a Card Explorer trace: the first line is not its header"),
    ("a record first", jsonl.encode(GOOD).strip(),
     "not a Card Explorer trace: the first line is not its header"),
]


@pytest.mark.parametrize(("header", "pattern"), [case[1:] for case in HEADER_CASES],
                         ids=[c[0] for c in HEADER_CASES])
def test_a_hostile_header_refuses_the_file(tmp_path: Path, header: str, pattern: str) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(_trace(header=header))
    message = refused(lambda: read_journal(path), path, jsonl.TraceFormatError, pattern)
    assert refused(lambda: load_card(CardSource(SourceKind.TRACE, str(path))), path, CardSourceError,
                   pattern) == message


def _export_of(tmp_path: Path, fmt: ExportFormat) -> bytes:
    out = tmp_path / f"export{fmt.suffix}"
    write_export(out, [GOOD], fmt, exported_at=1_718_000_000.0)
    return out.read_bytes()


FILE_CASES: list[tuple[str, Callable[[Path], bytes], str]] = [
    ("CSV export", lambda t: _export_of(t, ExportFormat.CSV),
     NOT_JSONL + ": line 1 starts with 'seq,time,reader,kind,origin,co'"),
    ("text export", lambda t: _export_of(t, ExportFormat.TEXT),
     NOT_JSONL + ": line 1 starts with '# Card Explorer"),
    ("HTML export", lambda t: _export_of(t, ExportFormat.HTML),
     NOT_JSONL + ": line 1 starts with '<!DOCTYPE html>"),
    ("plain CSV", lambda _: b"\n\nseq,time,reader\n1,2,3\n",
     NOT_JSONL + ": line 3 starts with 'seq,time,reader'"),
    ("UTF-16", lambda _: _trace().decode().encode("utf-16"), NOT_JSONL + ": this is UTF-16 text"),
    ("UTF-16 without BOM", lambda _: _trace().decode().encode("utf-16-le"),
     NOT_JSONL + r": this is UTF-16 text \(no byte order mark\)"),
    ("UTF-32", lambda _: _trace().decode().encode("utf-32"), NOT_JSONL + ": this is UTF-32 text"),
    ("binary", lambda _: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 8,
     NOT_JSONL + r": binary data \(a NUL byte at offset 8\)"),
    ("empty", lambda _: b"",
     "trace.jsonl: the file is empty: a Card Explorer trace starts with a header line"),
    ("blank", lambda _: b"\n \r\n\t\n", "trace.jsonl: the file is empty"),
    ("header cut short", lambda _: _trace()[:30], "trace.jsonl: the file holds only a line cut short"),
]


@pytest.mark.parametrize(("build", "pattern"), [case[1:] for case in FILE_CASES],
                         ids=[c[0] for c in FILE_CASES])
def test_a_file_that_is_no_trace_says_so(tmp_path: Path, build: Callable[[Path], bytes],
                                         pattern: str) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(build(tmp_path))
    message = refused(lambda: read_journal(path), path, jsonl.TraceFormatError, pattern)
    assert message.startswith("trace.jsonl")
    refused(lambda: load_card(CardSource(SourceKind.TRACE, str(path))), path, CardSourceError, pattern)


def test_a_utf8_bom_and_a_last_line_without_newline_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _trace().rstrip(b"\n"))
    contents = read_journal(path)
    assert contents.records == (GOOD,) and not contents.cut_short and not contents.problems


# -- the huge ones: built once each, deleted after ---------------------------------------


def _write_huge(path: Path, start: bytes, filler: bytes, size: int, end: bytes) -> None:
    block = filler * (MiB // len(filler))
    with path.open("wb") as f:
        f.write(start)
        for _ in range(size // len(block)):
            f.write(block)
        f.write(end)


def test_a_100_mb_field(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    head = json.dumps(HEADER).encode() + b"\n" + json.dumps(_record()).encode()[:-1] + b', "x": "'
    tail = b'"}\n' + jsonl.encode(GOOD).encode()
    try:
        _write_huge(path, head, b"A", 100 * MiB, tail)
        contents = measured(lambda: read_journal(path), path, 30)
        assert contents.records == (GOOD,) and contents.bad_lines == 1
        assert contents.problems == ("trace.jsonl line 2: longer than 1.0 MiB, the most a line may have",)
        loaded = measured(lambda: load_card(CardSource(SourceKind.TRACE, str(path))), path, 30)
        assert "1 bad line(s) skipped" in loaded.note
        path.unlink()
        # The same field in a profile: refused from its size, before a byte is read.
        path = tmp_path / "card.json"
        _write_huge(path, b'{"format": "card-explorer-profile", "version": 1, "description": "', b"A",
                    100 * MiB, b'"}')
        refused(lambda: load_profile(path), path, ProfileError,
                r"card.json: 100.0 MiB is more than a card profile may have \(4.0 MiB\)")
    finally:
        path.unlink(missing_ok=True)


def test_a_198_mb_single_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.json"
    try:
        _write_huge(path, b'{"format": "card-explorer-trace", "version": 1, "x": "', b"\xc3\xa9", 198 * MiB,
                    b'"}')
        refused(lambda: read_journal(path), path, jsonl.TraceFormatError,
                "big.json line 1: not a Card Explorer trace: longer than 1.0 MiB, the most a line may have")
        refused(lambda: load_card(CardSource(SourceKind.TRACE, str(path))), path, CardSourceError,
                "longer than")
        message = refused(lambda: load_profile(path), path, ProfileError,
                          "198.0 MiB is more than a card profile")
        _emulate_refuses(path, message, capsys)
        # Not even a brace: found out from the first chunk.
        with path.open("r+b") as f:
            f.write(b"AAAA")
        refused(lambda: read_journal(path), path, jsonl.TraceFormatError,
                NOT_JSONL + ": line 1 starts with 'AAAA")
    finally:
        path.unlink(missing_ok=True)


# -- what the reader accepts, every consumer takes ------------------------------------------

EDGE_RECORDS = [
    _record(seq=1, time=0, duration=0, reader="", origin="cli", command="", response=""),
    _record(seq=2, time=253_402_214_399.0, duration=1e7, response="90", parent=2**63 - 1),
    _record(seq=2**63 - 1, reader="Evil\x1b[2J\r\n\0\u202e\U0001f4a9" + "r" * 100_000,
            error="line\nbreak\t\0", response="", command="00 A4 04 00 " + "00 " * 65_535 + "00"),
    _record(seq=4, kind="event", origin="card inserted", detail="3B " * 300_000, command="", response="",
            protocol=None, share=None),
    _record(seq=5, kind="event", origin="card inserted", detail="=cmd|' /C calc'!A0", time=5),
    _record(seq=6, time=1.0e-300, duration=5e-324, origin="6Cxx re-send", parent=3,
            command="0020008108" + "31" * 8, response="63 C2", protocol="raw", share="direct"),
    _record(seq=7, origin="control", command="42 00 31 00", response="", error=""),
    _record(seq=8, kind="event", origin="service lost", reader="", detail="\x1b]0;title\x07", x=_nested(500),
            masked=[5, 13]),
]


def test_records_the_reader_accepts_work_in_every_consumer(tmp_path: Path, qapp: Any) -> None:
    path = tmp_path / "edge.jsonl"
    lines = [json.dumps(HEADER), *(json.dumps(r) for r in EDGE_RECORDS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    contents = measured(lambda: read_journal(path), path)
    assert not contents.problems and len(contents.records) == len(EDGE_RECORDS)
    records = list(contents.records)

    model = TraceTableModel(TraceStore(records=records))
    roles = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole,
             Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole, RECORD_ROLE]
    for fold in (False, True):
        model.set_fold(fold)
        for row in range(model.rowCount()):
            for column in range(len(COLUMNS)):
                for role in roles:
                    model.data(model.index(row, column), role)
    for text in ("", "evil", "00 A4", "6A 82", "\x1b", "calc", "63C2"):
        for classes in (None, frozenset(SwClass)):
            matching_rows(records, TraceFilter(text=text, classes=classes))
            model.set_filter(TraceFilter(text=text, classes=classes))
    assert matching_rows(records, TraceFilter(text="63 C2")) == [5]

    for fmt in ExportFormat:
        for reveal in (False, True):
            out = write_export(tmp_path / f"out{fmt.suffix}", records, fmt, reveal_secrets=reveal)
            assert out.stat().st_size > 1000, fmt
    assert import_jsonl(tmp_path / "out.jsonl").records == contents.records  # revealed: identical
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert "\x1b" not in text and "\0" not in text and "\\x1b[2J" in text

    replay = ReplayCard(records, ReplayMode.MATCH)
    assert replay.exchanges == 1 and replay(bytes.fromhex("0020008108" + "31" * 8)) == b"\x63\xc2"


# -- the GUI's Insert card ------------------------------------------------------------------


@pytest.fixture
def menu(qtbot: QtBot) -> Iterator[VirtualReaderMenu]:
    parent = QWidget()
    qtbot.addWidget(parent)
    hub = EmbeddedReaders(lambda event: None)
    hub.add_reader()
    yield VirtualReaderMenu(hub, lambda: None, parent)


def _insert_fails(qtbot: QtBot, menu: VirtualReaderMenu, source: CardSource) -> str:
    """Insert from `source`; "Loading…" must end with "No card inserted" in the status bar and a dialog."""
    with qtbot.waitSignal(menu.message, timeout=10_000,
                          check_params_cb=lambda text: not text.startswith("Loading")) as said:
        menu.insert(source)
    message: str = said.args[0]
    assert message.startswith("No card inserted: "), message
    parent = menu.parentWidget()
    assert parent is not None
    boxes = [b for b in parent.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1
    assert boxes[0].text() == f"No card inserted:\n{message.removeprefix('No card inserted: ')}"
    boxes[0].close()
    assert menu.hub.card_label(menu.target() or "") is None
    return message


def test_insert_card_shows_every_loader_failure(qtbot: QtBot, menu: VirtualReaderMenu,
                                                tmp_path: Path) -> None:
    for name, build, pattern in PROFILE_CASES:
        path = _write_case(tmp_path, build, f"{name}.json")
        message = _insert_fails(qtbot, menu, CardSource(SourceKind.PROFILE, str(path)))
        assert _search(pattern, message) and path.name in message, (name, message)
    for name, path, pattern in _device_cases(tmp_path):
        for kind in (SourceKind.PROFILE, SourceKind.TRACE):
            message = _insert_fails(qtbot, menu, CardSource(kind, str(path)))
            assert _search(pattern, message), (name, message)
    for name, build_file, pattern in FILE_CASES:
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(build_file(tmp_path))
        message = _insert_fails(qtbot, menu, CardSource(SourceKind.TRACE, str(path), ReplayMode.MATCH))
        assert _search(pattern.replace("trace.jsonl", ""), message), (name, message)


def test_insert_card_ends_loading_on_an_unexpected_error(qtbot: QtBot, menu: VirtualReaderMenu,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in a loader still ends "Loading…", and goes to threading.excepthook (the app's crash
    reporter: logged with its traceback, one line on the terminal) instead of dying unseen."""
    def broken(source: CardSource) -> None:
        raise RuntimeError("a bug in the loader")

    hooked: list[BaseException | None] = []
    monkeypatch.setattr("explorer.ui.virtual_reader.load_card", broken)
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args.exc_value))
    message = _insert_fails(qtbot, menu, CardSource(SourceKind.PROFILE, "/some/card.json"))
    assert message == ("No card inserted: /some/card.json: unexpected error (RuntimeError: a bug in the "
                       "loader)")
    qtbot.waitUntil(lambda: len(hooked) == 1, timeout=5000)
    assert isinstance(hooked[0], RuntimeError)
