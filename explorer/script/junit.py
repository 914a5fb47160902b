"""Script results as JUnit XML, the format CI servers read (Jenkins, GitLab): one <testsuite>
per script and reader (and card or round), one <testcase> per test block (per command in a script
without blocks), a <failure> or <error> saying expected against got, <skipped> for what the script
did not reach, and the exchanges in <system-out> with secrets masked as every report masks them.

The shape is the one Jenkins' JUnit schema and GitLab's parser read: testsuites/testsuite/testcase,
suite counts (tests, failures, errors, skipped), times in seconds with at most three decimals, a
`timestamp` in local time without a zone and a `hostname`; test case names unique in a suite (CI
servers keep the first of several with one name). A requirement ID is a property of its test case.
Pure: text out.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime

from explorer.core.hexfmt import to_hex
from explorer.core.printable import printable
from explorer.script.report_parts import (
    Group,
    exchange_command,
    exchange_response,
    final_sw,
    groups,
    reply_data,
    sw_hex,
    unique_names,
)
from explorer.script.runner import ScriptResult, StepResult, Verdict
from explorer.script.runs import ScriptRun


def _text(value: str) -> str:
    # XML 1.0 has no place for most control characters: a card's error text may hold them.
    return "\n".join(printable(line) for line in value.split("\n"))


def _seconds(results: Sequence[StepResult]) -> str:
    return f"{sum(r.seconds for r in results):.3f}"


def _exchanges(results: Sequence[StepResult]) -> str:
    lines: list[str] = []
    for result in results:
        where = f"{result.place.file}:{result.place.line}"
        if result.reply is None or not result.reply.exchanges:
            atr = f"  ATR {to_hex(result.atr)}" if result.atr else ""
            lines.append(f"{where}  {result.shown}{atr}  {result.verdict.value}")
        else:
            for exchange in result.reply.exchanges:
                answer = exchange_response(exchange) if exchange.error is None else f"! {exchange.error}"
                step = "  ↳" if exchange.origin.automatic else ""
                lines.append(f"{where}{step}  > {exchange_command(result, exchange)}  < {answer}")
        lines.extend(f"    ! {failure}" for failure in result.failures)
    return _text("\n".join(lines))


def _got(result: StepResult) -> str:
    if result.reply is None:
        return f"ATR {to_hex(result.atr)}" if result.atr else "no answer"
    sw = sw_hex(final_sw(result)) or "no status word"
    return f"SW {sw}, data {reply_data(result) or '(none)'}"


def _failure_text(results: Sequence[StepResult]) -> str:
    """Per command that went wrong: where, what was sent, expected and got, and why."""
    lines: list[str] = []
    for r in results:
        lines.append(f"{r.place.file}:{r.place.line}: > {r.shown}  ({r.verdict.value})")
        if r.reply is not None or r.atr:  # else nothing came back: the reason says why
            lines.append(f"  expected: {r.expected or 'a status word the checking chain accepts'}")
            lines.append(f"  got: {_got(r)}")
        lines.extend(f"  ! {failure}" for failure in r.failures)
    return _text("\n".join(lines))


def _why_not_run(result: ScriptResult) -> str:
    if result.stopped:
        return "not run: the run was stopped before it"
    if result.verdict is Verdict.ERROR:
        return "not run: a card or script error ended the run before it"
    return "not run: a failure outside test blocks ended the run before it"


def _case(suite: ET.Element, group: Group, name: str, classname: str, result: ScriptResult) -> Verdict:
    """A <testcase>; what it counts as (passed, failed, error or skipped)."""
    case = ET.SubElement(suite, "testcase", name=_text(name), classname=classname,
                         time=_seconds(group.results))
    if group.requirement:
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="requirement", value=_text(group.requirement))
    wrong = [r for r in group.results if r.verdict in (Verdict.ERROR, Verdict.FAILED)]
    errors = [r for r in wrong if r.verdict is Verdict.ERROR]
    if errors:
        first = errors[0]
        # The text lists the failures before the error too: in a `continue` block they are news.
        ET.SubElement(case, "error", message=_text(first.failures[0] if first.failures else "error"),
                      type="error").text = _failure_text(wrong)
        outcome = Verdict.ERROR
    elif wrong:
        ET.SubElement(case, "failure", message=_text(wrong[0].failures[0]),
                      type="expectation").text = _failure_text(wrong)
        outcome = Verdict.FAILED
    elif group.verdict is Verdict.SKIPPED:
        ET.SubElement(case, "skipped", message=_why_not_run(result))
        outcome = Verdict.SKIPPED
    elif not group.results:
        ET.SubElement(case, "skipped", message="nothing ran in this test case")
        outcome = Verdict.SKIPPED
    else:
        outcome = Verdict.PASSED
    if group.results:
        ET.SubElement(case, "system-out").text = _exchanges(group.results)
    return outcome


def _timestamp(started: float) -> str:
    # Jenkins' schema: xs:dateTime without a zone or fraction of a second, read as the server's local time.
    return datetime.fromtimestamp(started).strftime("%Y-%m-%dT%H:%M:%S")


_COUNTED = {Verdict.FAILED: "failures", Verdict.ERROR: "errors", Verdict.SKIPPED: "skipped"}


def _suite(root: ET.Element, run: ScriptRun, hostname: str) -> dict[str, int]:
    result = run.result
    suite = ET.SubElement(root, "testsuite", name=run.title)
    properties = [("reader", run.reader), ("ATR", to_hex(run.atr)), ("card", str(run.card or "")),
                  ("round", str(run.round or ""))]
    if any(value for _, value in properties):
        holder = ET.SubElement(suite, "properties")
        for name, value in properties:
            if value:
                ET.SubElement(holder, "property", name=name, value=_text(value))
    found = groups(result)
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    classname = _text(result.file)
    for group, name in zip(found, unique_names([g.name for g in found]), strict=True):
        outcome = _case(suite, group, name, classname, result)
        counts["tests"] += 1
        if outcome in _COUNTED:
            counts[_COUNTED[outcome]] += 1
    for key, n in counts.items():
        suite.set(key, str(n))
    suite.set("time", _seconds(result.results))
    if result.started:
        suite.set("timestamp", _timestamp(result.started))
    suite.set("hostname", hostname)
    return counts


def junit_xml(runs: Sequence[ScriptRun], *, hostname: str | None = None) -> str:
    """One <testsuite> per run (script × reader, and card or round where there are several).
    `hostname`: where the tests ran (this machine's name unless given)."""
    host = _text(hostname if hostname is not None else (socket.gethostname() or "localhost"))
    root = ET.Element("testsuites", name="card-explorer run")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for run in runs:
        for key, value in _suite(root, run, host).items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{sum(r.seconds for run in runs for r in run.result.results):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
