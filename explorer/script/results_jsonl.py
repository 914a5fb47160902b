"""Script results as JSON Lines: one object per command result, then one summary per run; what
`card-explorer run --json` prints and a CI job can filter with jq. docs/scripts.md lists the fields.

Secrets are masked as the other reports mask them (report_parts.exchange_command); hex is upper
case with single spaces. `read_results` reads such lines back through the strict JSON reader
(explorer.core.json_input), checking every field, so what was written reads back equal and
anything else is refused with its line and JSON path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from explorer.core.exchange import Exchange
from explorer.core.hexfmt import to_hex
from explorer.core.input_error import InputError
from explorer.core.input_files import size_text, utf8
from explorer.core.json_input import check_tree, describe, flag, loads, lone_surrogate, member, string, whole
from explorer.core.json_lines import BadLine, JsonLines
from explorer.core.printable import printable
from explorer.script.report_parts import (
    counts,
    exchange_command,
    exchange_response,
    final_sw,
    reply_data,
    sw_hex,
)
from explorer.script.runner import CaseResult, StepResult, Verdict
from explorer.script.runs import ScriptRun

WHAT = "Card Explorer script results"
RESULT = "result"
RUN = "run"
#: A line holds one command's exchanges: 1024 GET RESPONSEs of 256 bytes in hex fit with room.
MAX_LINE = 8 << 20
MAX_SIZE = 1 << 30
_BIG = 2**31 - 1  # lines, columns, card and round numbers
_MS_MAX = 1e10  # some 115 days
_TIME_MAX = 253_402_214_399.0  # 9999-12-30: a date every time zone can show


def _text(value: str) -> str:
    # A file name read with surrogateescape can hold a lone surrogate, which no UTF-8 file holds.
    return value if value.isascii() or lone_surrogate(value) < 0 else printable(value)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _exchange(result: StepResult, exchange: Exchange) -> dict[str, Any]:
    error = None if exchange.error is None else _text(exchange.error)
    return {"command": exchange_command(result, exchange), "response": exchange_response(exchange),
            "sw": sw_hex(exchange.sw), "automatic": exchange.origin.automatic,
            "origin": exchange.origin.value, "ms": _ms(exchange.duration), "error": error}


def result_object(result: StepResult, *, reader: str = "", card: int = 0, round: int = 0) -> dict[str, Any]:
    """One command's (or reset's) result. Its keys include those `card-explorer run --json` printed
    first (file, line, case, command, data, sw, verdict, failures, ms)."""
    reply = result.reply
    return {"kind": RESULT, "file": _text(result.place.file), "line": result.place.line,
            "column": result.place.column, "case": _text(result.case),
            "requirement": _text(result.requirement),
            "reader": _text(reader), "card": card, "round": round, "command": result.shown,
            "exchanges": [_exchange(result, e) for e in reply.exchanges] if reply is not None else [],
            "data": reply_data(result), "sw": sw_hex(final_sw(result)),
            "atr": to_hex(result.atr), "expected": _text(result.expected), "verdict": result.verdict.value,
            "failures": [_text(f) for f in result.failures], "ms": _ms(result.seconds)}


def run_object(run: ScriptRun) -> dict[str, Any]:
    """The summary of one run: verdict, commands per verdict, its test cases, whether it was stopped."""
    result = run.result
    cases = [*result.cases, *(r for r in result.not_run if isinstance(r, CaseResult))]
    return {"kind": RUN, "file": _text(result.file), "reader": _text(run.reader), "card": run.card,
            "round": run.round, "atr": to_hex(run.atr), "started": result.started,
            "verdict": result.verdict.value, **{v.value: n for v, n in counts(result).items()},
            "cases": [{"name": _text(c.name), "requirement": _text(c.requirement), "line": c.place.line,
                       "verdict": c.verdict.value} for c in cases],
            "stopped": result.stopped, "ms": _ms(sum(r.seconds for r in result.results))}


def result_objects(run: ScriptRun) -> Iterator[dict[str, Any]]:
    """Every result of `run` in order, then what it did not reach (skipped), then its summary."""
    for r in run.result.results:
        yield result_object(r, reader=run.reader, card=run.card, round=run.round)
    yield from end_objects(run)


def end_objects(run: ScriptRun) -> Iterator[dict[str, Any]]:
    """What follows the results once a run has ended: the commands it did not reach, then its
    summary. A caller that streamed each result with `result_object` prints these after it."""
    for r in run.result.not_run:
        if isinstance(r, StepResult):
            yield result_object(r, reader=run.reader, card=run.card, round=run.round)
    yield run_object(run)


def line(obj: dict[str, Any]) -> str:
    """One object as a line of JSON, newline included."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_results(runs: Iterable[ScriptRun], out: TextIO) -> None:
    for run in runs:
        for obj in result_objects(run):
            out.write(line(obj))


# -- reading back ---------------------------------------------------------------------------

Check = Callable[[Any, str], Any]


def _string(value: Any, where: str) -> str:
    return string(value, "it", where)


def _count(value: Any, where: str) -> int:
    return whole(value, "it", where, 0, _BIG)


def _place(value: Any, where: str) -> int:
    return whole(value, "it", where, 1, _BIG)


