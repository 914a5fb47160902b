"""`card-explorer emulate [PROFILE]`: a virtual card in a vpcd reader, until Ctrl-C.

PROFILE is a card profile (JSON, see resources/cards/README.md) or `demo` for
the one shipped with the app: any PC/SC program (pcsc_scan, scriptor, another
explorer) then sees that card, file system and PINs included. Without it the
card is the small demo behaviour of explorer.virtual.card (SELECT, GET
CHALLENGE, an echo command) with the --atr given.
"""

from __future__ import annotations

import argparse

from explorer.core.hexfmt import to_hex
from explorer.virtual.card import DEFAULT_ATR
from explorer.virtual.vpcd import DEFAULT_PORT


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("emulate", help="present a virtual card to pcscd through vpcd")
    p.add_argument("profile", nargs="?", metavar="PROFILE",
                   help="card profile file, or 'demo' (default: a small card with --atr)")
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                   help=f"vpcd port of the reader, 1 to 65535 (default {DEFAULT_PORT})")
    p.add_argument("--host", default="127.0.0.1", help="vpcd host (default 127.0.0.1)")
    p.add_argument("--atr", help=f"card ATR in hex (default {to_hex(DEFAULT_ATR)})")
    p.set_defaults(run=run)


def port_number(text: str) -> int:
    """A TCP port from the command line; argparse turns the error into exit 2 with the message."""
    # isascii: int() also reads other scripts' digits.
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1 to 65535)")
    return port


def run(args: argparse.Namespace) -> int:
    # Every start builds the parser, the window's included: profiles are imported when it runs.
    from explorer.cli.run_emulate import run_emulate

    return run_emulate(args)
