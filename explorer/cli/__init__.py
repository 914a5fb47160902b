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

from explorer.core.log_levels import TRAFFIC

EXIT_OK = 0
EXIT_SW_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_SERVICE = 3
EXIT_CARD_ERROR = 4
EXIT_INTERRUPTED = 130


class VersionAction(argparse.Action):
    """`--version`: the first line `card-explorer X.Y.Z`, then Python, Qt, PySide6, pyscard, the
    platform and where the log and journal are (explorer.diagnostics, imported only when asked)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from explorer.diagnostics import version_text

        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from explorer.cli import atr, emulate, monitor, readers, send

    parser = argparse.ArgumentParser(
        prog="card-explorer",
        description="Smart-card explorer. Without a command, opens the window.",
    )
    parser.add_argument("--version", action=VersionAction,
                        help="show the versions (app, Python, Qt, PySide6, pyscard), the platform, "
                             "the log file and the journal directory, and exit")
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
    import gc

    # What start-up allocates lives as long as the app (modules, classes, the window): no
    # collection scans it on the way; explorer.ui.app.run freezes it and turns collection back on.
    gc.disable()
    from explorer.ui.app import run

    return run(sys.argv)
