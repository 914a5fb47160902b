"""Running a script: command by command on one card, expectations judged, captures taken,
a result streamed per command and a verdict per test case and per script.

Thread rules: `run` calls the card and `on_result` on the thread it is called on; it is meant
to run as one job on the reader's worker (no hand-off per command). `Control` is the only
thing other threads touch: stop, pause, resume and step take effect between two commands.
"""

from __future__ import annotations

import contextlib
import enum
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from explorer.core.card_errors import CardError
from explorer.core.exchange import Exchange, Reply, TransmitOptions
from explorer.core.hexfmt import to_hex
from explorer.core.sensitive import is_secret_command, mask, masked_hex
from explorer.core.sw_checks import DEFAULT_CHAIN, CheckChain
from explorer.core.sw_checks import Verdict as SwVerdict
from explorer.script import evaluate
from explorer.script.model import Case, Command, Delay, Exit, Place, Repeat, Reset, Script, SetVar, Step, Var


class ScriptCard(Protocol):
    """What a script drives, called on the runner's thread."""

    def send(self, apdu: bytes, options: TransmitOptions, as_is: bool, place: Place, secret: bool) -> Reply:
        """One command and its automatic steps (`place`: where it is written, for the trace;
        `secret`: marked so, its data hidden wherever the trace is shown or saved masked);
        CardError when the card or reader fails or refuses the command."""

    def reset(self, cold: bool) -> bytes:
        """The card reset; its ATR."""


class Verdict(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"  # an expectation, or the SW checking chain, said no
    ERROR = "error"  # the card or the script could not go on (card removed, unset variable)
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StepResult:
    """One command or reset as it ran. `shown` is the command as hex, secrets masked. `secret`:
    the script marked the command secret, so reports mask all of its data in every exchange (as
    `shown` is), not only what `sensitive` recognises. `expected`: the expectation as written
    (`Expectation.text`, `atr …` for a reset), "" when the SW checking chain judged it.
    `partial`: the exchanges of a command that a card error ended (no `reply` then); the trace
    holds them too, as it holds a reply's."""

    place: Place
    case: str
    shown: str
    verdict: Verdict
    failures: tuple[str, ...] = ()
    reply: Reply | None = None
    atr: bytes = b""
    seconds: float = 0.0
    requirement: str = ""  # the test case's requirement ID
    secret: bool = False
    expected: str = ""
    partial: tuple[Exchange, ...] = ()

    @property
    def exchanges(self) -> tuple[Exchange, ...]:
        """What crossed the wire for this command, however it ended (the first is the command
        itself; a trace record has its reader, time and bytes)."""
        return self.reply.exchanges if self.reply is not None else self.partial


@dataclass(frozen=True)
class CaseResult:
    name: str
    requirement: str
    place: Place
    verdict: Verdict
    results: tuple[StepResult, ...]


@dataclass(frozen=True)
class ScriptResult:
    """`not_run`: what the script did not reach because it ended first (a stop, a card error, a
    failure outside test blocks), in script order, all SKIPPED: commands and resets outside test
    blocks as StepResults, test blocks as CaseResults (a repeat's body is listed once). Neither
    streamed nor in `results`/`cases`. `started`: when the run began, epoch seconds."""

    file: str
    verdict: Verdict
    results: tuple[StepResult, ...]
    cases: tuple[CaseResult, ...]
    stopped: bool  # by Control.stop, before the end
    not_run: tuple[StepResult | CaseResult, ...] = ()
    started: float = 0.0

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is verdict)


