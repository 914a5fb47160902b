"""`card-explorer emulate [PROFILE]`: a virtual card in a vpcd reader, until Ctrl-C.

PROFILE is a card profile (JSON, see resources/cards/README.md) or `demo` for
the one shipped with the app: any PC/SC program (pcsc_scan, scriptor, another
explorer) then sees that card, file system and PINs included. Without it the
card is the small demo behaviour of explorer.virtual.card (SELECT, GET
CHALLENGE, an echo command) with the --atr given.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from explorer.core.hexfmt import HexError, parse_hex, to_hex
from explorer.virtual.card import DEFAULT_ATR, VirtualCard
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import ProfileError, demo_profile, load_profile
from explorer.virtual.vpcd import DEFAULT_PORT, VpcdLink


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("emulate", help="present a virtual card to pcscd through vpcd")
    p.add_argument("profile", nargs="?", metavar="PROFILE",
                   help="card profile file, or 'demo' (default: a small card with --atr)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"vpcd port of the reader (default {DEFAULT_PORT})")
    p.add_argument("--host", default="127.0.0.1", help="vpcd host (default 127.0.0.1)")
    p.add_argument("--atr", help=f"card ATR in hex (default {to_hex(DEFAULT_ATR)})")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explorer.cli import EXIT_OK, EXIT_USAGE

    if args.profile is not None:
        if args.atr is not None:
            print("card-explorer emulate: --atr and PROFILE together: the profile has its ATR",
                  file=sys.stderr)
            return EXIT_USAGE
        try:
            profile = demo_profile() if args.profile == "demo" else load_profile(args.profile)
        except ProfileError as exc:
            print(f"card-explorer emulate: {exc}", file=sys.stderr)
            return EXIT_USAGE
        atr = profile.atr
        card = VirtualCard(atr, FileSystemCard(profile))
        print(f"profile {profile.name}", flush=True)
    else:
        try:
            atr = DEFAULT_ATR if args.atr is None else parse_hex(args.atr)
            card = VirtualCard(atr)
        except (HexError, ValueError) as exc:
            print(f"card-explorer emulate: bad --atr: {exc}", file=sys.stderr)
            return EXIT_USAGE
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    link = VpcdLink(card, args.port, args.host, reconnect=True)
    print(f"card {to_hex(atr)} waiting for vpcd on {args.host}:{args.port} (Ctrl-C to remove)",
          flush=True)
    link.insert()
    was_connected = False
    while not done.wait(0.1):
        if link.connected.is_set() != was_connected:
            was_connected = not was_connected
            print("inserted" if was_connected else "vpcd went away; waiting", flush=True)
    link.remove()
    print("removed", flush=True)
    return EXIT_OK
