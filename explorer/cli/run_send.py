"""What `card-explorer send` does; its arguments are in explorer.cli.send, which every start
imports (the window's too), so APDU parsing, status words and PC/SC are imported only here."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from explorer.cli.bad_input import BadInput, pointer
from explorer.cli.send import PROG
from explorer.core import card_errors as ce
from explorer.core.apdu import ApduError, parse_apdu
from explorer.core.exchange import Exchange, Origin, Reply, TransmitOptions
from explorer.core.hexfmt import HexError, byte_columns, parse_hex, to_hex
from explorer.core.link_modes import Protocol
from explorer.core.printable import printable
from explorer.core.status_words import Severity, SwExplanation, explain
from explorer.core.sw_checks import DEFAULT_CHAIN, Verdict

# -- input ------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    number: int  # 1-based, across arguments and stdin
    text: str  # as typed (a stdin line without its comment)
    raw: bytes
    name: str | None
    line: int | None = None  # stdin line number

    @property
    def label(self) -> str:
        return _label(self.number, self.line)


def _label(number: int, line: int | None) -> str:
    return f"APDU {number}" + (f" (stdin line {line})" if line is not None else "")


def _sources(args: list[str], stdin: TextIO) -> Iterable[tuple[str, int | None]]:
    read_stdin = False
    for arg in args:
        if arg != "-":
            yield arg, None
            continue
        if read_stdin:
            raise BadInput("'-' (read APDUs from stdin) may be given once only")
        read_stdin = True
        for number, line in enumerate(stdin, 1):
            text = line.split("#", 1)[0].rstrip()
            if text.strip():
                yield text, number


def read_commands(args: list[str], stdin: TextIO, *, short_only: bool = False) -> list[Command]:
    """Every APDU parsed and checked, or BadInput naming the first bad one and where it is wrong."""
    out: list[Command] = []
    for text, line in _sources(args, stdin):
        number = len(out) + 1
        label = _label(number, line)
        try:
            raw = parse_hex(text)
            name = parse_apdu(raw, max_short_only=short_only).name
        except HexError as exc:
            raise BadInput(f"{label}: {exc}\n{pointer(text, exc.position)}") from None
        except ApduError as exc:
            raise BadInput(f"{label}: {exc}\n{_byte_pointer(text, exc.start, exc.end)}") from None
        out.append(Command(number, text, raw, name, line))
    if not out:
        raise BadInput("no APDU to send (stdin had only blank lines and comments)")
    return out


def check_short(commands: Iterable[Command]) -> None:
    """BadInput for the first command that needs extended lengths, which T=0 cannot carry."""
    for cmd in commands:
        try:
            parse_apdu(cmd.raw, max_short_only=True)
        except ApduError as exc:
            raise BadInput(f"{cmd.label}: {exc}\n{_byte_pointer(cmd.text, exc.start, exc.end)}") from None


def _byte_pointer(text: str, start: int, end: int) -> str:
    columns = byte_columns(text)
    if start >= len(columns):  # the fault is a missing byte: point just past the end
        return pointer(text, len(text.rstrip()) + (1 if text.strip() else 0), 0)
    last = columns[min(end, len(columns)) - 1]
    return pointer(text, columns[start][0], last[1])


# -- output -----------------------------------------------------------------------


def _sw_hex(sw: int | None) -> str | None:
    return None if sw is None else f"{sw >> 8:02X} {sw & 0xFF:02X}"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def exchange_json(e: Exchange) -> dict[str, object]:
    return {
        "command": to_hex(e.command),
        "response": to_hex(e.response),
        "sw": _sw_hex(e.sw),
        "origin": e.origin.value,
        "duration_ms": _ms(e.duration),
        "error": e.error,
    }


def command_json(cmd: Command, exchanges: Iterable[Exchange], reply: Reply | None,
                 error: ce.CardError | None) -> dict[str, object]:
    sw_info = explain(reply.sw, cmd.raw) if reply is not None else None
    return {
        "command": to_hex(cmd.raw),
        "name": cmd.name,
        "exchanges": [exchange_json(e) for e in exchanges],
        "data": None if reply is None else to_hex(reply.data),
        "sw": None if sw_info is None else sw_info.hex,
        "severity": None if sw_info is None else sw_info.severity.name.lower(),
        "explanation": None if sw_info is None else sw_info.text,
        "error": None if error is None else str(error),
    }


def _sw_line(info: SwExplanation) -> str:
    return f"SW {info.hex}: {info.text} [{info.severity.name.lower()}]"


def exchange_lines(cmd: Command, e: Exchange) -> list[str]:
    automatic = e.origin is not Origin.CLI
    indent = "  " if automatic else ""
    label = e.origin.value if automatic else cmd.name
    lines = [f"{indent}> {to_hex(e.command)}" + (f"  [{label}]" if label else "")]
    took = f"({e.duration * 1000:.2f} ms)"
    if e.error is not None:
        lines.append(f"{indent}< no answer: {e.error}  {took}")
    else:
        lines.append(f"{indent}< {to_hex(e.response)}  {took}")
        if e.sw is not None:
            lines.append(f"{indent}  {_sw_line(explain(e.sw, e.command))}")
    return lines


def command_lines(cmd: Command, exchanges: tuple[Exchange, ...], reply: Reply | None) -> list[str]:
    lines = [line for e in exchanges for line in exchange_lines(cmd, e)]
    if reply is not None and sum(1 for e in exchanges if e.data) > 1:
        parts = sum(1 for e in exchanges if e.data)
        lines.append(f"  data: {len(reply.data)} bytes joined from {parts} responses")
    if reply is not None and len(exchanges) > 1:
        # The command's outcome is its last word, judged against the command as typed.
        lines.append(f"  final {_sw_line(explain(reply.sw, cmd.raw))}")
    return lines


# -- running --------------------------------------------------------------------


def _error(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def choose_reader(wanted: str | None) -> str:
    """The reader to use: an exact name, a unique part of one, or the only reader with a card.

    Raises BadInput (exit 2) or ServiceUnavailable (exit 3).
    """
    from explorer.pcsc.snapshot import read_readers

    snapshots = read_readers()
    names = [s.name for s in snapshots]
    if wanted is not None:
        if wanted in names:
            return wanted
        matches = [n for n in names if wanted.casefold() in n.casefold()]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(names) or "none"
        if matches:
            raise BadInput(f"{wanted}: several readers match ({', '.join(matches)}); give more of the name")
        raise BadInput(f"{wanted}: no reader by this name (readers: {known})")
    with_card = [s.name for s in snapshots if s.card_present]
    if len(with_card) == 1:
        return with_card[0]
    if not names:
        raise BadInput("no reader is connected")
    if not with_card:
        raise BadInput(f"no reader has a card (readers: {', '.join(names)})")
    raise BadInput(f"cards are in {len(with_card)} readers ({', '.join(with_card)}); "
                   "choose one with --reader")


def card_exit(error: ce.CardError) -> int:
    from explorer.cli import EXIT_CARD_ERROR, EXIT_NO_SERVICE, EXIT_USAGE

    if isinstance(error, ce.ServiceGone):
        return EXIT_NO_SERVICE
    if isinstance(error, ce.UnknownReader | ce.InvalidCommand):
        return EXIT_USAGE
    return EXIT_CARD_ERROR


def run_send(args: argparse.Namespace) -> int:
    from explorer.cli import EXIT_NO_SERVICE, EXIT_OK, EXIT_SW_ERROR, EXIT_USAGE
    from explorer.pcsc.context import ServiceUnavailable
    from explorer.pcsc.session import Session

    verbose = getattr(args, "verbose", 0) > 0
    try:
        commands = read_commands(args.apdus, sys.stdin, short_only=args.protocol is Protocol.T0)
        reader = choose_reader(args.reader)
    except BadInput as exc:
        _error(str(exc))
        return EXIT_USAGE
    except ServiceUnavailable as exc:
        _error(str(exc))
        return EXIT_NO_SERVICE

    options = TransmitOptions(auto_get_response=not args.no_get_response, auto_resend=not args.no_resend)
    try:
        session = Session(reader, args.protocol, args.share, options=options, timeout=args.timeout,
                          origin=Origin.CLI)
    except ce.CardError as exc:
        _report(exc, verbose)
        return card_exit(exc)

    status = EXIT_OK
    stuck = interrupted = False
    try:
        if session.protocol is Protocol.T0 and args.protocol is not Protocol.T0:
            # The reader chose T=0, which carries short APDUs only: check again before sending any.
            try:
                check_short(commands)
            except BadInput as exc:
                _error(f"{exc} (the reader chose T=0)")
                return EXIT_USAGE
        if not args.json:
            atr = to_hex(session.atr) or "none"
            proto = session.protocol.value if session.protocol else "?"
            print(f"# {printable(reader)}  {proto} {args.share.value}  ATR {atr}")
        for i, cmd in enumerate(commands):
            if i and not args.json:
                print()
            try:
                reply = session.send(cmd.raw)
            except ce.CardError as exc:
                _show(args, cmd, exc.exchanges, None, exc)
                _report(exc, verbose)
                stuck = isinstance(exc, ce.Timeout)
                return card_exit(exc)
            _show(args, cmd, reply.exchanges, reply, None)
            if explain(reply.sw, cmd.raw).severity is Severity.ERROR:
                status = EXIT_SW_ERROR
            stop = DEFAULT_CHAIN.verdict(reply.sw, cmd.raw) is Verdict.STOP
            if stop and not args.keep_going and i + 1 < len(commands):
                left = len(commands) - i - 1
                why = DEFAULT_CHAIN.explain_verdict(reply.sw, cmd.raw)
                _error(f"{reader}: stopped at {cmd.label}: {why}; "
                       f"{left} more not sent (--keep-going sends them)")
                break
        return status
    except KeyboardInterrupt:
        interrupted = True
        raise
    except BrokenPipeError:
        # stdout closed early (`| head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return status
    finally:
        if interrupted:
            # The worker may be inside a card call: wait a moment, not for a silent card. Closed,
            # the session resets a card it had in raw, which pcscd would otherwise leave raw.
            session.close(timeout=0.5)
        elif not stuck:
            # A card that never answered keeps the worker busy: do not wait on it, just leave.
            session.close()


def _show(args: argparse.Namespace, cmd: Command, exchanges: tuple[Exchange, ...], reply: Reply | None,
          error: ce.CardError | None) -> None:
    if args.json:
        print(json.dumps(command_json(cmd, exchanges, reply, error)), flush=True)
        return
    lines = command_lines(cmd, exchanges, reply)
    if not exchanges:
        lines.insert(0, f"> {to_hex(cmd.raw)}" + (f"  [{cmd.name}]" if cmd.name else ""))
    print("\n".join(lines), flush=True)


def _report(error: ce.CardError, verbose: bool) -> None:
    _error(str(error))
    if verbose and error.detail:
        print(f"  ({error.detail})", file=sys.stderr)
