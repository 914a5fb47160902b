"""`card-explorer atr`: decode an answer-to-reset and name the card from smartcard_list.txt.

    card-explorer atr "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
    card-explorer atr 3B 02 14 50 --json
    card-explorer atr --json --batch < atrs.txt

No reader or PC/SC service is involved: the ATR is typed (or piped) in.

The ATR is hex: one quoted argument or several arguments (joined with
spaces); colons, commas and `0x` prefixes are accepted. `--json` prints one
JSON object on one line (the schema is `explorer.core.atr_report.atr_json`).
`--json --batch` reads stdin, one ATR per line (blank lines and lines starting
with `#` are skipped), and writes one JSON object per ATR in input order; a
line that is not hex gives `{"input", "line", "error"}` in its place and the
rest go on.

An ATR that decodes with findings (a wrong TCK, missing or extra bytes, more
than 33 bytes...) is not an error: a tester decodes a broken card's ATR to see
what is wrong with it, so the findings are in the output and the exit code is
0. Exit codes (see explorer.cli): 0 every ATR decoded, 2 bad usage, no ATR, or
input that is not hex (in batch mode: any such line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from explorer.cli.bad_input import BadInput, pointer
from explorer.core.atr import decode_atr
from explorer.core.atr_report import atr_json, atr_text
from explorer.core.atrdb import AtrDatabase, AtrMatch, load_database
from explorer.core.hexfmt import HexError, parse_hex

PROG = "card-explorer atr"

EPILOG = (
    "ATR is hex, e.g. \"3B 02 14 50\" (quote it, or give the bytes as separate arguments) or 3B021450. "
    "Card names come from pcsc-tools' smartcard_list.txt: the --db file, else "
    "/usr/share/pcsc/smartcard_list.txt, else the copy bundled with the app. "
    "An ATR with findings (wrong TCK, truncated, extra bytes, too long) is still decoded and exits 0; "
    "the findings are in the output. "
    "Exit codes: 0 decoded, 2 bad usage, no ATR, or bad hex (with --batch: any bad line)."
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "atr",
        help="decode an ATR and identify the card",
        description="Decode an answer-to-reset (ISO/IEC 7816-3 interface bytes, historical bytes, TCK) "
                    "and look the card up in smartcard_list.txt. Needs no reader.",
        epilog=EPILOG,
    )
    p.add_argument("hex", nargs="*", metavar="HEX", help="the ATR in hex (one argument or several)")
    p.add_argument("--json", action="store_true", help="print one JSON object on one line")
    p.add_argument("--batch", action="store_true",
                   help="with --json: read ATRs from stdin, one per line; one JSON object per line out")
    db = p.add_mutually_exclusive_group()
    db.add_argument("--db", metavar="PATH", help="smartcard_list.txt to use before the installed ones")
    db.add_argument("--no-db", action="store_true", help="do not identify the card")
    p.set_defaults(run=run)


def _error(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def parse_atr(text: str) -> bytes:
    """The bytes of one ATR, or BadInput saying where the hex is wrong."""
    try:
        raw = parse_hex(text)
    except HexError as exc:
        raise BadInput(f"{exc}\n{pointer(text, exc.position)}") from None
    if not raw:
        raise BadInput("no ATR given")
    return raw


def open_database(args: argparse.Namespace) -> AtrDatabase | None:
    """The list to identify cards with (None: --no-db or none installed), read once."""
    if args.no_db:
        return None
    if args.db is not None and not Path(args.db).is_file():
        # Still fall back along the search order, but a mistyped --db must not
        # pass silently for the user's own list.
        _error(f"--db {args.db}: no such file; using the installed list")
    db = load_database(args.db)
    if db is None:
        _error("no smartcard_list.txt found: cards are not identified")
        return None
    for problem in db.problems:
        _error(f"{db.source}: {problem}")
    return db


def _lookup(db: AtrDatabase | None, raw: bytes) -> tuple[AtrMatch, ...]:
    return () if db is None else db.lookup(raw)


def text_report(raw: bytes, db: AtrDatabase | None, why_no_db: str) -> str:
    atr = decode_atr(raw)
    if db is None:
        return atr_text(atr, not_looked_up=why_no_db)
    return atr_text(atr, db.lookup(raw), db.source)


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _atr_lines(stdin: TextIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stdin, 1):
        text = line.rstrip("\r\n")
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            yield number, text


def batch_lines(lines: Iterable[tuple[int, str]], db: AtrDatabase | None) -> Iterator[tuple[str, bool]]:
    """(JSON line, whether the input line was good) for each ATR line, in order."""
    for number, text in lines:
        try:
            raw = parse_hex(text)
        except HexError as exc:
            yield _dumps({"input": text, "line": number, "error": str(exc)}), False
            continue
        if not raw:  # only separators, e.g. "::"
            yield _dumps({"input": text, "line": number, "error": "no hex digits on this line"}), False
            continue
        yield _dumps(atr_json(decode_atr(raw), _lookup(db, raw))), True


def run(args: argparse.Namespace) -> int:
    from explorer.cli import EXIT_OK, EXIT_USAGE

    if args.batch and not args.json:
        _error("--batch writes JSON lines: use it with --json")
        return EXIT_USAGE
    if args.batch and args.hex:
        _error("--batch reads the ATRs from stdin: give no HEX arguments with it")
        return EXIT_USAGE
    try:
        raw = None if args.batch else parse_atr(" ".join(args.hex))
    except BadInput as exc:
        _error(str(exc))
        return EXIT_USAGE

    db = open_database(args)
    status = EXIT_OK
    try:
        if raw is None:
            write = sys.stdout.write
            for line, good in batch_lines(_atr_lines(sys.stdin), db):
                write(line + "\n")
                if not good:
                    status = EXIT_USAGE
            sys.stdout.flush()
        elif args.json:
            print(_dumps(atr_json(decode_atr(raw), _lookup(db, raw))), flush=True)
        else:
            why = "not looked up (--no-db)" if args.no_db else "no smartcard_list.txt found"
            sys.stdout.write(text_report(raw, db, why))
            sys.stdout.flush()
    except BrokenPipeError:
        # stdout closed early (`| head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return status
