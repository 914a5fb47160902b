"""The `card-explorer` argument parser: global options and one sub-parser per command.

Built only when there are arguments (the window alone starts without it), and then
only with the sub-parser of the command named (all of them for --help or a typo);
each command's module adds its sub-parser and imports what it runs when it runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from types import ModuleType


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


#: The commands, each a module of explorer.cli with `add_parser`, in the order --help lists them.
COMMANDS = ("readers", "monitor", "emulate", "send", "run", "analyze", "atr")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: with only the sub-parser of the command it names, when it names
    one (a command's module may import what its defaults need: `emulate` the virtual card, so
    every `run` would pay for it); with all of them otherwise (no command, or one misspelt)."""
    named = next((arg for arg in argv or () if not arg.startswith("-")), None)
    commands = (named,) if named in COMMANDS else COMMANDS
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
    for command in commands:
        _module(command).add_parser(sub)
    return parser


def _module(command: str) -> ModuleType:
    # Plain import statements, not importlib with a name made at run time: PyInstaller finds
    # a bundle's modules by reading the imports, and a bundle without them could not start.
    if command == "readers":
        from explorer.cli import readers
        return readers
    if command == "monitor":
        from explorer.cli import monitor
        return monitor
    if command == "emulate":
        from explorer.cli import emulate
        return emulate
    if command == "send":
        from explorer.cli import send
        return send
    if command == "run":
        from explorer.cli import run
        return run
    if command == "analyze":
        from explorer.cli import analyze
        return analyze
    from explorer.cli import atr
    return atr
