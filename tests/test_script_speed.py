"""What keeps a script run fast without changing what it does (bench/script.py has the figures):
`card-explorer run` builds only its own sub-parser, a command the APDU check surely passes is not
decoded again on its way to the card, and the shortcuts (hex, patterns, severity) agree with the
full readers they stand in for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core import apdu as apdu_module
from explorer.core.apdu import ApduError, parse_apdu, surely_valid
from explorer.core.hexfmt import HexError, _scan, parse_hex
from explorer.core.status_words import explain, severity
from explorer.script.patterns import PatternError, byte_pattern

ROOT = Path(__file__).resolve().parent.parent
HEXISH = st.text(alphabet="0123456789abcdefABCDEFxX \t\r\n\x0b\x0c:,$*g\u00a0\uff10", max_size=40)


def test_run_builds_only_its_own_parser() -> None:
    # `emulate`'s parser imports the virtual card (and sockets) for its defaults: a run must not pay.
    code = ("import sys\nfrom explorer.cli.parser import build_parser\n"
            "argv = ['-v', 'run', '--reader', 'R', 'x.apdu']\nargs = build_parser(argv).parse_args(argv)\n"
            "assert args.command == 'run' and args.scripts == ['x.apdu']\n"
            "print(*sorted(m for m in sys.modules if m.startswith(('explorer', 'socket'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert "explorer.cli.run" in loaded
    assert not loaded & {"explorer.cli.emulate", "explorer.virtual.card", "explorer.cli.send", "socket"}


def test_without_a_command_every_command_is_listed() -> None:
    from explorer.cli.parser import COMMANDS, build_parser

    text = build_parser(["--help-me-not"]).format_help()
    assert all(f"    {name} " in text for name in COMMANDS)


@settings(max_examples=3000)
@given(st.binary(max_size=12))
def test_surely_valid_is_only_said_of_what_parse_apdu_accepts(raw: bytes) -> None:
    if surely_valid(raw):
        parse_apdu(raw)


def test_a_checked_command_is_not_decoded_again_but_a_bad_one_is_still_refused(monkeypatch: object) -> None:
    from explorer.core.link_modes import Protocol, ShareMode
    from explorer.link import connection
    from explorer.link.connection import CardConnection
    from explorer.script.parser import parse_script
    from explorer.script.runner import Verdict, run

    class Echo:
        embedded = True
        def __init__(self) -> None:
            self.sent: list[bytes] = []

        def connect(self, protocol: Protocol, share: ShareMode) -> tuple[Protocol, bytes]:
            return Protocol.T1, b"\x3b\x00"

        def disconnect(self, disposition: object) -> None:
            return None

        def release(self) -> None:
            pass

        def transmit(self, apdu: bytes, protocol: object) -> bytes:
            self.sent.append(apdu)
            return b"\x90\x00"

    decoded: list[bytes] = []

    def counting(raw: bytes, **kwargs: bool) -> apdu_module.CommandApdu:
        decoded.append(bytes(raw))
        return parse_apdu(raw, **kwargs)

    monkeypatch.setattr(connection, "parse_apdu", counting)  # type: ignore[attr-defined]
    link = Echo()
    conn = CardConnection("Echo", link)  # type: ignore[arg-type]
    text = "00 A4 04 00 02 3F 00\n80 CA 9F 7F 00\nset X = 05\n00 B0 00 00 ${X} 02 03\n"
    script = parse_script(text, "t.apdu")
    assert script.ok
    try:
        conn.connect(Protocol.ANY, ShareMode.SHARED).result(5)
        result = conn.run_job(lambda session: run(script, session, keep_going=True)).result(5)
    finally:
        assert conn.close()
    assert [r.verdict for r in result.results] == [Verdict.PASSED, Verdict.PASSED, Verdict.ERROR]
    assert "announces 5 data bytes but 2 follow" in result.results[2].failures[0]
    assert link.sent == [bytes.fromhex("00A40400023F00"), bytes.fromhex("80CA9F7F00")]
    assert decoded == [bytes.fromhex("00B00000050203")]  # only the one the check could not vouch for


@settings(max_examples=3000)
@given(HEXISH)
def test_parse_hex_reads_what_the_scanner_reads(text: str) -> None:
    try:
        expected: bytes | str = bytes(value for value, _, _ in _scan(text))
    except HexError as exc:
        expected = str(exc)
    try:
        got: bytes | str = parse_hex(text)
    except HexError as exc:
        got = str(exc)
    assert got == expected


@settings(max_examples=3000)
@given(HEXISH)
def test_a_plain_byte_pattern_matches_as_the_wildcard_reader_would(text: str) -> None:
    from explorer.script import patterns

    try:
        fast: object = byte_pattern(text)
    except PatternError as exc:
        fast = (str(exc), exc.at)
    original = patterns._PLAIN
    try:
        patterns._PLAIN = re.compile("(?!)")  # matches nothing: the wildcard reader reads it all
        try:
            slow: object = byte_pattern(text)
        except PatternError as exc:
            slow = (str(exc), exc.at)
    finally:
        patterns._PLAIN = original
    assert fast == slow
    if not isinstance(fast, tuple):
        for data in (b"", bytes.fromhex("9000"), bytes(range(len(fast.head)))):  # type: ignore[attr-defined]
            assert fast.matches(data) == slow.matches(data)  # type: ignore[attr-defined]


def test_severity_is_the_explanations_for_every_word() -> None:
    commands = [None, b"", bytes.fromhex("0020008108"), bytes.fromhex("00A4040007A0000000041010"),
                bytes.fromhex("8050000008"), bytes.fromhex("80CA9F1700"), bytes.fromhex("002C0000")]
    for sw in range(0x10000):
        for command in commands:
            assert severity(sw, command) == explain(sw, command).severity, (hex(sw), command)


def test_a_long_continued_line_is_one_command_placed_at_its_first_line() -> None:
    from explorer.script.model import Command
    from explorer.script.parser import parse_script

    pieces = 3000
    text = ("# data over many lines\n80 EE 00 00 00 %04X \\\n" % (2 * pieces)
            + "01 02 \\\n" * (pieces - 1) + "01 02\n")
    script = parse_script(text, "long.apdu")
    assert script.ok, script.diagnostics
    (command,) = script.steps
    assert isinstance(command, Command) and command.place.line == 2
    assert command.parts == (bytes.fromhex("80EE000000%04X" % (2 * pieces)) + b"\x01\x02" * pieces,)
    bad = parse_script(text.replace("01 02\n", "01 0G\n"), "long.apdu")
    (diagnostic,) = bad.diagnostics
    assert (diagnostic.place.line, diagnostic.place.column) == (pieces + 2, 5)


_ = ApduError  # re-exported for the reader of this file: what parse_apdu raises
