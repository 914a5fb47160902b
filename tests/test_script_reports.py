"""Reports of script runs (pure, no PC/SC): scripts run on the in-process demo card, then the
JUnit XML read back by junitparser and checked against the structure Jenkins and GitLab read,
the HTML report parsed (nothing active, nothing loaded, everything escaped, secrets masked),
and the JSON Lines written, read back equal, and bad lines refused with line and JSON path."""

from __future__ import annotations

import io
import json
import re
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from explorer.core import card_errors as ce
from explorer.core.exchange import Exchange, Origin
from explorer.core.input_error import InputError
from explorer.script.parser import parse_script
from explorer.script.report_html import html_report
from explorer.script.results_jsonl import (
    read_results,
    read_results_file,
    result_objects,
    write_results,
)
from explorer.script.runner import CaseResult, ScriptResult, Verdict, run
from explorer.script.runs import ScriptRun
from tests.test_script_runner import APP, DemoCard

PIN = "31 32 33 34 FF FF FF FF"
KEY = "5A 5B 5C 5D"  # the data of a command marked `secret` that no INS rule recognises
HOSTILE = 'evil<script>alert(1)</script>&"\x1b[31m\u202e.apdu'


class ResendCard(DemoCard):
    """The demo card, but GET DATA under CLA 80 is told 6C 04 until it asks for 4 bytes: so a
    secret-marked command is re-sent, its data again on the wire (an automatic step)."""

    def _transmit(self, apdu: bytes, origin: Origin) -> Exchange:
        if apdu[:2] != b"\x80\xca":
            return super()._transmit(apdu, origin)
        self.sent.append(apdu)
        answer = b"\x01\x02\x03\x04\x90\x00" if apdu[-1] == 4 else b"\x6c\x04"
        return Exchange("Demo reader", apdu, answer, 0.0, 0.0, origin)


MIXED = f"""\
reset cold atr 3B 8E 80 01 *
test "select" req DEMO-1
  00 A4 04 00 08 {APP} 00
  expect 61 xx | 90 00
  expect length >= 4
  expect tlv 6f/84 = F0 *
end
test "wrong SW" req DEMO-2
  00 A4 04 00 08 {APP} 00
  expect 6A 82
  00 B0 00 00 00
end
test "secrets" continue
  00 20 00 81 08 {PIN}
  expect sw xx xx
  secret 80 CA 9F 7F 04 {KEY} 00
  expect 90 00
  00 84 00 00 08
  capture K data 100 4
  secret 80 E2 00 00 08 {KEY} ${{K}}
end
test "never reached" req DEMO-9
  00 84 00 00 08
end
00 84 00 00 08
"""


def mixed_run(file: str = "mixed.apdu", reader: str = "Reader A") -> ScriptRun:
    """Passed, failed, error (a variable a capture never set) and two things not reached."""
    script = parse_script(MIXED, file)
    assert script.ok, [str(d) for d in script.diagnostics]
    result = run(script, ResendCard())  # type: ignore[arg-type]
    return ScriptRun(result, reader, atr=bytes.fromhex("3B8E800180"), card=0, round=0)


def test_the_runner_lists_what_it_did_not_reach_and_masks_an_unsent_secret() -> None:
    result = mixed_run().result
    assert [c.verdict for c in result.cases] == [Verdict.PASSED, Verdict.FAILED, Verdict.ERROR]
    (case, command) = result.not_run
    assert isinstance(case, CaseResult) and case.name == "never reached" and case.verdict is Verdict.SKIPPED
    assert command.verdict is Verdict.SKIPPED and command.place.line == 25
    error = result.results[-1]
    assert error.verdict is Verdict.ERROR and "${K} has no value" in error.failures[0]
    # Before: the source line, key and all. Now masked as a sent secret command is.
    assert error.shown == "80 E2 00 00 08 •• •• •• •• ${K}" and error.secret
    assert result.results[1].expected == "sw 61 xx | 90 00; length >= 4; tlv 6F/84 = F0 *"


# -- JUnit ----------------------------------------------------------------------------------

SUREFIRE_TIME = re.compile(r"\d+(\.\d{1,3})?\Z")  # Jenkins' schema: at most three decimals
JENKINS_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\Z")  # no zone, no fraction


