"""The `card-explorer` command: the GUI by default, and subcommands that share its code.

Exit codes: 0 success, 1 a card answered a status word of severity error
(`send`), 2 bad usage or input (including a malformed APDU and an unknown
reader), 3 PC/SC service not available, 4 card error (no card, sharing
violation, card removed, protocol mismatch, timeout), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from explorer import __version__
from explorer.core.log_levels import TRAFFIC

EXIT_OK = 0
EXIT_SW_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_SERVICE = 3
EXIT_CARD_ERROR = 4
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    from explorer.cli import atr, emulate, monitor, readers, send

    parser = argparse.ArgumentParser(
        prog="card-explorer",
        description="Smart-card explorer. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"card-explorer {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-vv logs APDU traffic)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (readers, monitor, emulate, send, atr):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = {0: logging.WARNING, 1: logging.DEBUG}.get(args.verbose, TRAFFIC)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command is None:
        return gui_main()
    if getattr(args, "needs_pcsc", False) and (missing := pcsc_missing()):
        print(f"card-explorer: {missing}", file=sys.stderr)
        return EXIT_NO_SERVICE
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def pcsc_missing() -> str:
    """Why PC/SC cannot be used at all (pyscard or libpcsclite missing), or ''."""
    try:
        import explorer.pcsc.context  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"PC/SC support could not be loaded ({exc})"
    return ""


def gui_main() -> int:
    from explorer.ui.app import run

    return run(sys.argv)
