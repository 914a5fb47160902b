"""`card-explorer monitor`: reader, card and service events as they happen."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("monitor", help="print reader/card/service events until Ctrl-C")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(run=run, needs_pcsc=True)


def run(args: argparse.Namespace) -> int:
    # Every start builds the parser, the window's included: monitoring is imported when it runs.
    from explorer.cli.run_monitor import run_monitor

    return run_monitor(args)