def test_junit_counts_and_structure_as_ci_servers_read_them() -> None:
    from junitparser import Error, Failure, JUnitXml, Skipped

    from explorer.script.junit import junit_xml

    text = junit_xml([mixed_run(), mixed_run(reader="Reader B")], hostname="lab-7")
    xml = JUnitXml.fromstring(text)
    suites = list(xml)
    assert [s.name for s in suites] == ["mixed.apdu on Reader A", "mixed.apdu on Reader B"]
    suite = suites[0]
    # reset, 4 blocks, the command outside blocks: 6; one failure, one error, two skipped.
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (6, 1, 1, 2)
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (12, 2, 2, 4)
    kinds = {case.name: [type(r) for r in case.result] for case in suite}
    assert kinds["wrong SW"] == [Failure] and kinds["secrets"] == [Error]
    assert kinds["never reached"] == [Skipped] and kinds["select"] == []
    assert kinds["mixed.apdu:25 00 84 00 00 08"] == [Skipped]
    (failure,) = next(c for c in suite if c.name == "wrong SW").result
    assert failure.message == "expected SW 6A 82, got 90 00"
    assert "expected: sw 6A 82" in (failure.text or "") and "got: SW 90 00, data 6F" in (failure.text or "")
    (error,) = next(c for c in suite if c.name == "secrets").result
    assert "${K} has no value" in (error.message or "")
    assert "capture K: bytes 100 to 103 asked" in (error.text or "")  # the failure before the error
    # What junitparser counts from the test cases agrees with what the file says.
    stated = (suite.tests, suite.failures, suite.errors, suite.skipped)
    suite.update_statistics()
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == stated
    _check_jenkins_structure(ET.fromstring(text))
    assert KEY not in text and PIN[:11] not in text and "•• •• •• ••" in text


def _check_jenkins_structure(root: ET.Element) -> None:
    """testsuites/testsuite/testcase with failure, error, skipped and system-out, as Jenkins' JUnit
    schema and GitLab's parser read them."""
    assert root.tag == "testsuites"
    for suite in root:
        assert suite.tag == "testsuite"
        assert {"name", "tests", "failures", "errors", "skipped"} <= set(suite.attrib)
        assert SUREFIRE_TIME.match(suite.attrib["time"])
        assert JENKINS_TIMESTAMP.match(suite.attrib["timestamp"])
        assert suite.attrib["hostname"] == "lab-7"
        assert {child.tag for child in suite} <= {"properties", "testcase", "system-out", "system-err"}
        names = [case.attrib["name"] for case in suite.iter("testcase")]
        assert len(names) == len(set(names))  # GitLab keeps only the first of equal names
        for case in suite.iter("testcase"):
            assert {"name", "classname", "time"} <= set(case.attrib)
            assert SUREFIRE_TIME.match(case.attrib["time"])
            tags = [child.tag for child in case]
            assert set(tags) <= {"properties", "skipped", "error", "failure", "system-out", "system-err"}
            assert sum(tag in ("skipped", "error", "failure") for tag in tags) <= 1


def test_junit_masks_a_secret_marked_command_in_every_exchange_and_names_repeats_apart() -> None:
    from explorer.script.junit import junit_xml

    result = mixed_run().result
    secret = next(r for r in result.results if r.secret and r.reply is not None)
    assert len(secret.reply.exchanges) == 2 and secret.reply.exchanges[1].origin is Origin.RESEND  # type: ignore[union-attr]
    text = junit_xml([mixed_run()])
    assert "80 CA 9F 7F 04 •• •• •• •• 00" in text and KEY not in text
    repeated = run(parse_script("repeat 3\n  00 84 00 00 08\nend\n", "r.apdu"), DemoCard())  # type: ignore[arg-type]
    root = ET.fromstring(junit_xml([ScriptRun(repeated, "R")]))
    assert [c.attrib["name"] for c in root.iter("testcase")] == [
        "r.apdu:2 00 84 00 00 08", "r.apdu:2 00 84 00 00 08 (2)", "r.apdu:2 00 84 00 00 08 (3)"]


class PassportCard(DemoCard):
    """The demo card, but it answers a BAC EXTERNAL AUTHENTICATE with its cryptogram E.IC||M.IC."""

    def _transmit(self, apdu: bytes, origin: Origin) -> Exchange:
        if apdu[:2] != b"\x00\x82":
            return super()._transmit(apdu, origin)
        self.sent.append(apdu)
        return Exchange("Demo reader", apdu, CRYPTOGRAM + b"\x90\x00", 0.0, 0.0, origin)


CRYPTOGRAM = bytes(range(0xC0, 0xE8))


