"""The work of `card-explorer run` (explorer.cli.run has the parser; run_targets where it runs)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from explorer.cli.run_targets import (
    NoService,
    Outcome,
    Plan,
    Target,
    Usage,
    command_line_access,
    drive_all,
    targets,
)
from explorer.core.hexfmt import HexError, parse_hex, to_hex
from explorer.core.input_error import InputError
from explorer.core.printable import printable
from explorer.script.files import read_script
from explorer.script.model import Script
from explorer.script.parser import parse_script
from explorer.script.runner import StepResult, Verdict
from explorer.script.runs import ScriptRun

if TYPE_CHECKING:
    from explorer.trace.journal import Journal
    from explorer.trace.store import TraceStore

PROG = "card-explorer run"


def _read(path: Path) -> str:
    try:
        return read_script(path)
    except InputError as exc:
        raise Usage(f"{path}: {exc.problem}") from None


def _variables(given: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for item in given:
        name, eq, value = item.partition("=")
        if not eq or not name.isidentifier() or not name.isascii():
            raise Usage(f"--var {printable(item)}: NAME=HEX expected")
        try:
            out[name] = parse_hex(value)
        except HexError as exc:
            raise Usage(f"--var {name}: {exc}") from None
    return out


def _scripts(paths: list[str], known: set[str]) -> list[Script]:
    scripts, errors = [], []
    for name in paths:
        path = Path(name)
        text = _read(path)

        def load(include: str, base: Path = path.parent) -> str:
            try:
                return _read(base / include)
            except Usage as exc:
                raise ValueError(str(exc)) from None

        script = parse_script(text, str(path), known=known, load=load)
        for diagnostic in script.diagnostics:
            print(f"{PROG}: {diagnostic}", file=sys.stderr)
        if not script.ok:
            errors.append(name)
        scripts.append(script)
    if errors:
        raise Usage(f"nothing was sent: {len(errors)} script(s) with errors")
    return scripts


class _Output:
    """Lines from every reader's thread, whole and in order. A pipe is flushed at most every
    0.2 s (a 5,000-command script must not cost 5,000 flushes), a terminal line by line."""

    def __init__(self, as_json: bool, several: bool, out: TextIO = sys.stdout) -> None:
        self.as_json = as_json
        self.several = several
        self.closed = threading.Event()  # whoever read the output has gone (`| head`)
        self.on_closed: Callable[[], None] = lambda: None
        self._out = out
        self._lock = threading.Lock()
        self._flushed = 0.0
        self._tty = out.isatty()

    def write(self, text: str, *, now: bool = False) -> None:
        with self._lock:
            if self.closed.is_set():
                return
            try:
                self._out.write(text + "\n")
                stamp = time.monotonic()
                if now or self._tty or stamp - self._flushed > 0.2:
                    self._out.flush()
                    self._flushed = stamp
            except OSError:  # a broken pipe: nobody reads the results, so the run stops
                self.closed.set()
                with contextlib.suppress(OSError):  # and the interpreter's last flush stays quiet
                    os.dup2(os.open(os.devnull, os.O_WRONLY), self._out.fileno())
        if self.closed.is_set():
            self.on_closed()

    def result(self, target: Target, result: StepResult) -> None:
        if self.as_json:
            from explorer.script.results_jsonl import line, result_object

            self.write(line(result_object(result, reader=target.reader, card=target.card,
                                          round=target.round)).rstrip("\n"))
            return
        reply = result.reply
        sw = f"{reply.sw >> 8:02X} {reply.sw & 0xFF:02X}" if reply is not None and reply.exchanges else ""
        where = f"{result.place.file}:{result.place.line}"
        if self.several:
            where = f"[{printable(target.reader)}] {where}"
        answer = f"  < {sw}" if sw else (f"  ATR {to_hex(result.atr)}" if result.atr else "")
        self.write(f"{where}  > {result.shown}{answer}  {result.verdict.value}"
                   + "".join(f"\n    ! {printable(failure)}" for failure in result.failures))

    def run(self, run: ScriptRun) -> None:
        if self.as_json:  # what the run did not reach, and its summary
            from explorer.script.results_jsonl import end_objects, line

            self.write("".join(line(o) for o in end_objects(run)).rstrip("\n"), now=True)
            return
        result = run.result
        counts = (f"{result.count(Verdict.PASSED)} passed, {result.count(Verdict.FAILED)} failed, "
                  f"{result.count(Verdict.ERROR)} error(s)")
        cases = f"; {len(result.cases)} test case(s)" if result.cases else ""
        self.write(f"# {run.title}: {counts}{cases}: {result.verdict.value}", now=True)

    def note(self, target: Target, text: str) -> None:
        """What happens between scripts (a card waited for, inserted, an error): stderr, so
        that stdout stays results only."""
        with self._lock:
            print(f"{PROG}: {printable(target.reader)}: {printable(text)}", file=sys.stderr, flush=True)


def _trace(args: argparse.Namespace) -> tuple[TraceStore | None, Journal | None]:
    """The trace store a --trace journal is written from, and the journal."""
    if not args.trace:
        return None, None
    from explorer.trace.export import GENERATOR, jsonl_line, secrets_word
    from explorer.trace.journal import Journal
    from explorer.trace.store import TraceStore

    path = Path(args.trace)
    try:
        if path.is_file():
            path.unlink()  # like every other report: the file named is written anew
        journal = Journal(path, encode=lambda r: jsonl_line(r, args.reveal_secrets), started=time.time(),
                          generator=GENERATOR, secrets=secrets_word(args.reveal_secrets))
    except OSError as exc:
        raise Usage(f"--trace {args.trace}: {exc.strerror or exc}") from None
    return TraceStore(journal, keep=False), journal


def _write_reports(args: argparse.Namespace, runs: list[ScriptRun]) -> bool:
    """Every report asked for; False (said on stderr) when one could not be written."""
    from explorer.private_files import open_private

    ok = True
    for path, write in ((args.junit, _junit), (args.html, _html), (args.jsonl, _jsonl)):
        if not path:
            continue
        try:
            with open_private(path, "w") as out:
                write(runs, out)
        except OSError as exc:
            print(f"{PROG}: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            ok = False
    return ok


def _junit(runs: list[ScriptRun], out: TextIO) -> None:
    from explorer.script.junit import junit_xml

    out.write(junit_xml(runs))


def _html(runs: list[ScriptRun], out: TextIO) -> None:
    from explorer.script.report_html import html_report

    out.write(html_report(runs))


def _jsonl(runs: list[ScriptRun], out: TextIO) -> None:
    from explorer.script.results_jsonl import write_results

    write_results(runs, out)


def run_scripts(args: argparse.Namespace) -> int:
    from explorer.cli import (
        EXIT_CARD_ERROR,
        EXIT_INTERRUPTED,
        EXIT_NO_SERVICE,
        EXIT_OK,
        EXIT_SW_ERROR,
        EXIT_USAGE,
    )

    try:
        if args.repeat < 1 or (args.cards is not None and args.cards < 1):
            raise Usage("--repeat and --cards take a number from 1")
        if args.cards is not None and not args.each_card:
            raise Usage("--cards goes with --each-card")
        variables = _variables(args.var)
        scripts = _scripts(args.scripts, set(variables))
        access = command_line_access()
        readers = targets(args, access)
        store, journal = _trace(args)
        access.manager.set_sink(store)
    except Usage as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NoService as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_NO_SERVICE
    output = _Output(args.json, several=len(readers) > 1 or args.each_card)

    def stop_all() -> None:
        for target in readers:
            target.stop()

    output.on_closed = stop_all
    runs: list[ScriptRun] = []
    lock = threading.Lock()

    def on_run(run: ScriptRun) -> None:
        with lock:
            runs.append(run)
        output.run(run)

    plan = Plan(scripts, variables, args.keep_going, args.repeat, args.each_card, args.cards,
                output.result, on_run, output.note)
    # What is made so far lives to the end: out of the collector's sight, a full collection
    # during the run does not walk the parsed scripts again (as gui_main does for the window).
    gc.freeze()
    try:
        outcome = drive_all(readers, plan)
        status = {Outcome.OK: EXIT_OK, Outcome.FAILED: EXIT_SW_ERROR, Outcome.CARD_ERROR: EXIT_CARD_ERROR,
                  Outcome.NO_SERVICE: EXIT_NO_SERVICE}[outcome]
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
    finally:
        access.close(timeout=1.0)
        if journal is not None:
            journal.close()
    if output.closed.is_set():
        status = EXIT_INTERRUPTED  # stopped: the results were not all read
    if len(runs) > 1 and not args.json:
        verdicts = [r.result.verdict for r in runs]
        output.write(f"# {len(runs)} runs: " + ", ".join(f"{verdicts.count(v)} {v.value}" for v in Verdict
                                                       if verdicts.count(v)), now=True)
    if not _write_reports(args, sorted(runs, key=lambda r: (r.reader, r.card, r.round))):
        return EXIT_USAGE if status == EXIT_OK else status
    return status
