"""`card-explorer readers`: every reader, whether a card is in, and its ATR."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("readers", help="list readers, cards and ATRs")
    p.add_argument("--json", action="store_true", help="one JSON array of readers")
    p.set_defaults(run=run, needs_pcsc=True)


def run(args: argparse.Namespace) -> int:
    # Imported when the command runs: every start builds the parser, the window's included.
    import json

    from explorer.cli import EXIT_NO_SERVICE, EXIT_OK
    from explorer.core.hexfmt import to_hex
    from explorer.core.printable import printable
    from explorer.core.reader_state import flag_words
    from explorer.pcsc.context import ServiceUnavailable
    from explorer.pcsc.snapshot import read_readers

    try:
        snapshots = read_readers()
    except ServiceUnavailable as exc:
        print(f"card-explorer: {exc}", file=sys.stderr)
        return EXIT_NO_SERVICE
    if args.json:
        print(json.dumps([s.to_json() for s in snapshots], indent=2))
        return EXIT_OK
    if not snapshots:
        print("no reader")
    for s in snapshots:
        state = ", ".join(flag_words(s.watched))
        card = (to_hex(s.atr) if s.atr else "mute card") if s.card_present else "no card"
        print(f"{printable(s.name)}: {card}" + (f"  [{state}]" if state else ""))
    return EXIT_OK
