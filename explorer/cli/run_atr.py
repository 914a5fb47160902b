"""What `card-explorer atr` does; its arguments are in explorer.cli.atr, which every start
imports (the window's too), so the decoding and the card list are imported only here."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from explorer.cli.atr import PROG
from explorer.cli.bad_input import BadInput, pointer
from explorer.core.atr import decode_atr
from explorer.core.atr_report import atr_json, atr_text
from explorer.core.atrdb import AtrDatabase, AtrMatch, load_database
from explorer.core.hexfmt import HexError, parse_hex


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


def run_atr(args: argparse.Namespace) -> int:
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
