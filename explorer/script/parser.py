"""The script parser: text in, a Script (steps and diagnostics) out, never an exception.

Line by line, as scriptor reads: `#` in column 1 is a comment, a trailing `\\` continues the
line, and a line that is not one of this language's keyword lines is scriptor's: it ends the
script if it holds "exit" and resets the card if it holds "reset" (anywhere, any case, as
scriptor matches them), else it is a command in hex. Keyword lines add expectations, captures,
variables, blocks and test cases (docs/scripts.md has the grammar).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from explorer.core.apdu import ApduError, parse_apdu
from explorer.core.hexfmt import HexError, byte_columns, parse_hex
from explorer.script import lines
from explorer.script.lines import NAME, LineError
from explorer.script.model import (
    Case,
    Command,
    Delay,
    Diagnostic,
    Exit,
    HexPart,
    Level,
    Place,
    Repeat,
    Reset,
    Script,
    SetVar,
    Step,
    Var,
)
from explorer.script.patterns import PatternError, byte_pattern

#: Reads an included file's text; raises OSError or ValueError with a message.
Loader = Callable[[str], str]

KEYWORDS = frozenset({"reset", "exit", "delay", "set", "repeat", "end", "include", "test", "raw",
                      "secret", "expect", "capture", "option"})
MAX_DELAY_MS = 3_600_000
MAX_REPEAT = 1_000_000
MAX_INCLUDE_DEPTH = 8
_VAR = re.compile(r"\$\{([^}]*)\}")


def _ascii_lower(text: str) -> str:
    """Lower case as scriptor (Perl on bytes) matches "exit" and "reset": ASCII letters only."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


class _Skip(Exception):
    """A line under a command that could not be read: nothing more to say about it."""


@dataclass
class _Line:
    """A logical line: physical lines joined by trailing backslashes, with where each came from."""

    text: str
    file: str
    pieces: list[tuple[int, int, int]]  # (start in text, physical line, column offset)

    def place(self, at: int = 0) -> Place:
        line, column = self.pieces[0][1], 1 + self.pieces[0][2] + at
        for start, number, offset in self.pieces:
            if at >= start:
                line, column = number, 1 + offset + at - start
        return Place(self.file, line, column)


def _logical_lines(text: str, file: str) -> Iterable[_Line]:
    # A continued line is joined once at its end: adding to a string piece by piece would copy
    # it again for every piece (a long extended APDU written over hundreds of lines).
    parts: list[str] = []
    pieces: list[tuple[int, int, int]] = []
    size = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if not parts and (line.startswith("#") or not line.strip()):
            yield _Line(line, file, [(0, number, 0)])
            continue
        if line.endswith("\\"):
            # As scriptor: the backslash goes and the spaces before it become one.
            body = line[:-1].rstrip(" ") + " "
            pieces.append((size, number, 0))
            parts.append(body)
            size += len(body)
            continue
        if not parts:
            yield _Line(line, file, [(0, number, 0)])
            continue
        pieces.append((size, number, 0))
        parts.append(line)
        yield _Line("".join(parts), file, pieces)
        parts, pieces, size = [], [], 0
    if parts:
        yield _Line("".join(parts), file, pieces)


@dataclass
class _Block:
    kind: str  # "script", "repeat", "test"
    place: Place
    steps: list[Step] = field(default_factory=list)
    count: int = 0
    name: str = ""
    requirement: str = ""
    keep_going: bool = False


