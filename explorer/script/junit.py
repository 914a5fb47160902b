"""Script results as JUnit XML, the format CI servers read (Jenkins, GitLab): one <testsuite>
per script and reader, one <testcase> per test block (per command in a script without blocks),
a <failure> or <error> saying expected against got, and the exchanges in <system-out> with
secret data masked. Pure: text out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from explorer.core.hexfmt import to_hex
from explorer.core.printable import printable
from explorer.core.sensitive import is_marked, masked_hex
from explorer.script.runner import StepResult, Verdict
from explorer.script.runs import ScriptRun


def _text(value: str) -> str:
    # XML 1.0 has no place for most control characters: a card's error text may hold them.
    return "\n".join(printable(line) for line in value.split("\n"))


def _exchanges(results: Sequence[StepResult]) -> str:
    lines: list[str] = []
    for result in results:
        where = f"{result.place.file}:{result.place.line}"
        if result.reply is None:
            lines.append(f"{where}  {result.shown}  {result.verdict.value}")
        else:
            for exchange in result.reply.exchanges:
                answer = to_hex(exchange.response) if exchange.error is None else f"! {exchange.error}"
                command = masked_hex(exchange.command, is_marked(exchange.note))
                lines.append(f"{where}  > {command}  < {answer}")
        lines.extend(f"    ! {failure}" for failure in result.failures)
    return _text("\n".join(lines))


def _case(suite: ET.Element, name: str, classname: str, results: Sequence[StepResult],
          requirement: str = "") -> tuple[int, int]:
    """A <testcase>; (failures, errors) it adds."""
    case = ET.SubElement(suite, "testcase", name=_text(name), classname=_text(classname),
                         time=f"{sum(r.seconds for r in results):.6f}")
    if requirement:
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="requirement", value=_text(requirement))
    errors = [r for r in results if r.verdict is Verdict.ERROR]
    failures = [r for r in results if r.verdict is Verdict.FAILED]
    if errors:
        first = errors[0]
        ET.SubElement(case, "error", message=_text(first.failures[0] if first.failures else "error"),
                      type="card error").text = _text("\n".join(f for r in errors for f in r.failures))
    elif failures:
        first = failures[0]
        ET.SubElement(case, "failure", message=_text(first.failures[0]), type="expectation").text = _text(
            "\n".join(f"{r.place.file}:{r.place.line}: {f}" for r in failures for f in r.failures))
    elif not results:
        ET.SubElement(case, "skipped", message="nothing ran in this test case")
    ET.SubElement(case, "system-out").text = _exchanges(results)
    return (0, 1) if errors else ((1, 0) if failures else (0, 0))


def junit_xml(runs: Sequence[ScriptRun]) -> str:
    """One <testsuite> per run (script × reader, and card or round where there are several)."""
    root = ET.Element("testsuites")
    totals = [0, 0, 0]
    for run in runs:
        result = run.result
        suite = ET.SubElement(root, "testsuite", name=run.title)
        counts = [0, 0, 0]  # tests, failures, errors
        classname = _text(result.file)
        # In script order: a test block where its first command ran, a command outside blocks alone.
        case_of = {id(r): case for case in result.cases for r in case.results}
        groups: list[tuple[str, tuple[StepResult, ...], str]] = []
        seen: set[int] = set()
        for r in result.results:
            case = case_of.get(id(r))
            if case is None:
                groups.append((f"{r.place.file}:{r.place.line} {r.shown}", (r,), ""))
            elif id(case) not in seen:
                seen.add(id(case))
                groups.append((case.name, case.results, case.requirement))
        groups += [(c.name, c.results, c.requirement) for c in result.cases if id(c) not in seen]
        for name, results, requirement in groups:
            failed, errored = _case(suite, name, classname, results, requirement)
            counts[0] += 1
            counts[1] += failed
            counts[2] += errored
        suite.set("tests", str(counts[0]))
        suite.set("failures", str(counts[1]))
        suite.set("errors", str(counts[2]))
        suite.set("time", f"{sum(r.seconds for r in result.results):.6f}")
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
