"""The script language (pure): scriptor's meaning kept, expectations, captures, blocks, errors
placed at file:line:column, and no text that makes the parser raise."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.script.model import Case, Command, Compare, Exit, Level, Repeat, Reset, SetVar, Var
from explorer.script.parser import parse_script
from explorer.script.patterns import byte_pattern, sw_pattern

SCRIPTOR = """\
# a scriptor script, as pcsc-tools ships them
reset
00A4040007A0000000031010
00 B0 00 00 \\
   10
# the next line resets: scriptor looks for "reset" anywhere
Reset the card
00 C0 00 00 12
exit
00 B0 00 00 10
"""


def commands(script: object) -> list[bytes]:
    return [b"".join(p for p in step.parts if isinstance(p, bytes))
            for step in script.steps if isinstance(step, Command)]  # type: ignore[attr-defined]


def test_a_scriptor_script_keeps_its_meaning() -> None:
    script = parse_script(SCRIPTOR, "s.apdu")
    assert script.ok, script.diagnostics
    kinds = [type(s).__name__ for s in script.steps]
    assert kinds == ["Reset", "Command", "Command", "Reset", "Command", "Exit"]
    assert commands(script) == [bytes.fromhex("00A4040007A0000000031010"), bytes.fromhex("00B0000010"),
                                bytes.fromhex("00C0000012")]
    assert script.steps[2].place.line == 4  # a continued command is placed at its first line
    assert script.steps[-1].place.line == 9  # nothing after exit


def test_exit_anywhere_even_in_a_comment_as_scriptor_does() -> None:
    script = parse_script("00 A4 00 00\n# exit codes are in the README\n00 B0 00 00 00\n", "c.apdu")
    assert isinstance(script.steps[-1], Exit) and len(commands(script)) == 1
    (warning,) = script.diagnostics
    assert warning.level is Level.WARNING and str(warning.place) == "c.apdu:2:1"


def test_expectations() -> None:
    script = parse_script("""\
00 A4 04 00 07 A0 00 00 00 04 10 10
expect 61 xx | 90 00
expect data 6F * 90
expect length >= 10
expect tlv 6F/84 = A0 00 00 00 04 10 10
expect tlv 6F/A5/50
""")
    assert script.ok, script.diagnostics
    (command,) = script.steps
    assert isinstance(command, Command)
    expect = command.expect
    assert expect.sw is not None and expect.sw.matches(0x611C) and expect.sw.matches(0x9000)
    assert not expect.sw.matches(0x6A82)
    assert expect.data is not None and expect.data.matches(bytes.fromhex("6F0190"))
    assert not expect.data.matches(bytes.fromhex("6E0190"))
    assert expect.length == (Compare.AT_LEAST, 10)
    assert [t[0] for t in expect.tlv] == [(0x6F, 0x84), (0x6F, 0xA5, 0x50)]


@pytest.mark.parametrize(("pattern", "sw", "hit"), [
    ("90 00", 0x9000, True), ("9000", 0x9000, True), ("63 Cx", 0x63C2, True), ("63 Cx", 0x6300, False),
    ("6x xx", 0x6A82, True), ("61 xx | 90 00", 0x6100, True), ("61 XX|9000", 0x9001, False),
])
def test_status_word_patterns(pattern: str, sw: int, hit: bool) -> None:
    assert sw_pattern(pattern).matches(sw) is hit


@pytest.mark.parametrize(("pattern", "data", "hit"), [
    ("6F xx", "6F 10", True), ("6F xx", "6F 10 00", False), ("6F *", "6F", True),
    ("6F * 90", "6F 01 02 90", True), ("* 90", "90", True), ("x1 2x", "31 2F", True), ("", "", True),
])
def test_byte_patterns(pattern: str, data: str, hit: bool) -> None:
    assert byte_pattern(pattern).matches(bytes.fromhex(data)) is hit


def test_captures_and_variables_feed_later_commands() -> None:
    script = parse_script("""\
set PIN = 31 32 33 34 FF FF FF FF
00 84 00 00 08
capture CHALLENGE data 0 8
00 20 00 81 08 ${PIN}
00 82 00 00 08 ${CHALLENGE}
""", known=["KEY"])
    assert script.ok, script.diagnostics
    assert isinstance(script.steps[0], SetVar)
    assert script.steps[1].captures[0].name == "CHALLENGE"  # type: ignore[union-attr]
    assert script.steps[3].parts == (bytes.fromhex("0082000008"), Var("CHALLENGE"))  # type: ignore[union-attr]


def test_blocks_and_test_cases() -> None:
    script = parse_script("""\
test "SELECT the applet" req REQ-12 continue
  00 A4 04 00 02 3F 00
  expect 90 00
  repeat 3
    00 B0 00 00 00
  end