class _Parser:
    def __init__(self, file: str, known: Iterable[str], load: Loader | None, chain: tuple[str, ...]) -> None:
        self.file = file
        self.known = set(known)
        self.load = load
        self.chain = chain
        self.diagnostics: list[Diagnostic] = []
        self.includes: list[str] = []
        self.blocks = [_Block("script", Place(file, 1))]
        self.ended = False
        # A command line that could not be read: what belongs under it is not reported again.
        self.broken_command = False

    # -- driving -------------------------------------------------------------------------

    def run(self, text: str) -> Script:
        for line in _logical_lines(text, self.file):
            if self.ended:
                break
            try:
                self._line(line)
            except _Skip:
                continue
            except LineError as fail:
                self.diagnostics.append(Diagnostic(line.place(fail.at), str(fail)))
                word = line.text.split(None, 1)[0].lower() if line.text.strip() else ""
                self.broken_command = word not in KEYWORDS or word in ("raw", "secret")
        while len(self.blocks) > 1:
            block = self.blocks.pop()
            self.diagnostics.append(Diagnostic(block.place, f"this {block.kind} block has no `end`"))
            self._close(block)
        return Script(self.file, tuple(self.blocks[0].steps), tuple(self.diagnostics), tuple(self.includes))

    def _line(self, line: _Line) -> None:
        text = line.text
        if not text.strip():
            return
        if text.startswith("#"):
            if "exit" in _ascii_lower(text):
                self._warn(line, 0, 'scriptor ends a script at any line holding "exit", a comment too: '
                                    "so does this one")
                self._add(Exit(line.place()))
                self.ended = True
            return
        stripped = text.lstrip()
        indent = len(text) - len(stripped)
        word = stripped.split(None, 1)[0].lower()
        if word in KEYWORDS:
            rest_at = indent + len(word)
            getattr(self, "_kw_" + word)(line, text[rest_at:], rest_at)
            return
        # A scriptor line.
        lowered = _ascii_lower(text)
        if "exit" in lowered:
            self._add(Exit(line.place(indent)))
            self.ended = True
            return
        if "reset" in lowered:
            self._add(Reset(line.place(indent)))
            return
        parts = self._hex(text, 0, line)
        self._check_apdu(parts, text, line)
        self._add(Command(line.place(indent), parts, source=stripped.rstrip()))

    # -- helpers -------------------------------------------------------------------------

    def _warn(self, line: _Line, at: int, message: str) -> None:
        self.diagnostics.append(Diagnostic(line.place(at), message, Level.WARNING))

    def _add(self, step: Step) -> None:
        self.blocks[-1].steps.append(step)
        self.broken_command = False

    def _hex(self, text: str, offset: int, line: _Line) -> tuple[HexPart, ...]:
        """Hex with ${NAME} anywhere: literal bytes and variables, in order."""
        if "$" not in text:  # no variable: most lines
            literal = self._literal(text, offset)
            if not literal:
                raise LineError("no command here: hex bytes expected", offset)
            return tuple(literal)
        parts: list[HexPart] = []
        start = 0
        for match in _VAR.finditer(text):
            parts.extend(self._literal(text[start:match.start()], offset + start))
            name = match.group(1)
            if not NAME.match(name):
                raise LineError(f"${{{name}}} is not a variable name (letters, digits, _)",
                            offset + match.start())
            if name not in self.known:
                raise LineError(f"${{{name}}} is not set before this line: set it with `set {name} = …`, "
                            f"a capture, or --var {name}=HEX", offset + match.start())
            parts.append(Var(name))
            start = match.end()
        parts.extend(self._literal(text[start:], offset + start))
        if not parts:
            raise LineError("no command here: hex bytes expected", offset)
        return tuple(parts)

    @staticmethod
    def _check_apdu(parts: tuple[HexPart, ...], text: str, line: _Line, offset: int = 0) -> None:
        """A command written in full is checked now (case, Lc, Le), before anything is sent; one
        with variables is checked when they have values. `raw` commands are never checked."""
        if len(parts) == 1 and type(parts[0]) is bytes:
            command = parts[0]
        elif all(isinstance(part, bytes) for part in parts):
            command = b"".join(p for p in parts if isinstance(p, bytes))
        else:
            return
        try:
            parse_apdu(command)
        except ApduError as exc:
            columns = byte_columns(text)
            at = columns[min(exc.start, len(columns) - 1)][0] if columns else 0
            raise LineError(f"{exc} (write `raw` before it to send it as it is)", offset + at) from None

    @staticmethod
    def _literal(text: str, offset: int) -> list[HexPart]:
        if "$" in text:
            raise LineError("a $ starts a variable, written ${NAME}", offset + text.index("$"))
        try:
            data = parse_hex(text)
        except HexError as exc:
            # The diagnostic gives line and column: the message need not.
            message = str(exc).replace(f" at column {exc.position + 1}", "")
            raise LineError(message, offset + exc.position) from None
        return [data] if data else []

    def _last_command(self, line: _Line, at: int, what: str) -> tuple[int, Command]:
        steps = self.blocks[-1].steps
        if not steps or not isinstance(steps[-1], Command):
            if self.broken_command:
                raise _Skip  # its command's own error is reported
            raise LineError(f"{what} belongs under a command (the line right above it)", at)
        return len(steps) - 1, steps[-1]

    def _update(self, index: int, command: Command) -> None:
        self.blocks[-1].steps[index] = command

    # -- keyword lines -------------------------------------------------------------------

    def _kw_exit(self, line: _Line, rest: str, at: int) -> None:
        self._add(Exit(line.place()))
        self.ended = True

    def _kw_reset(self, line: _Line, rest: str, at: int) -> None:
        words = lines.words(rest, at)
        cold = False
        if words and words[0][0].lower() in ("cold", "warm"):
            cold = words.pop(0)[0].lower() == "cold"
        atr = None
        atr_text = ""
        if words and (words[0][0].lower() != "atr" or len(words) == 1):
            # Scriptor resets at any line holding "reset" and reads nothing else on it.
            self._warn(line, words[0][1], "read as scriptor reads it: a warm reset, the rest of the line "
                                          "ignored (reset [cold|warm] [atr PATTERN])")
            self._add(Reset(line.place()))
            return
        if words:
            start = words[1][1]
            atr_text = line.text[start:].strip()
            try:
                atr = byte_pattern(atr_text, start)
            except PatternError as exc:
                raise LineError(f"ATR pattern: {exc}", exc.at) from None
        self._add(Reset(line.place(), cold, atr, atr_text))

    def _kw_delay(self, line: _Line, rest: str, at: int) -> None:
        words = lines.words(rest, at)
        if len(words) != 1:
            raise LineError("delay takes one number of milliseconds, e.g. delay 100", at)
        self._add(Delay(line.place(), lines.number(words[0][0], words[0][1], "a delay", MAX_DELAY_MS)))

    def _kw_set(self, line: _Line, rest: str, at: int) -> None:
        name, eq, value = rest.partition("=")
        if not eq:
            raise LineError("set NAME = HEX", at)
        name = name.strip()
        if not NAME.match(name):
            raise LineError(f"{name!r} is not a variable name (letters, digits, _)", at)
        parts = self._hex(value, at + len(name) + 1 + rest.index("="), line) if value.strip() else (b"",)
        self.known.add(name)
        self._add(SetVar(line.place(), name, parts))

    def _kw_repeat(self, line: _Line, rest: str, at: int) -> None:
        words = lines.words(rest, at)
        if len(words) != 1:
            raise LineError("repeat takes a count, then the lines to repeat, then `end`", at)
        count = lines.number(words[0][0], words[0][1], "a repeat count", MAX_REPEAT)
        self.blocks.append(_Block("repeat", line.place(), count=count))

    def _kw_test(self, line: _Line, rest: str, at: int) -> None:
        if any(b.kind == "test" for b in self.blocks):
            raise LineError("a test block cannot hold another test block", at)
        match = re.match(r'\s*"([^"]*)"', rest)
        if match is None or not match.group(1).strip():
            raise LineError('test "NAME" [req ID] [continue]: the name in double quotes', at)
        block = _Block("test", line.place(), name=match.group(1).strip())
        words = lines.words(rest[match.end():], at + match.end())
        while words:
            word, where = words.pop(0)
            if word.lower() == "req" and words:
                block.requirement = words.pop(0)[0]
            elif word.lower() == "continue":
                block.keep_going = True
            else:
                raise LineError(f"{word!r}: after the name, `req ID` and `continue` may follow", where)
        self.blocks.append(block)

    def _kw_end(self, line: _Line, rest: str, at: int) -> None:
        if rest.strip():
            raise LineError("end stands alone on its line", at)
        if len(self.blocks) == 1:
            raise LineError("end without a repeat or test block to close", at - 3)
        self._close(self.blocks.pop())

    def _close(self, block: _Block) -> None:
        steps = tuple(block.steps)
        if block.kind == "repeat":
            self._add(Repeat(block.place, block.count, steps))
        else:
            self._add(Case(block.place, block.name, block.requirement, block.keep_going, steps))

    def _kw_include(self, line: _Line, rest: str, at: int) -> None:
        name = rest.strip()
        if not name:
            raise LineError("include FILE", at)
        if self.load is None:
            raise LineError("include: this script is not read from a file, so nothing can be included", at)
        if name in self.chain or len(self.chain) >= MAX_INCLUDE_DEPTH:
            raise LineError(f"include {name}: included from itself, or more than "
                                  f"{MAX_INCLUDE_DEPTH} deep", at)
        try:
            text = self.load(name)
        except (OSError, ValueError) as exc:
            raise LineError(f"include {name}: {exc}", at) from None
        inner = _Parser(name, self.known, self.load, (*self.chain, name))
        script = inner.run(text)
        self.known |= inner.known
        self.includes.extend([name, *script.includes])
        self.diagnostics.extend(script.diagnostics)
        for step in script.steps:
            self._add(step)

    def _kw_raw(self, line: _Line, rest: str, at: int) -> None:
        self._marked(line, rest, at, raw=True)

    def _kw_secret(self, line: _Line, rest: str, at: int) -> None:
        self._marked(line, rest, at, secret=True)

    def _marked(self, line: _Line, rest: str, at: int, raw: bool = False, secret: bool = False) -> None:
        words = rest.split(None, 1)
        if words and words[0].lower() in ("raw", "secret"):
            raw = raw or words[0].lower() == "raw"
            secret = secret or words[0].lower() == "secret"
            skip = rest.index(words[0]) + len(words[0])
            rest, at = rest[skip:], at + skip
        parts = self._hex(rest, at, line)
        if not raw:
            self._check_apdu(parts, rest, line, at)
        self._add(Command(line.place(), parts, raw=raw, secret=secret, source=line.text.strip()))

    def _kw_expect(self, line: _Line, rest: str, at: int) -> None:
        index, command = self._last_command(line, at, "expect")
        self._update(index, replace(command, expect=lines.read_expect(command.expect, rest, at)))

    def _kw_capture(self, line: _Line, rest: str, at: int) -> None:
        index, command = self._last_command(line, at, "capture")
        capture = lines.read_capture(rest, at, line.place)
        self.known.add(capture.name)
        self._update(index, replace(command, captures=(*command.captures, capture)))

    def _kw_option(self, line: _Line, rest: str, at: int) -> None:
        index, command = self._last_command(line, at, "option")
        self._update(index, lines.read_option(command, rest, at))


def parse_script(text: str, file: str = "<script>", *, known: Iterable[str] = (),
                 load: Loader | None = None) -> Script:
    """Read `text` (from `file`, for places). `known`: variables given from outside (--var);
    `load(name)`: an included file's text. Never raises: what is wrong is in `diagnostics`."""
    try:
        return _Parser(file, known, load, (file,)).run(text)
    except RecursionError:
        return Script(file, (), (Diagnostic(Place(file, 1), "the script nests too deeply to read"),))
