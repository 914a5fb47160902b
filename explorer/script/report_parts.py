"""What every report of script runs says the same way (JSON Lines, HTML, JUnit): a command as it
may be shown, its status word, the verdict of several runs, and the test cases of a run in script
order. Pure: no Qt, no PC/SC, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from explorer.core.exchange import Exchange
from explorer.core.hexfmt import to_hex
from explorer.core.sensitive import hides_answer, mask, masked_hex
from explorer.script.model import Place
from explorer.script.runner import CaseResult, ScriptResult, StepResult, Verdict

#: Worst first: the verdict of several things is the first of these any of them has.
SEVERITY = (Verdict.ERROR, Verdict.FAILED, Verdict.PASSED, Verdict.SKIPPED)


def exchange_command(result: StepResult, exchange: Exchange) -> str:
    """An exchange's command as reports show it: a command the script marked `secret` has all its
    data masked in every exchange, as its `shown` has (a 6Cxx re-send repeats the data); any
    other has what `sensitive` recognises as a PIN or key masked."""
    return masked_hex(exchange.command, result.secret)


def _hides_answer(exchange: Exchange) -> bool:
    return hides_answer(exchange.command, exchange.note) and exchange.error is None


def exchange_response(exchange: Exchange) -> str:
    """An exchange's answer as reports show it: the data of an authentication cryptogram masked
    (core/sensitive says why), the status word readable."""
    if _hides_answer(exchange) and len(exchange.response) > 2:
        return f"{mask(exchange.response[:-2])} {to_hex(exchange.response[-2:])}"
    return to_hex(exchange.response)


def exchange_data(exchange: Exchange) -> str:
    return mask(exchange.data) if _hides_answer(exchange) else to_hex(exchange.data)


def reply_data(result: StepResult) -> str:
    """The data a command got back (after its automatic steps), masked as `exchange_response`."""
    reply = result.reply
    if reply is None:
        return ""
    return mask(reply.data) if any(map(_hides_answer, reply.exchanges)) else to_hex(reply.data)


def sw_hex(sw: int | None) -> str:
    return "" if sw is None else f"{sw >> 8:02X} {sw & 0xFF:02X}"


def final_sw(result: StepResult) -> int | None:
    """The status word the command ended with (after its automatic steps), None without one."""
    reply = result.reply
    if reply is None or not reply.exchanges or reply.exchanges[-1].sw is None:
        return None
    return reply.sw


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The verdict of a whole made of these: an error, else a failure, else passed; a whole where
    nothing ran (or nothing at all) is skipped."""
    seen = set(verdicts)
    return next((v for v in SEVERITY if v in seen), Verdict.SKIPPED)


def counts(result: ScriptResult) -> dict[Verdict, int]:
    """Commands and resets per verdict, the ones not reached counted as skipped."""
    out = {v: result.count(v) for v in SEVERITY}
    out[Verdict.SKIPPED] += sum(1 for r in result.not_run if isinstance(r, StepResult))
    return out


@dataclass(frozen=True)
class Group:
    """A test case in reports: a test block, or a command outside blocks on its own.
    `results` are what ran (none for a skipped one)."""

    name: str
    requirement: str
    place: Place
    verdict: Verdict
    results: tuple[StepResult, ...]
    block: bool  # a test block (False: one command outside blocks)


def _step_group(result: StepResult) -> Group:
    return Group(f"{result.place.file}:{result.place.line} {result.shown}", "", result.place, result.verdict,
                 (result,) if result.verdict is not Verdict.SKIPPED else (), False)


def _case_group(case: CaseResult) -> Group:
    return Group(case.name, case.requirement, case.place, case.verdict, case.results, True)


def groups(result: ScriptResult) -> list[Group]:
    """The run's test cases in script order: a test block where its first command ran, a command
    outside blocks alone; then what was not reached, skipped."""
    case_of = {id(r): case for case in result.cases for r in case.results}
    out: list[Group] = []
    seen: set[int] = set()
    for r in result.results:
        case = case_of.get(id(r))
        if case is None:
            out.append(_step_group(r))
        elif id(case) not in seen:
            seen.add(id(case))
            out.append(_case_group(case))
    # Blocks that ran nothing (empty, or all their commands were skipped lines) come after.
    out += [_case_group(c) for c in result.cases if id(c) not in seen]
    out += [_case_group(r) if isinstance(r, CaseResult) else _step_group(r) for r in result.not_run]
    return out


def unique_names(names: Sequence[str]) -> list[str]:
    """`names` with a repeated one numbered (`name (2)`): CI servers keep only the first of
    several test cases with one name, and a test block in a `repeat` runs several times."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0) + 1
        seen[name] = n
        out.append(name if n == 1 else f"{name} ({n})")
    return out
