"""The work of `card-explorer run` (explorer.cli.run has the parser)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from explorer.core import card_errors as ce
from explorer.core.hexfmt import HexError, parse_hex, to_hex
from explorer.core.input_error import InputError
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.core.printable import printable
from explorer.link.connection import CardConnection, Link, WorkerSession
from explorer.script.files import read_script
from explorer.script.model import Script
from explorer.script.parser import parse_script
from explorer.script.runner import ScriptResult, StepResult, Verdict, run
from explorer.script.runs import ScriptRun

PROG = "card-explorer run"


class _Usage(Exception):
    pass


class _NoService(Exception):
    pass


def _read(path: Path) -> str:
    try:
        return read_script(path)
    except InputError as exc:
        raise _Usage(f"{path}: {exc.problem}") from None


def _variables(given: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for item in given:
        name, eq, value = item.partition("=")
        if not eq or not name.isidentifier() or not name.isascii():
            raise _Usage(f"--var {printable(item)}: NAME=HEX expected")
        try:
            out[name] = parse_hex(value)
        except HexError as exc:
            raise _Usage(f"--var {name}: {exc}") from None
    return out


def _scripts(paths: list[str], known: set[str]) -> list[Script]:
    scripts, errors = [], []
    for name in paths:
        path = Path(name)
        text = _read(path)

        def load(include: str, base: Path = path.parent) -> str:
            try:
                return _read(base / include)
            except _Usage as exc:
                raise ValueError(str(exc)) from None

        script = parse_script(text, str(path), known=known, load=load)
        for diagnostic in script.diagnostics:
            print(f"{PROG}: {diagnostic}", file=sys.stderr)
        if not script.ok:
            errors.append(name)
        scripts.append(script)
    if errors:
        raise _Usage(f"nothing was sent: {len(errors)} script(s) with errors")
    return scripts


def _connection(args: argparse.Namespace) -> CardConnection:
    if args.profile:
        from explorer.virtual.card_sources import CardSource, CardSourceError, SourceKind, load_card
        from explorer.virtual.embedded import EmbeddedReaders

        source = (CardSource(SourceKind.DEMO) if args.profile == "demo"
                  else CardSource(SourceKind.PROFILE, args.profile))
        try:
            loaded = load_card(source)
        except CardSourceError as exc:
            raise _Usage(str(exc)) from None
        readers = EmbeddedReaders(lambda event: None)
        reader = readers.add_reader()
        readers.insert(reader, loaded.card, loaded.label)
        link: Link = readers.link(reader)
    else:
        from explorer.cli.bad_input import BadInput
        from explorer.cli.run_send import choose_reader
        from explorer.pcsc.connection import PcscLink
        from explorer.pcsc.context import ServiceUnavailable

        try:
            reader = choose_reader(args.reader)
        except BadInput as exc:  # no such reader, or no single one with a card
            raise _Usage(str(exc)) from None
        except ServiceUnavailable as exc:
            raise _NoService(str(exc)) from None
        link = PcscLink(reader)
    return CardConnection(reader, link)


def _print(result: StepResult, as_json: bool) -> None:
    reply = result.reply
    sw = f"{reply.sw >> 8:02X} {reply.sw & 0xFF:02X}" if reply is not None and reply.exchanges else ""
    if as_json:
        print(json.dumps({"file": result.place.file, "line": result.place.line, "case": result.case,
                          "command": result.shown, "data": to_hex(reply.data) if reply else "",
                          "sw": sw, "verdict": result.verdict.value, "failures": list(result.failures),
                          "ms": round(result.seconds * 1000, 3)}, ensure_ascii=False), flush=True)
        return
    where = f"{result.place.file}:{result.place.line}"
    answer = f"  < {sw}" if sw else (f"  ATR {to_hex(result.atr)}" if result.atr else "")
    print(f"{where}  > {result.shown}{answer}  {result.verdict.value}", flush=True)
    for failure in result.failures:
        print(f"    ! {printable(failure)}", flush=True)


def _summary(result: ScriptResult, reader: str) -> str:
    counts = (f"{result.count(Verdict.PASSED)} passed, {result.count(Verdict.FAILED)} failed, "
              f"{result.count(Verdict.ERROR)} error(s)")
    cases = f"; {len(result.cases)} test case(s)" if result.cases else ""
    return f"# {result.file} on {printable(reader)}: {counts}{cases}: {result.verdict.value}"


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
        variables = _variables(args.var)
        scripts = _scripts(args.scripts, set(variables))
        conn = _connection(args)
    except _Usage as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ce.CardError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_NO_SERVICE if isinstance(exc, ce.ServiceGone) else EXIT_USAGE
    except _NoService as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_NO_SERVICE
    def job(script: Script) -> Callable[[WorkerSession], ScriptResult]:
        return lambda session: run(script, session, variables=variables, keep_going=args.keep_going,
                                   on_result=lambda r: _print(r, args.json))

    status = EXIT_OK
    runs: list[ScriptRun] = []
    try:
        conn.connect(Protocol.ANY, ShareMode.SHARED).result()
        for script in scripts:
            result = conn.run_job(job(script)).result()
            runs.append(ScriptRun(result, conn.reader))
            if not args.json:
                print(_summary(result, conn.reader), flush=True)
            if result.verdict is Verdict.ERROR:
                status = EXIT_CARD_ERROR
                break
            if result.verdict is Verdict.FAILED:
                status = EXIT_SW_ERROR
    except ce.CardError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        status = EXIT_NO_SERVICE if isinstance(exc, ce.ServiceGone) else EXIT_CARD_ERROR
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
    finally:
        conn.close(Disposition.LEAVE, timeout=1.0)
    if args.junit:
        from explorer.private_files import open_private
        from explorer.script.junit import junit_xml

        try:
            with open_private(args.junit, "w") as out:
                out.write(junit_xml(runs))
        except OSError as exc:
            print(f"{PROG}: cannot write {args.junit}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE if status == EXIT_OK else status
    return status