def _flag(value: Any, where: str) -> bool:
    return flag(value, "it", where)


def _number(value: Any, where: str) -> float:
    kind = type(value)
    if (kind is not int and kind is not float) or not (math.isfinite(value) and 0 <= value <= _MS_MAX):
        raise InputError(f"it must be a number from 0 to {_MS_MAX:.0f}, found {describe(value)}", where)
    return float(value)


def _started(value: Any, where: str) -> float:
    kind = type(value)
    if (kind is not int and kind is not float) or not (math.isfinite(value) and 0 <= value <= _TIME_MAX):
        raise InputError(f"it must be epoch seconds from 0 to {_TIME_MAX:.0f}, found {describe(value)}",
                         where)
    return float(value)


def _hex(value: Any, where: str) -> str:
    text = _string(value, where)
    try:
        bytes.fromhex(text)
    except ValueError:
        raise InputError(f"it must be hex bytes, found {describe(value)}", where) from None
    return text


def _sw(value: Any, where: str) -> str:
    text = _hex(value, where)
    if text and len(bytes.fromhex(text)) != 2:
        raise InputError(f"it must be a status word (two bytes) or empty, found {describe(value)}", where)
    return text


def _verdict(value: Any, where: str) -> str:
    if value not in _VERDICTS:
        raise InputError(f"it must be one of {', '.join(map(repr, _VERDICTS))}, found {describe(value)}",
                         where)
    return str(value)


def _optional_string(value: Any, where: str) -> str | None:
    return None if value is None else _string(value, where)


def _list(item: Check) -> Check:
    def check(value: Any, where: str) -> list[Any]:
        if type(value) is not list:
            raise InputError(f"it must be a list, found {describe(value)}", where)
        return [item(v, member(where, i)) for i, v in enumerate(value)]
    return check


def _object(fields: dict[str, Check]) -> Check:
    def check(value: Any, where: str) -> dict[str, Any]:
        if type(value) is not dict:
            raise InputError(f"it must be an object, found {describe(value)}", where)
        for name, field in fields.items():
            if name not in value:
                raise InputError(f"the field {name!r} is missing", where)
            field(value[name], member(where, name))
        return value
    return check


_VERDICTS = tuple(v.value for v in Verdict)
_EXCHANGE = _object({"command": _string, "response": _hex, "sw": _sw, "automatic": _flag, "origin": _string,
                     "ms": _number, "error": _optional_string})
_COMMON = {"file": _string, "reader": _string, "card": _count, "round": _count, "atr": _hex,
           "verdict": _verdict, "ms": _number}
_KINDS: dict[str, Check] = {
    RESULT: _object({**_COMMON, "line": _place, "column": _place, "case": _string, "requirement": _string,
                     "command": _string, "exchanges": _list(_EXCHANGE), "data": _hex, "sw": _sw,
                     "expected": _string, "failures": _list(_string)}),
    RUN: _object({**_COMMON, "started": _started, "stopped": _flag,
                  **{v: _count for v in _VERDICTS},
                  "cases": _list(_object({"name": _string, "requirement": _string, "line": _place,
                                          "verdict": _verdict}))}),
}


def check_object(value: Any) -> dict[str, Any]:
    """`value` if it is a result or run object as `result_objects` makes them (other keys are
    let through, for later versions); InputError with the JSON path of what is wrong."""
    check_tree(value)
    if type(value) is not dict:
        raise InputError(f"a line must hold a JSON object, found {describe(value)}")
    kind = value.get("kind")
    check = _KINDS.get(kind) if type(kind) is str else None
    if check is None:
        raise InputError(f"it must be {RESULT!r} or {RUN!r}, found "
                         f"{describe(kind) if 'kind' in value else 'nothing'}", "kind")
    checked: dict[str, Any] = check(value, "")
    return checked


def read_results(lines: Iterable[str | bytes], source: str = "") -> Iterator[dict[str, Any]]:
    """The objects of JSON Lines text, one line at a time (a line over MAX_LINE is refused before
    it is decoded); blank lines are skipped. Raises InputError naming `source`, the line and the
    JSON path at the first line that is not a result or run object."""
    for number, text in enumerate(lines, 1):
        try:
            if len(text) > MAX_LINE:
                raise InputError(f"longer than {size_text(MAX_LINE)}, the most a line may have")
            if isinstance(text, bytes):
                text = utf8(text)
            if not text.strip():
                continue
            yield check_object(loads(text, one_line=True))
        except InputError as exc:
            raise exc.recast(InputError, source, number) from None


def read_results_file(path: Path) -> Iterator[dict[str, Any]]:
    """`read_results` over a file, read in chunks by the bounded JSON Lines reader: a file that is
    not JSON Lines at all, or whose last line was cut short, is refused as such."""
    lines = JsonLines(path, WHAT, max_line=MAX_LINE, max_size=MAX_SIZE)
    for number, value in lines:
        try:
            if isinstance(value, BadLine):
                raise value.error
            yield check_object(value)
        except InputError as exc:
            raise exc.recast(InputError, path.name, number) from None
    if lines.cut_short:
        raise InputError("the last line is cut short (the writer stopped in the middle of it)",
                         source=path.name)
