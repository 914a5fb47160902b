"""The `card-explorer` command: the GUI by default, and subcommands that share its code.

Exit codes: 0 success, 1 a card answered a status word of severity error
(`send`), 2 bad usage or input (including a malformed APDU and an unknown
reader), 3 PC/SC service not available or gone during the run, 4 card error
(no card, sharing violation, card removed, protocol mismatch, timeout, an
answer cut short at the 61xx/6Cxx step limit), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

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


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        # The window, as a desktop entry starts it: no parser, and none of the subcommands' modules.
        configure_logging(0)
        return gui_main()
    from explorer.cli.parser import build_parser

    args = build_parser(argv).parse_args(argv)
    configure_logging(args.verbose)
    if args.command is None:
        return gui_main()
    if getattr(args, "needs_pcsc", False) and (missing := pcsc_missing()):
        print(f"card-explorer: {missing}", file=sys.stderr)
        return EXIT_NO_SERVICE
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def configure_logging(verbose: int) -> None:
    level = {0: logging.WARNING, 1: logging.DEBUG}.get(verbose, TRAFFIC)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")


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