def test_every_report_masks_an_authentication_cryptogram_both_ways() -> None:
    """BAC's cryptograms give the MRZ away to an offline search (core/sensitive)."""
    from explorer.script.junit import junit_xml

    sent = bytes(range(0x40, 0x68))
    script = parse_script(f"00 82 00 00 28 {sent.hex(' ')} 28\n", "bac.apdu")
    done = ScriptRun(run(script, PassportCard()), "R")  # type: ignore[arg-type]
    assert done.result.results[0].reply.data == CRYPTOGRAM  # type: ignore[union-attr]
    out = io.StringIO()
    write_results([done], out)
    for text in (junit_xml([done]), html_report([done]), out.getvalue()):
        flat = text.upper().replace(" ", "")
        assert sent.hex().upper() not in flat and CRYPTOGRAM.hex().upper() not in flat
        assert "00 82 00 00 28 ••" in text and "90 00" in text


# -- HTML -----------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def hostile_run() -> ScriptRun:
    """A file name and a card error text full of markup and controls."""
    card = DemoCard(pull_after=3)
    script = parse_script(f"00 A4 04 00 08 {APP} 00\nrepeat 5\n  00 84 00 00 08\nend\n", HOSTILE)

    def pulled(apdu: bytes, origin: Origin) -> Exchange:
        if len(card.sent) >= 3:
            raise ce.CardRemoved('<img src="http://evil.example/x.png" onerror="steal()">\x07')
        card.sent.append(apdu)
        return Exchange("r", apdu, card.card.process(apdu), 0.0, 0.0, origin)

    card._transmit = pulled  # type: ignore[method-assign]
    return ScriptRun(run(script, card), '<b onmouseover="x()">Reader</b>\x00')  # type: ignore[arg-type]


def test_html_is_inert_self_contained_escaped_and_masked() -> None:
    page = html_report([mixed_run(), mixed_run(reader="Reader B"), hostile_run()], generated_at=0)
    parsed = _parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and not {"img", "link", "iframe", "object", "embed", "base"} & set(tags)
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href  # only links within the page
    style = "".join(parsed.styles)
    assert "@import" not in style and "url(" not in style and "http" not in style
    meta = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert meta and "default-src 'none'" in (meta[0]["content"] or "")
    text = "".join(parsed.text)
    # The hostile names and the card's error are there as text, their controls shown escaped.
    assert "evil<script>alert(1)</script>&\"\\x1b[31m\\u202e.apdu" in text
    assert '<img src="http://evil.example/x.png" onerror="steal()">\\x07' in text
    assert "\x1b" not in page and "\x00" not in page and "\u202e" not in page
    assert KEY not in page and PIN[:11] not in page and "80 CA 9F 7F 04 •• •• •• •• 00" in text


def test_html_summary_matrix_and_commands() -> None:
    page = html_report([mixed_run(), mixed_run(reader="Reader B")], generated_at=0)
    text = "".join(_parse(page).text)
    assert "Overall verdict: error" in text and "2 run(s) of 1 script(s) on 2 reader(s)" in text
    # The matrix: a row per script and test block, a column per reader, linked to each run.
    assert re.search(r"<th>Reader A</th><th>Reader B</th>", page)
    assert re.search(r'<td class="case">wrong SW</td><td>DEMO-2</td>'
                     r'<td class="v failed"><a href="#run-1">failed</a></td>'
                     r'<td class="v failed"><a href="#run-2">failed</a></td>', page)
    assert '<td class="case">never reached</td><td>DEMO-9</td><td class="v skipped">' in page
    assert 'id="run-1"' in page and 'id="run-2"' in page
    # Every exchange, the automatic ones too, with the status word explained.
    assert "↳ GET RESPONSE" in text and "↳ GET DATA" in text
    assert "Wrong length Le" in text  # 6C 04 explained
    assert "expected SW 6A 82, got 90 00" in text and "sw 61 xx | 90 00; length &gt;= 4" in page


def test_html_of_a_5000_command_run_is_quick() -> None:
    script = parse_script(f"repeat 2500\n  00 A4 04 00 08 {APP} 00\n  00 84 00 00 08\nend\n", "big.apdu")
    big = ScriptRun(run(script, DemoCard()), "Reader")  # type: ignore[arg-type]
    assert len(big.result.results) == 5000
    started = time.perf_counter()
    page = html_report([big])
    took = time.perf_counter() - started
    assert page.count("<tr") > 7500  # a row per command, and per exchange where there are several
    assert took < 1.0, f"{took:.3f} s"


# -- JSON Lines -----------------------------------------------------------------------------