end
""")
    assert script.ok, script.diagnostics
    (test,) = script.steps
    assert isinstance(test, Case) and test.name == "SELECT the applet"
    assert test.requirement == "REQ-12" and test.keep_going
    assert isinstance(test.body[1], Repeat) and test.body[1].count == 3


@pytest.mark.parametrize(("text", "place", "words"), [
    ("00 A4 0G 00\n", "t.apdu:1:8", "'G' is not a hex digit"),
    ("00 A4 04 00\n00 B0 ${NOPE}\n", "t.apdu:2:7", "${NOPE} is not set before this line"),
    ("expect 90 00\n", "t.apdu:1:7", "expect belongs under a command"),
    ("00 A4 04 00\nexpect 9Z 00\n", "t.apdu:2:9", "'Z' is not a hex digit or x"),
    ("00 A4 04 00\nexpect 90 | \n", "t.apdu:2:8", "'90' is not one status word"),
    ("00 A4 04 00\nexpect 90 00 | \n", "t.apdu:2:", "an empty alternative"),
    ("00 84 00 00 08\nexpect len 8\n", "t.apdu:2:8", "expect 'len'? expect sw, data, length or tlv"),
    ("repeat 3\n00 A4 04 00\n", "t.apdu:1:1", "this repeat block has no `end`"),
    ("end\n", "t.apdu:1:1", "end without a repeat or test block"),
    ("delay 1e3\n", "t.apdu:1:7", "a delay must be a whole number"),
    ("delay ９\n", "t.apdu:1:7", "a delay must be a whole number"),
    ("test no quotes\nend\n", "t.apdu:1:5", 'test "NAME"'),
    ("include other.apdu\n", "t.apdu:1:8", "not read from a file"),
    ("00 A4 \\\n   04 0G\n", "t.apdu:2:8", "'G' is not a hex digit"),
    # Checked before anything is sent: Lc says 5, two bytes follow (`raw` sends it anyway).
    ("00 A4 04 00 05 3F 00\n", "t.apdu:1:13", "byte 4 (Lc = 05) announces 5 data bytes but 2 follow"),
])
def test_errors_name_file_line_and_column(text: str, place: str, words: str) -> None:
    script = parse_script(text, "t.apdu")
    assert not script.ok
    error = next(d for d in script.diagnostics if d.level is Level.ERROR)
    assert str(error.place).startswith(place), str(error)
    assert words in error.message, str(error)


def test_include_reads_through_the_loader_and_refuses_a_cycle() -> None:
    files = {"common.apdu": "set AID = A0 00 00 00 04 10 10\ninclude loop.apdu\n",
             "loop.apdu": "include common.apdu\n"}

    def load(name: str) -> str:
        if name not in files:
            raise OSError(f"no such file: {name}")
        return files[name]

    script = parse_script("include common.apdu\n00 A4 04 00 07 ${AID}\ninclude gone.apdu\n", "main.apdu",
                          load=load)
    messages = [str(d) for d in script.diagnostics]
    assert any(m.startswith("loop.apdu:1:8") and "included from itself" in m for m in messages), messages
    assert any(m.startswith("main.apdu:3:8") and "no such file: gone.apdu" in m for m in messages), messages
    assert isinstance(script.steps[0], SetVar) and isinstance(script.steps[1], Command)


def test_raw_commands_are_not_checked() -> None:
    script = parse_script("raw 00 A4 04 00 05 3F 00\nraw secret 00 20 00 81\n")
    assert script.ok, [str(d) for d in script.diagnostics]
    assert [(s.raw, s.secret) for s in script.steps] == [(True, False), (True, True)]  # type: ignore[union-attr]


def test_reset_with_an_expected_atr() -> None:
    script = parse_script("reset cold atr 3B 8x * 89\n")
    assert script.ok, script.diagnostics
    (reset,) = script.steps
    assert isinstance(reset, Reset) and reset.cold and reset.atr is not None
    assert reset.atr.matches(bytes.fromhex("3B8E800189")) and not reset.atr.matches(bytes.fromhex("3B1189"))


_WORDS = st.sampled_from(["reset", "exit", "delay", "set", "repeat", "end", "include", "test", "raw",
                          "secret", "expect", "capture", "option", "data", "tlv", "length", ">=", "sw",
                          "atr", "cold", "${X}", "${", "}", "|", "*", "=", "\\", "#", '"', "00", "9000",
                          "6x", "A4", "0x", "／", "\u0000", "\n", " ", "\t", "\r", "req", "continue"])
_LINES = st.lists(st.one_of(_WORDS, st.text(max_size=12)), max_size=30).map(" ".join)


@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.text(max_size=200), st.lists(_LINES, max_size=8).map("\n".join)))
def test_no_text_makes_the_parser_raise(text: str) -> None:
    script = parse_script(text, "fuzz.apdu", known=["X"], load=lambda name: text)
    for diagnostic in script.diagnostics:
        assert diagnostic.place.line >= 1 and diagnostic.place.column >= 1


def test_the_documented_example_reads_cleanly() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "scripts.md").read_text(encoding="utf-8")
    example = doc.split("## Example", 1)[1].split("```", 2)[1]
    script = parse_script(example, "example.apdu", known=["PIN"])
    assert script.ok, [str(d) for d in script.diagnostics]
    assert [type(s).__name__ for s in script.steps] == ["Reset", "Case", "Case", "Repeat"]
