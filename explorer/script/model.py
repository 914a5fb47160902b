"""What a script is made of, as the parser gives it: frozen, so a runner on a reader's worker
thread and the window can share one tree."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from operator import itemgetter


@dataclass(frozen=True)
class Place:
    """Where in which file: line and column count from 1, as editors do."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Level(enum.Enum):
    ERROR = "error"  # the script is not run
    WARNING = "warning"  # it runs; this may not mean what it seems


@dataclass(frozen=True)
class Diagnostic:
    place: Place
    message: str
    level: Level = Level.ERROR

    def __str__(self) -> str:
        return f"{self.place}: {self.level.value}: {self.message}"


@dataclass(frozen=True)
class Var:
    """`${NAME}` in a command: the variable's bytes go there when the command is sent."""

    name: str


HexPart = bytes | Var


@dataclass(frozen=True)
class BytePattern:
    """Bytes with wildcards: per byte a (mask, value) pair (mask F0: the high nibble counts);
    `rest_at` is where a `*` stands for any number of bytes (None: no `*`)."""

    head: tuple[tuple[int, int], ...]
    tail: tuple[tuple[int, int], ...] = ()
    rest_at: int | None = None
    #: The bytes themselves when there is no wildcard at all (most expectations): one compare.
    exact: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.rest_at is None:
            masks = bytes(map(itemgetter(0), self.head))
            if masks.count(0xFF) == len(masks):
                object.__setattr__(self, "exact", bytes(map(itemgetter(1), self.head)))

    def matches(self, data: bytes) -> bool:
        if self.exact is not None:
            return data == self.exact
        if self.rest_at is None:
            return len(data) == len(self.head) and _fits(data, self.head)
        if len(data) < len(self.head) + len(self.tail):
            return False
        return _fits(data[:len(self.head)], self.head) and _fits(data[len(data) - len(self.tail):], self.tail)


def _fits(data: bytes, pattern: tuple[tuple[int, int], ...]) -> bool:
    return all(b & mask == value for b, (mask, value) in zip(data, pattern, strict=True))


@dataclass(frozen=True)
class SwPattern:
    """Alternatives of one status word each: `61 xx | 90 00`."""

    alternatives: tuple[tuple[int, int], ...]  # (mask, value) over the 16-bit SW
    text: str

    def matches(self, sw: int) -> bool:
        # A loop, not any(): asked of every answer, and a generator costs more than the test.
        for mask, value in self.alternatives:  # noqa: SIM110
            if sw & mask == value:
                return True
        return False


class Compare(enum.Enum):
    EXACTLY = "=="
    AT_LEAST = ">="


@dataclass(frozen=True)
class Expectation:
    """What the answer to one command must be; every part present must hold."""

    sw: SwPattern | None = None
    data: BytePattern | None = None
    data_text: str = ""
    length: tuple[Compare, int] | None = None
    tlv: tuple[tuple[tuple[int, ...], BytePattern | None, str], ...] = ()  # (tag path, value, text)

    @property
    def empty(self) -> bool:
        return self.sw is None and self.data is None and self.length is None and not self.tlv

    @functools.cached_property  # once per script line, not once per command sent
    def text(self) -> str:
        """The expectation as reports show it, one `expect` line's words per part joined by "; ":
        patterns as written, tag paths and lengths in one spelling (`sw 90 00; tlv 6F/84 = F0 *`)."""
        parts = [f"sw {self.sw.text}"] if self.sw is not None else []
        if self.data is not None:
            parts.append(f"data {self.data_text}")
        if self.length is not None:
            parts.append(f"length {'>= ' if self.length[0] is Compare.AT_LEAST else ''}{self.length[1]}")
        for path, value, text in self.tlv:
            tags = "/".join(f"{tag:02X}" for tag in path)
            parts.append(f"tlv {tags} = {text}" if value is not None else f"tlv {tags}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Capture:
    """Response data bytes into a variable: `data[offset:offset+length]` (length None: to the
    end), or the value of the TLV element at `tlv_path`."""

    name: str
    place: Place
    offset: int = 0
    length: int | None = None
    tlv_path: tuple[int, ...] = ()


@dataclass(frozen=True)
class Command:
    place: Place
    parts: tuple[HexPart, ...]
    raw: bool = False  # sent exactly as written, without the APDU check
    secret: bool = False  # marked as carrying a PIN or key (also recognised by INS when sent)
    expect: Expectation = Expectation()
    captures: tuple[Capture, ...] = ()
    get_response: bool = True
    resend: bool = True
    source: str = ""  # the command as written, continuations joined


@dataclass(frozen=True)
class Reset:
    place: Place
    cold: bool = False
    atr: BytePattern | None = None
    atr_text: str = ""


@dataclass(frozen=True)
class Delay:
    place: Place
    ms: int


@dataclass(frozen=True)
class SetVar:
    place: Place
    name: str
    parts: tuple[HexPart, ...]


@dataclass(frozen=True)
class Exit:
    place: Place


@dataclass(frozen=True)
class Repeat:
    place: Place
    count: int
    body: tuple[Step, ...]


@dataclass(frozen=True)
class Case:
    """A named block: a test case in reports. `keep_going`: a failure does not end the block."""

    place: Place
    name: str
    requirement: str = ""
    keep_going: bool = False
    body: tuple[Step, ...] = ()


Step = Command | Reset | Delay | SetVar | Exit | Repeat | Case


@dataclass(frozen=True)
class Script:
    file: str
    steps: tuple[Step, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    includes: tuple[str, ...] = ()  # files included, as written

    @property
    def ok(self) -> bool:
        return not any(d.level is Level.ERROR for d in self.diagnostics)
