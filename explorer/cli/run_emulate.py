"""What `card-explorer emulate` does; its arguments are in explorer.cli.emulate, which every
start imports (the window's too)."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from explorer.cli.bad_input import refuse
from explorer.core.hexfmt import HexError, parse_hex, to_hex
from explorer.core.printable import printable
from explorer.virtual.card import DEFAULT_ATR, VirtualCard
from explorer.virtual.filesystem_card import profile_card
from explorer.virtual.profile import ProfileError, demo_profile, load_profile
from explorer.virtual.vpcd import VpcdLink


def run_emulate(args: argparse.Namespace) -> int:
    from explorer.cli import EXIT_OK

    if args.profile is not None:
        if args.atr is not None:
            return refuse("emulate", "--atr and PROFILE together: the profile has its ATR")
        try:
            # ProfileError is all a file can cause, whatever it holds or is (a FIFO, a device).
            profile = demo_profile() if args.profile == "demo" else load_profile(args.profile)
        except ProfileError as exc:
            return refuse("emulate", str(exc))
        atr = profile.atr
        card = VirtualCard(atr, profile_card(profile))
        print(f"profile {printable(profile.name)}", flush=True)
    else:
        try:
            atr = DEFAULT_ATR if args.atr is None else parse_hex(args.atr)
            card = VirtualCard(atr)
        except (HexError, ValueError) as exc:
            return refuse("emulate", f"bad --atr: {exc}")
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    link = VpcdLink(card, args.port, args.host, reconnect=True)
    print(f"card {to_hex(atr)} waiting for vpcd on {printable(args.host)}:{args.port} (Ctrl-C to remove)",
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
