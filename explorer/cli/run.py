"""`card-explorer run SCRIPT…`: scripts of APDUs with expected answers (docs/scripts.md).

    card-explorer run --profile demo resources/scripts/demo.apdu
    card-explorer run --reader "Virtual PCD 00 00" --var PIN=31323334FFFFFFFF tests.apdu
    card-explorer run --all-readers --each-card --junit report.xml personalisation.apdu

Every script is read and checked before a reader is opened: an error in any of
them, named at file:line:column, and nothing is sent. `--profile` runs on an
in-process virtual reader with that card (`demo`, or a profile file): no PC/SC
service or hardware needed. Exit codes: 0 every expectation met, 1 an
expectation (or the SW checking chain) failed, 2 bad script or usage, 3 no
PC/SC service, 4 card error, 130 interrupted.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run scripts of APDUs with expected answers",
                       description="Run scripts (scriptor's format with expectations, captures and "
                                   "test cases: docs/scripts.md) on a card.")
    p.add_argument("scripts", nargs="+", metavar="SCRIPT", help="script files (*.apdu, *.script)")
    p.add_argument("--reader", action="append", default=[], metavar="NAME",
                   help="PC/SC reader, or a unique part of its name (repeatable: the readers run in "
                        "parallel; default: the one reader with a card)")
    p.add_argument("--all-readers", action="store_true",
                   help="every reader with a card (with --each-card: every reader), in parallel")
    p.add_argument("--profile", metavar="demo|FILE",
                   help="run on an in-process virtual reader with this card profile instead of PC/SC")
    p.add_argument("--var", action="append", default=[], metavar="NAME=HEX",
                   help="a variable for ${NAME} in the scripts (repeatable)")
    p.add_argument("--each-card", action="store_true",
                   help="wait for a card, run, wait for its removal, again, until Ctrl-C (or --cards)")
    p.add_argument("--cards", type=int, metavar="N", help="with --each-card: stop after N cards")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="run the scripts N times on each card")
    p.add_argument("--keep-going", action="store_true",
                   help="go on after a failure outside test cases (a card error still stops)")
    p.add_argument("--json", action="store_true", help="one JSON object per command result")
    p.add_argument("--junit", metavar="FILE",
                   help="write a JUnit XML report (a test suite per script, a test case per test block)")
    p.add_argument("--html", metavar="FILE",
                   help="write a self-contained HTML report (every exchange, secrets masked)")
    p.add_argument("--jsonl", metavar="FILE", help="write the results as JSON Lines (what --json prints)")
    p.add_argument("--trace", metavar="FILE",
                   help="write the run's trace (JSON Lines, as the window's journal; secrets masked)")
    p.add_argument("--reveal-secrets", action="store_true",
                   help="PINs and keys in clear in the --trace file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explorer.cli.run_script import run_scripts

    return run_scripts(args)
