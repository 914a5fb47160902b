"""`card-explorer send`: send APDUs to a card and show every exchange with its status word.

    card-explorer send --reader "Virtual PCD 00 00" "00 A4 04 00 07 A0 00 00 00 04 10 10" 80CA9F7F00
    printf '00 A4 04 00 00\\n# a comment\\n80 CA 9F 7F 00\\n' | card-explorer send -

Every APDU is checked (hex, then ISO/IEC 7816-4 structure) before the reader is
opened: one bad APDU and nothing is sent. Automatic GET RESPONSE (61xx) and
re-send (6Cxx) steps are shown as their own exchanges, indented under the
command that caused them. The run stops at the first command whose final
status word is an error, unless --keep-going.

Exit codes (see explorer.cli): 0 every final SW a success or warning, 1 an
error SW came back, 2 bad usage, bad APDU, no such reader, or no single reader
with a card to pick, 3 no PC/SC service (or it went away mid-run), 4 card
error (no card, sharing violation, card removed, protocol mismatch,
timeout...). A 61xx chain still going after 1024 GET RESPONSE steps is 4, not
1: no status word of the command's failed, the card never finished its
answer, and what came is incomplete.
"""

from __future__ import annotations

import argparse
import math

from explorer.core.link_modes import Protocol, ShareMode

PROG = "card-explorer"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "send",
        help="send APDUs to a card and explain the answers",
        description="Send command APDUs (hex) to the card in a reader and show each exchange, "
                    "including automatic GET RESPONSE and re-send steps, with its status word explained.",
        epilog="APDU is hex text, e.g. \"00 A4 04 00 07 A0 00 00 00 04 10 10\" (quote it when it has "
               "spaces) or 00A4040000; '-' reads APDUs from stdin, one per line ('#' starts a comment). "
               "Exit codes: 0 success or warning SWs, 1 an error SW, 2 bad usage/APDU/reader, "
               "3 no PC/SC service (or it went away), 4 card error (also: an answer cut short "
               "after 1024 GET RESPONSE steps).",
    )
    p.add_argument("apdus", nargs="+", metavar="APDU", help="command APDU in hex, or - for stdin")
    p.add_argument("--reader", "-r", metavar="NAME",
                   help="reader name, or a unique part of it (default: the only reader with a card)")
    p.add_argument("--protocol", type=_protocol, default=Protocol.ANY, metavar="T=0|T=1|T=0|T=1|raw",
                   help="protocol to connect with (default: T=0|T=1, the reader picks)")
    p.add_argument("--share", type=_share, default=ShareMode.SHARED, metavar="shared|exclusive",
                   help="share mode (default: shared)")
    p.add_argument("--no-get-response", action="store_true",
                   help="do not follow 61xx with GET RESPONSE")
    p.add_argument("--no-resend", action="store_true", help="do not re-send with the right Le on 6Cxx")
    p.add_argument("--json", action="store_true", help="one JSON object per command, one per line")
    p.add_argument("--keep-going", action="store_true",
                   help="go on after a command whose status word is an error")
    p.add_argument("--timeout", type=_seconds, default=60.0, metavar="S",
                   help="seconds to wait for each answer, at most 86400 (default: 60)")
    p.set_defaults(run=run, needs_pcsc=True)


def _protocol(text: str) -> Protocol:
    try:
        protocol = Protocol.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if protocol is Protocol.UNDEFINED:
        raise argparse.ArgumentTypeError("APDUs need a card protocol: use T=0, T=1, T=0|T=1 or raw")
    return protocol


def _share(text: str) -> ShareMode:
    try:
        share = ShareMode.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if share is ShareMode.DIRECT:
        raise argparse.ArgumentTypeError("APDUs go to a card: use shared or exclusive")
    return share


#: The longest --timeout: waits are handed to threading, which refuses huge (and infinite) ones.
MAX_TIMEOUT = 86400.0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_TIMEOUT:  # also refuses nan and inf ('1e400' reads as inf)
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds more than 0 and at most {MAX_TIMEOUT:.0f} (a day)")
    return value


def run(args: argparse.Namespace) -> int:
    # Every start builds the parser, the window's included: sending is imported when it runs.
    from explorer.cli.run_send import run_send

    return run_send(args)