class Control:
    """Stop, pause, resume, single-step and run to a line, from any thread.

    Run to a line is a one-off stop: the script pauses before the first command at or after
    that line of that file (a command waiting when it is asked goes first), and any other
    order (pause, resume, step, stop) forgets it, as a debugger's "run to cursor" does.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._steps = 0
        self._lock = threading.Lock()
        self._target: tuple[str | None, int] | None = None
        self._at: Place | None = None
        self._waiting: Place | None = None

    def stop(self) -> None:
        with self._lock:
            self._target = None
        self._stop.set()
        self._go.set()

    def pause(self) -> None:
        with self._lock:
            self._target = None
        self._go.clear()

    def resume(self) -> None:
        with self._lock:
            self._target = None
            self._steps = 0
        self._go.set()

    def step(self) -> None:
        """While paused: let one more command run."""
        with self._lock:
            self._target = None
            self._steps += 1
        self._go.set()

    def run_to(self, line: int, file: str | None = None) -> None:
        """Run on, and pause before the first command at or after `line` of `file` (None: any
        file). Before the script starts, its first command is such a command if it qualifies."""
        with self._lock:
            self._target = (file, line)
            self._steps = 0
        self._go.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def at(self) -> Place | None:
        """The command running or about to run (None before the first)."""
        return self._at

    @property
    def waiting(self) -> Place | None:
        """The command the script is paused before, None while it runs."""
        return self._waiting

    def wait_turn(self, place: Place | None = None) -> bool:
        """Before each command (at `place`): False once stopped; blocks while paused."""
        self._at = place  # one reference set: other threads read it without the lock
        if self._go.is_set() and not self._steps and self._target is None:  # running freely
            return not self._stop.is_set()
        with self._lock:
            target = self._target
            if target is not None and place is not None and place.line >= target[1] \
                    and target[0] in (None, place.file):
                self._target = None
                self._go.clear()
        if not self._go.is_set():
            self._waiting = place
            self._go.wait()
            self._waiting = None
        with self._lock:
            if self._steps:
                self._steps -= 1
                if not self._steps:
                    self._go.clear()  # the stepped command runs, then the script waits again
        return not self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """A delay that a stop cuts short; False when stopped."""
        return not self._stop.wait(seconds)


class _Stop(Exception):
    """The script ends here (exit, a stop, a card error, a failure outside a test case)."""


class _CaseFailed(Exception):
    """A failure in a test case that does not continue: the rest of the case is skipped."""


@dataclass
class _Run:
    card: ScriptCard
    variables: dict[str, bytes]
    on_result: Callable[[StepResult], None]
    control: Control
    chain: CheckChain
    keep_going: bool
    results: list[StepResult] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)
    case: Case | None = None
    not_run: list[StepResult | CaseResult] = field(default_factory=list)

    def emit(self, result: StepResult) -> StepResult:
        self.results.append(result)
        self.on_result(result)
        return result

    def steps(self, steps: tuple[Step, ...]) -> None:
        for at, step in enumerate(steps):
            try:
                self.step(step)
            except _Stop:
                if self.case is None:  # inside a test block, the block's own result says it
                    self.not_run.extend(_unreached(steps[at + 1:]))
                raise

    def step(self, step: Step) -> None:
        if isinstance(step, Command):
            self.command(step)
        elif isinstance(step, Reset):
            self.reset(step)
        elif isinstance(step, Delay):
            if not self.control.sleep(step.ms / 1000):
                raise _Stop
        elif isinstance(step, SetVar):
            self.variables[step.name] = evaluate.assemble(step.parts, self.variables)
        elif isinstance(step, Repeat):
            for _ in range(step.count):
                self.steps(step.body)
        elif isinstance(step, Case):
            self.run_case(step)
        elif isinstance(step, Exit):
            raise _Stop

    def run_case(self, case: Case) -> None:
        first = len(self.results)
        self.case = case
        try:
            with contextlib.suppress(_CaseFailed):
                self.steps(case.body)
        finally:
            self.case = None
            ran = tuple(self.results[first:])
            verdicts = {r.verdict for r in ran}
            verdict = next((v for v in (Verdict.ERROR, Verdict.FAILED) if v in verdicts), Verdict.PASSED)
            self.cases.append(CaseResult(case.name, case.requirement, case.place, verdict, ran))

    def _failed(self, result: StepResult) -> None:
        """After a failed or errored result: what ends (the case, the script, or nothing)."""
        if result.verdict is Verdict.ERROR:
            raise _Stop
        if self.case is not None:
            if not self.case.keep_going:
                raise _CaseFailed
        elif not self.keep_going:
            raise _Stop

    def command(self, step: Command) -> None:
        if not self.control.wait_turn(step.place):
            raise _Stop
        name, requirement = (self.case.name, self.case.requirement) if self.case else ("", "")
        secret, expected = step.secret, step.expect.text
        parts = step.parts
        if len(parts) == 1 and type(parts[0]) is bytes:  # written in full: nothing to put in
            apdu = parts[0]
        else:
            missing = evaluate.unset(parts, self.variables)
            if missing:
                why = f"${{{missing[0]}}} has no value (a capture found nothing?)"
                self._failed(self.emit(StepResult(step.place, name, unsent_hex(step), Verdict.ERROR, (why,),
                                                  requirement=requirement, secret=secret, expected=expected)))
                return
            apdu = evaluate.assemble(parts, self.variables)
        shown = masked_hex(apdu, secret)
        options = _OPTIONS[step.get_response, step.resend]
        started = time.perf_counter()
        try:
            reply = self.card.send(apdu, options, step.raw, step.place, step.secret)
        except CardError as exc:
            self._failed(self.emit(StepResult(step.place, name, shown, Verdict.ERROR, (str(exc),),
                                              seconds=time.perf_counter() - started, requirement=requirement,
                                              secret=secret, expected=expected,
                                              partial=tuple(exc.exchanges))))
            return
        seconds = time.perf_counter() - started
        exchanges = reply.exchanges
        sw = reply.sw if exchanges and exchanges[-1].sw is not None else None
        expect = step.expect
        if not expect.empty:
            failures = evaluate.check(expect, reply.data, sw)
        else:
            failures = []
            if sw is not None and self.chain.verdict(sw, apdu) is SwVerdict.STOP:
                failures.append(f"SW {self.chain.explain_verdict(sw, apdu)}")
        for capture in step.captures:
            taken = evaluate.take(capture, reply.data)
            if isinstance(taken, str):
                failures.append(taken)
            else:
                self.variables[capture.name] = taken
        result = self.emit(StepResult(step.place, name, shown, Verdict.FAILED if failures else Verdict.PASSED,
                                      tuple(failures), reply, seconds=seconds, requirement=requirement,
                                      secret=secret, expected=expected))
        if failures:
            self._failed(result)

    def reset(self, step: Reset) -> None:
        if not self.control.wait_turn(step.place):
            raise _Stop
        name, requirement = (self.case.name, self.case.requirement) if self.case else ("", "")
        shown = _reset_shown(step)
        expected = f"atr {step.atr_text}" if step.atr is not None else ""
        started = time.perf_counter()
        try:
            atr = self.card.reset(step.cold)
        except CardError as exc:
            self._failed(self.emit(StepResult(step.place, name, shown, Verdict.ERROR, (str(exc),),
                                              requirement=requirement, expected=expected)))
            return
        failures = () if step.atr is None or step.atr.matches(atr) else (
            f"expected ATR {step.atr_text}, got {atr.hex(' ').upper()}",)
        result = self.emit(StepResult(step.place, name, shown, Verdict.FAILED if failures else Verdict.PASSED,
                                      failures, atr=atr, seconds=time.perf_counter() - started,
                                      requirement=requirement, expected=expected))
        if failures:
            self._failed(result)


def _reset_shown(step: Reset) -> str:
    return "RESET (cold)" if step.cold else "RESET"


def unsent_hex(step: Command) -> str:
    """A command that was not sent (a variable without a value, or never reached), as reports
    show it: literal bytes in hex, `${NAME}` where a variable goes. A secret one (marked, or
    recognised by its CLA and INS) shows its first five bytes and masks every other byte."""
    parts = step.parts
    head = parts[0] if parts and isinstance(parts[0], bytes) else b""
    if not (step.secret or is_secret_command(head)):
        return " ".join(to_hex(p) if isinstance(p, bytes) else f"${{{p.name}}}" for p in parts if p)
    shown = [to_hex(head[:5])] if head[:5] else []
    for part in parts[1:] if head else parts:
        shown.append(f"${{{part.name}}}" if isinstance(part, Var) else mask(part))
    if head[5:]:
        shown.insert(1, mask(head[5:]))
    return " ".join(p for p in shown if p)


def _unreached(steps: tuple[Step, ...]) -> list[StepResult | CaseResult]:
    """Skipped results for `steps`, which the script did not reach."""
    out: list[StepResult | CaseResult] = []
    for step in steps:
        if isinstance(step, Command):
            out.append(StepResult(step.place, "", unsent_hex(step), Verdict.SKIPPED, secret=step.secret,
                                  expected=step.expect.text))
        elif isinstance(step, Reset):
            out.append(StepResult(step.place, "", _reset_shown(step), Verdict.SKIPPED,
                                  expected=f"atr {step.atr_text}" if step.atr is not None else ""))
        elif isinstance(step, Repeat):
            out.extend(_unreached(step.body))
        elif isinstance(step, Case):
            out.append(CaseResult(step.name, step.requirement, step.place, Verdict.SKIPPED, ()))
    return out


#: The transmit options of a command by its two switches (get-response, resend), made once.
_OPTIONS = {(g, r): TransmitOptions(auto_get_response=g, auto_resend=r) for g in (True, False)
            for r in (True, False)}


def run(script: Script, card: ScriptCard, *, variables: Mapping[str, bytes] = {},
        on_result: Callable[[StepResult], None] = lambda result: None, control: Control | None = None,
        chain: CheckChain = DEFAULT_CHAIN, keep_going: bool = False) -> ScriptResult:
    """Run `script` (which must be `ok`) on `card`. Without an expectation a command is judged by
    the SW checking `chain`. A failure outside a test case ends the script unless `keep_going`;
    a card error always ends it. The results so far are returned however it ends."""
    control = control or Control()
    started = time.time()
    state = _Run(card, dict(variables), on_result, control, chain, keep_going)
    with contextlib.suppress(_Stop):
        state.steps(script.steps)
    results = tuple(state.results)
    verdicts = {r.verdict for r in results}
    verdict = next((v for v in (Verdict.ERROR, Verdict.FAILED) if v in verdicts), Verdict.PASSED)
    return ScriptResult(script.file, verdict, results, tuple(state.cases), control.stopped,
                        tuple(state.not_run), started)
