"""Script runs as one self-contained HTML page: a CI artefact or a lab's record of a stack of
cards. The summary (runs, totals, the overall verdict), a verdict matrix (a row per script and
test case, a column per reader, card and round), then each run: its test cases, and every command
with its exchanges, the status word explained, expected against got for what failed, and times.

The page is built in the frame every page of the app shares (explorer.core.html_page: inline CSS,
no script, nothing loaded from anywhere). All text from outside (file, reader and test names,
card error texts) is escaped; commands are shown masked as every report masks them
(report_parts.exchange_command). Pure: text out.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from explorer import __version__
from explorer.core.apdu import command_name
from explorer.core.hexfmt import to_hex
from explorer.core.html_page import BASE_CSS, PAGE_END, escape, page_start
from explorer.core.status_words import Severity, explain
from explorer.script.report_parts import (
    Group,
    counts,
    exchange_command,
    exchange_data,
    exchange_response,
    final_sw,
    groups,
    reply_data,
    sw_hex,
    worst,
)
from explorer.script.runner import StepResult, Verdict
from explorer.script.runs import ScriptRun

TITLE = "Card Explorer script report"
_CSS = BASE_CSS + """
td.v, span.v { font-weight: bold; white-space: nowrap; }
.v.passed { color: #060; } .v.failed { color: #c00; } .v.error { color: #fff; background: #a00; }
.v.skipped { color: #777; font-weight: normal; }
p.v { font-size: 1.2em; padding: 0.3em 0.7em; display: inline-block; border: 1px solid #ccc; }
tr.why td { background: #fdecec; color: #900; padding-left: 2em; }
tr.skipped td { color: #777; }
tr.script td { font-weight: bold; background: #f8f8f8; }
td.case { padding-left: 1.6em; }
table.totals { width: auto; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
"""
_COMMAND_COLUMNS = ("line", "test case", "name", "command", "response data", "SW", "meaning", "expected",
                    "verdict", "ms")
_SECRETS = ("Secrets masked: the data of VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER, "
            "ENABLE/DISABLE VERIFICATION REQUIREMENT, PUT KEY and LOAD KEYS, and all data of a command "
            "the script marks `secret`, is shown as •• per byte.")


def _local(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


def _verdict(verdict: Verdict, tag: str = "td") -> str:
    return f'<{tag} class="v {verdict.value}">{verdict.value}</{tag}>'


@functools.lru_cache(maxsize=4096)
def _meaning(sw: int, command: bytes) -> tuple[str, str]:
    """(text, row class) of a status word after `command` (cached: scripts repeat commands). The
    explanation is text about the command, never its data bytes."""
    found = explain(sw, command)
    return found.text, {Severity.ERROR: "failure", Severity.WARNING: "warning"}.get(found.severity, "")


def _row(classes: str) -> str:
    classes = classes.strip()
    return f'<tr class="{classes}">' if classes else "<tr>"


def _name(command: bytes) -> str:
    return (command_name(command[0], command[1]) or "") if len(command) >= 2 else ""


def html_report(runs: Sequence[ScriptRun], *, generated_at: float | None = None) -> str:
    """The page for `runs` (one per script × reader, card and round). `generated_at`: epoch seconds
    the page says it was made (now unless given)."""
    made = datetime.now().timestamp() if generated_at is None else generated_at
    overall = worst(run.result.verdict for run in runs)
    out = [page_start(f"{TITLE}: {overall.value}", _CSS), f"<h1>{escape(TITLE)}</h1>\n"]
    scripts = {run.result.file for run in runs}
    readers = {run.reader for run in runs}
    out.append(f'<p class="meta">Made {escape(_local(made))} by card-explorer {escape(__version__)}: '
               f"{len(runs)} run(s) of {len(scripts)} script(s) on {len(readers)} reader(s); "
               "times are local.</p>\n")
    out.append(f'<p class="v {overall.value}">Overall verdict: {overall.value}</p>\n')
    out.append(f'<p class="secrets masked">{escape(_SECRETS)}</p>\n')
    found = [groups(run.result) for run in runs]
    _totals(runs, found, out)
    _matrix(runs, found, out)
    for number, (run, cases) in enumerate(zip(runs, found, strict=True), 1):
        _run(number, run, cases, out)
    out.append(PAGE_END)
    return "".join(out)


def _totals(runs: Sequence[ScriptRun], found: Sequence[list[Group]], out: list[str]) -> None:
    commands = dict.fromkeys(Verdict, 0)
    cases = dict.fromkeys(Verdict, 0)
    for run, run_groups in zip(runs, found, strict=True):
        for verdict, n in counts(run.result).items():
            commands[verdict] += n
        for group in run_groups:
            if group.block:
                cases[group.verdict] += 1
    order = (Verdict.PASSED, Verdict.FAILED, Verdict.ERROR, Verdict.SKIPPED)
    out.append('<table class="totals">\n<tr><th></th>' + "".join(f"<th>{v.value}</th>" for v in order)
               + "</tr>\n")
    for what, numbers in (("commands", commands), ("test cases", cases)):
        out.append(f"<tr><th>{what}</th>" + "".join(f'<td class="num">{numbers[v]}</td>' for v in order)
                   + "</tr>\n")
    out.append("</table>\n")


def _column(run: ScriptRun) -> str:
    return run.reader + "".join(f", {what} {n}" for what, n in (("card", run.card), ("round", run.round))
                                if n)


def _matrix(runs: Sequence[ScriptRun], found: Sequence[list[Group]], out: list[str]) -> None:
    """Rows: each script, then its test blocks by name; columns: reader (card, round)."""
    columns = list(dict.fromkeys(_column(run) for run in runs))
    rows: dict[tuple[str, str], dict[str, tuple[Verdict, int]]] = {}
    requirements: dict[tuple[str, str], str] = {}
    for number, (run, run_groups) in enumerate(zip(runs, found, strict=True), 1):
        file = run.result.file
        rows.setdefault((file, ""), {})[_column(run)] = (run.result.verdict, number)
        by_name: dict[str, list[Group]] = {}
        for group in run_groups:
            if group.block:
                by_name.setdefault(group.name, []).append(group)
        for name, same in by_name.items():  # a block in a repeat: its worst run
            rows.setdefault((file, name), {})[_column(run)] = (worst(g.verdict for g in same), number)
            requirements[(file, name)] = same[0].requirement
    out.append("<h2>Verdicts per reader</h2>\n<table>\n<tr><th>script / test case</th><th>requirement</th>"
               + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr>\n")
    for (file, name), cells in rows.items():
        label = f'<td class="case">{escape(name)}</td>' if name else f"<td>{escape(file)}</td>"
        row = f"<tr>{label}" if name else f'<tr class="script">{label}'
        row += f"<td>{escape(requirements.get((file, name), ''))}</td>"
        for column in columns:
            cell = cells.get(column)
            row += (f'<td class="v {cell[0].value}"><a href="#run-{cell[1]}">{cell[0].value}</a></td>'
                    if cell else "<td></td>")
        out.append(row + "</tr>\n")
    out.append("</table>\n")


def _run(number: int, run: ScriptRun, run_groups: list[Group], out: list[str]) -> None:
    result = run.result
    numbers = counts(result)
    summary = ", ".join(f"{numbers[v]} {v.value}" for v in (Verdict.PASSED, Verdict.FAILED, Verdict.ERROR,
                                                             Verdict.SKIPPED))
    started = f"started {_local(result.started)}; " if result.started else ""
    atr = f"ATR {to_hex(run.atr)}; " if run.atr else ""
    stopped = "; stopped before the end" if result.stopped else ""
    out.append(f'<h2 id="run-{number}">{escape(run.title)}: {_verdict(result.verdict, "span")}</h2>\n'
               f'<p class="meta">{escape(started + atr)}commands: {summary}{stopped}.</p>\n')
    blocks = [g for g in run_groups if g.block]
    if blocks:
        out.append("<h3>Test cases</h3>\n<table>\n<tr><th>line</th><th>test case</th><th>requirement</th>"
                   "<th>verdict</th><th>commands</th><th>ms</th></tr>\n")
        for g in blocks:
            out.append(f'<tr><td class="num">{g.place.line}</td><td>{escape(g.name)}</td>'
                       f"<td>{escape(g.requirement)}</td>{_verdict(g.verdict)}"
                       f'<td class="num">{len(g.results)}</td>'
                       f'<td class="num">{sum(r.seconds for r in g.results) * 1000:.3f}</td></tr>\n')
        out.append("</table>\n")
    out.append("<h3>Commands</h3>\n<table>\n<tr>" + "".join(f"<th>{c}</th>" for c in _COMMAND_COLUMNS)
               + "</tr>\n")
    for r in result.results:
        _command(r, out)
    for skipped in result.not_run:
        if isinstance(skipped, StepResult):
            _command(skipped, out)
    out.append("</table>\n")


def _command(r: StepResult, out: list[str]) -> None:
    exchanges = r.reply.exchanges if r.reply is not None else ()
    first = exchanges[0].command if exchanges else b""
    sw = final_sw(r)
    meaning, severity = _meaning(sw, first) if sw is not None else ("", "")
    data = reply_data(r) if r.reply is not None else (f"ATR {to_hex(r.atr)}" if r.atr else "")
    classes = "skipped" if r.verdict is Verdict.SKIPPED else ("failure" if r.failures else severity)
    out.append(f'{_row(classes)}<td class="num">{r.place.line}</td><td>{escape(r.case)}</td>'
               f'<td class="name">{escape(_name(first))}</td><td class="hex">{escape(r.shown)}</td>'
               f'<td class="hex">{escape(data)}</td><td class="hex sw">{sw_hex(sw)}</td>'
               f'<td class="meaning">{escape(meaning)}</td><td class="hex">{escape(r.expected)}</td>'
               f'{_verdict(r.verdict)}<td class="num">{r.seconds * 1000:.3f}</td></tr>\n')
    if len(exchanges) > 1 or (exchanges and exchanges[0].error is not None):
        for e in exchanges:  # each exchange on the wire, automatic steps included
            step_sw = e.sw
            text, row = (e.error or "", "failure") if step_sw is None else _meaning(step_sw, e.command)
            label = ("↳ " if e.origin.automatic else "") + (_name(e.command) or e.origin.value)
            answer = exchange_data(e) if step_sw is not None else exchange_response(e)
            out.append(f'{_row("auto " + row)}<td></td><td></td><td class="name">{escape(label)}</td>'
                       f'<td class="hex">{escape(exchange_command(r, e))}</td>'
                       f'<td class="hex">{escape(answer)}</td>'
                       f'<td class="hex sw">{sw_hex(step_sw)}</td><td class="meaning">{escape(text)}</td>'
                       f'<td></td><td></td><td class="num">{e.duration * 1000:.3f}</td></tr>\n')
    for failure in r.failures:
        out.append(f'<tr class="why"><td></td><td colspan="9">! {escape(failure)}</td></tr>\n')
