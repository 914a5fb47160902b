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


def run(args: argparse.Namespace) -> int:
    # Every start builds the parser, the window's included: decoding is imported when it runs.
    from explorer.cli.run_atr import run_atr

    return run_atr(args)
