"""Card names from an ATR, using pcsc-tools' `smartcard_list.txt`.

The format and the matching rules are those of pcsc-tools' ATR_analysis
(`find_card`), so a card gets the same names here as on the command line:
`#` lines are comments, empty lines end an entry, a line starting with a tab
describes the ATR line above it, and any other line is a regular expression
matched as `^line$`, ignoring case, against the ATR as upper-case hex bytes
separated by single spaces. Every matching entry counts, in file order.

Two deliberate differences: a trailing CR is dropped from each line, because
a Windows checkout of the bundled copy must not stop every ATR matching; and
a pattern Python's `re` cannot compile is listed in `problems` instead of
failing the whole file. Description lines that follow an empty line belong to
no ATR; ATR_analysis never prints them, and neither do we.

Which file (`database_paths`): the user's own list first, since they will
only pick one to get a newer list than anything installed; then the system's
pcsc-tools copy, kept up to date by the distribution; then the copy bundled
with the app, so machines without pcsc-tools (Windows, macOS) still name
cards. `load_database` is the only file I/O in `explorer.core`.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from explorer.assets import asset_path
from explorer.core.hexfmt import parse_hex, to_hex

SYSTEM_PATH = Path("/usr/share/pcsc/smartcard_list.txt")

_CONCRETE = re.compile(r"[0-9A-F]{2}(?: [0-9A-F]{2})*", re.IGNORECASE)
# Every character of such a pattern matches exactly one character, so it can
# only match an ATR text of its own length.
_FIXED_LENGTH = re.compile(r"[0-9A-F. ]*", re.IGNORECASE)

_Indexed = tuple[int, re.Pattern[str]]


@dataclass(frozen=True)
class AtrEntry:
    pattern: str
    descriptions: tuple[str, ...]
    line: int  # 1-based line of the pattern in the source file

    @property
    def is_concrete(self) -> bool:
        """A real ATR (hex bytes and single spaces), not a regular expression."""
        return _CONCRETE.fullmatch(self.pattern) is not None


@dataclass(frozen=True)
class AtrMatch:
    entry: AtrEntry
    exact: bool  # the pattern is the ATR itself, not a wildcard that covers it

    def to_json(self) -> dict[str, str | list[str]]:
        return {"pattern": self.entry.pattern, "descriptions": list(self.entry.descriptions)}


def _compile(pattern: str) -> re.Pattern[str]:
    # Built as ATR_analysis builds it (`m/^$line$/i`) rather than with
    # fullmatch: the two differ for a top-level `|`, and the list is written
    # for the Perl.
    return re.compile(f"^{pattern}$", re.IGNORECASE)


def _atr_text(atr: bytes | str) -> str:
    return to_hex(parse_hex(atr) if isinstance(atr, str) else atr)


@dataclass(frozen=True)
class AtrDatabase:
    """The entries of one list, indexed so a lookup tries only the patterns
    that could match: trying all ~4000 regexes costs ~0.3 ms a lookup, the
    index ~10 µs. Built directly, an entry `re` cannot compile raises; use
    parse() to have it reported in `problems` instead."""

    entries: tuple[AtrEntry, ...]
    source: str = "<text>"
    problems: tuple[str, ...] = ()
    _exact: dict[str, list[int]] = field(init=False, repr=False, compare=False)
    _by_length: dict[int, list[_Indexed]] = field(init=False, repr=False, compare=False)
    _general: list[_Indexed] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact: dict[str, list[int]] = {}
        by_length: dict[int, list[_Indexed]] = {}
        general: list[_Indexed] = []
        for index, entry in enumerate(self.entries):
            if entry.is_concrete:
                exact.setdefault(entry.pattern.upper(), []).append(index)
            elif _FIXED_LENGTH.fullmatch(entry.pattern):
                by_length.setdefault(len(entry.pattern), []).append((index, _compile(entry.pattern)))
            else:
                general.append((index, _compile(entry.pattern)))
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_by_length", by_length)
        object.__setattr__(self, "_general", general)

    @classmethod
    def parse(cls, text: str, source: str = "<text>") -> AtrDatabase:
        entries: list[AtrEntry] = []
        problems: list[str] = []
        # The entry being read (pattern, line, descriptions), until a line that
        # is not a description; None also drops the descriptions that follow.
        pending: tuple[str, int, list[str]] | None = None
        # A BOM from a Windows editor would otherwise glue itself to line 1; the
        # extra empty line ends the last entry.
        lines = [*text.removeprefix("\ufeff").split("\n"), ""]
        for number, raw in enumerate(lines, start=1):
            line = raw.removesuffix("\r")
            if line.startswith("\t"):
                if pending is not None:
                    pending[2].append(line[1:])
                continue
            if pending is not None:
                entries.append(AtrEntry(pending[0], tuple(pending[2]), pending[1]))
                pending = None
            if not line or line.startswith("#"):
                continue
            if not _FIXED_LENGTH.fullmatch(line):
                try:
                    _compile(line)
                except (re.error, OverflowError, RecursionError) as exc:
                    problems.append(f"line {number}: cannot compile {line!r}: {exc}")
                    continue
            pending = (line, number, [])
        return cls(tuple(entries), source, tuple(problems))

    def lookup(self, atr: bytes | str) -> tuple[AtrMatch, ...]:
        """Every entry matching `atr`, in file order. A str is hex in any case
        and spacing (what parse_hex reads); bad hex raises HexError."""
        text = _atr_text(atr)
        hits = list(self._exact.get(text, ()))
        hits.extend(i for i, rx in self._by_length.get(len(text), ()) if rx.match(text))
        # search, not match: `^` binds only to a first `|` branch, as in Perl.
        hits.extend(i for i, rx in self._general if rx.search(text))
        hits.sort()
        return tuple(
            AtrMatch(entry, entry.pattern.upper() == text) for entry in (self.entries[i] for i in hits)
        )

    def __len__(self) -> int:
        return len(self.entries)

    def concrete_atrs(self) -> list[bytes]:
        """Every ATR written out in full, in file order, each once."""
        seen: dict[bytes, None] = {}
        for entry in self.entries:
            if entry.is_concrete:
                seen.setdefault(bytes.fromhex(entry.pattern), None)
        return list(seen)


def database_paths(user_path: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where to look, best first (see the module docstring for why)."""
    paths = [Path(user_path)] if user_path is not None else []
    return [*paths, SYSTEM_PATH, asset_path("smartcard_list.txt")]


def load_database(user_path: str | os.PathLike[str] | None = None) -> AtrDatabase | None:
    """The first readable list of `database_paths`, or None if there is none."""
    for path in database_paths(user_path):
        try:
            if not path.is_file():
                continue
            data = path.read_bytes()
        except OSError:
            continue
        return AtrDatabase.parse(data.decode("utf-8", errors="replace"), source=str(path))
    return None


@functools.lru_cache(maxsize=1)
def default_database() -> AtrDatabase | None:
    """`load_database()` read once per process; `default_database.cache_clear()` re-reads."""
    return load_database(None)