def test_json_lines_round_trip_from_text_and_from_a_file(tmp_path: Path) -> None:
    runs = [mixed_run(), hostile_run()]
    objects = [obj for r in runs for obj in result_objects(r)]
    out = io.StringIO()
    write_results(runs, out)
    text = out.getvalue()
    assert list(read_results(text.splitlines())) == objects
    path = tmp_path / "results.jsonl"
    path.write_text(text, encoding="utf-8")
    assert list(read_results_file(path)) == objects
    kinds = [o["kind"] for o in objects]
    assert kinds.count("run") == 2 and kinds[-1] == "run"
    summary = objects[kinds.index("run")]
    numbers = [summary[key] for key in ("verdict", "passed", "failed", "error", "skipped")]
    assert numbers == ["error", 4, 2, 1, 1]
    assert [c["verdict"] for c in summary["cases"]] == ["passed", "failed", "error", "skipped"]
    secret = next(o for o in objects if o["command"].startswith("80 CA"))
    assert [e["automatic"] for e in secret["exchanges"]] == [False, True]
    assert all(KEY not in e["command"] for e in secret["exchanges"]) and KEY not in text
    assert PIN[:11] not in text


def test_cli_json_is_the_json_lines_report_and_reads_back(tmp_path: Path) -> None:
    """`--json` streams what `--jsonl FILE` writes at the end: the same objects, which read back."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    report = tmp_path / "r.jsonl"
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    result = subprocess.run([sys.executable, "-m", "explorer", "run", "--profile", "demo", "--json",
                             "--var", "PIN=31323334FFFFFFFF", "--jsonl", str(report),
                             str(root / "resources" / "scripts" / "demo-card.apdu")],
                            cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    streamed = list(read_results(result.stdout.splitlines(), "stdout"))
    written = list(read_results_file(report))
    assert [o["kind"] for o in streamed].count("run") == 1 and streamed[-1]["verdict"] == "passed"
    assert streamed == written
    assert "31 32 33 34" not in result.stdout and report.stat().st_mode & 0o777 == 0o600


def _first_line_error(lines: list[str]) -> str:
    with pytest.raises(InputError) as caught:
        list(read_results(lines, "r.jsonl"))
    return str(caught.value)


def test_bad_json_lines_are_refused_with_line_and_json_path(tmp_path: Path) -> None:
    good: list[dict[str, Any]] = list(result_objects(mixed_run()))
    first = json.dumps(good[0], ensure_ascii=False)

    def changed(**fields: Any) -> str:
        return json.dumps({**good[1], **fields}, ensure_ascii=False)

    bad_sw = {**good[1], "exchanges": [{**good[1]["exchanges"][0], "sw": "90"}]}
    assert _first_line_error([first, json.dumps(bad_sw)]) == (
        "r.jsonl line 2: exchanges[0].sw: it must be a status word (two bytes) or empty, "
        "found the string '90'")
    assert _first_line_error([first, changed(line="3")]).startswith(
        "r.jsonl line 2: line: it must be a whole")
    assert _first_line_error([first, changed(verdict="fine")]).startswith(
        "r.jsonl line 2: verdict: it must be")
    assert _first_line_error([first, changed(ms=float("nan"))]) == (
        "r.jsonl line 2: ms: NaN is refused (JSON has no NaN or Infinity)")
    assert _first_line_error(["", first, "{"]).startswith("r.jsonl line 3: not valid JSON: column 2")
    assert _first_line_error(['{"kind": "trace"}']) == (
        "r.jsonl line 1: kind: it must be 'result' or 'run', found the string 'trace'")
    missing = {k: v for k, v in good[1].items() if k != "failures"}
    assert _first_line_error([json.dumps(missing)]) == "r.jsonl line 1: the field 'failures' is missing"
    assert _first_line_error(["x" * (8 << 20 | 1)]).startswith("r.jsonl line 1: longer than 8.0 MiB")
    csv = tmp_path / "results.csv"
    csv.write_text("file,line\nx,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a Card Explorer script results"):
        list(read_results_file(csv))
    cut = tmp_path / "cut.jsonl"
    cut.write_text(first + "\n" + first[:40], encoding="utf-8")
    with pytest.raises(InputError, match="cut short"):
        list(read_results_file(cut))


def test_a_run_without_results_reports_as_skipped() -> None:
    from explorer.script.junit import junit_xml

    empty = ScriptRun(ScriptResult("e.apdu", Verdict.PASSED, (), (), False), "R")
    assert "Overall verdict: passed" in html_report([empty])
    assert ET.fromstring(junit_xml([empty])).find("testsuite").attrib["tests"] == "0"  # type: ignore[union-attr]
