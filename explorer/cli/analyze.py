"""`card-explorer analyze`: what a card holds, read and explained (file system, GlobalPlatform…).

    card-explorer analyze --profile demo
    card-explorer analyze --reader "Virtual PCD 00 00" --only gp --json
    card-explorer analyze --only emrtd --mrz "L898902C<, 690806, 940623"

Read-only: a command that changes the card (EMV GET PROCESSING OPTIONS) is sent only with
--allow-gpo. Exit codes: 0 analysed, 2 usage, 3 no PC/SC service, 4 card error, 130 interrupted.
A card pulled (or pcscd gone) mid-analysis still prints what was read before, then exits 4 (3).
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("analyze", help="read and explain what a card holds",
                       description="Read what a card holds (files, GlobalPlatform data…) and explain it.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--reader", metavar="NAME",
                       help="PC/SC reader, or a unique part of its name (default: the reader with a card)")
    where.add_argument("--profile", metavar="demo|FILE",
                       help="analyze a virtual card with this profile, in-process (no PC/SC needed)")
    p.add_argument("--only", metavar="KEYS", help="analyzers to run, comma separated (default: all)")
    p.add_argument("--scan", metavar="FROM-TO",
                   help="also try every file identifier in this range in each DF (e.g. 0100-02FF; "
                        "one SELECT each, at most 4096)")
    p.add_argument("--mrz", metavar="TEXT",
                   help="a passport's MRZ for Basic Access Control: document number, birth and expiry "
                        "dates (\"L898902C<, 690806, 940623\") or the whole MRZ; check digits are verified")
    p.add_argument("--allow-gpo", action="store_true",
                   help="allow commands that change the card (EMV GET PROCESSING OPTIONS increments the ATC)")
    p.add_argument("--json", action="store_true", help="print the analysis as JSON")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--capture", metavar="PROFILE.json",
                   help="write what was read as a card profile to emulate offline (what could not be "
                        "read is listed in it and on stderr)")
    p.add_argument("--reveal", action="store_true",
                   help="show sensitive values (PAN, track 2, MRZ, personal data, face image) in clear "
                        "in every output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explorer.cli.run_analyze import run_analyze

    return run_analyze(args)
