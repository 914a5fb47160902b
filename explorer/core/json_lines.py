"""JSON Lines from a file, one value at a time, in bounded memory.

The file is read in chunks and split into lines as bytes; no more than one
line (at most `max_line` bytes) and one chunk are held at a time, so a file
that is one 200 MB line costs what a short one does. A line longer than the
limit is reported as it starts and skipped to its end without being kept.
Each line is decoded by `explorer.core.json_input.loads` after a strict UTF-8
decode: a bad line becomes a `BadLine` in the stream, for the caller to skip
or refuse; only what makes the whole file unusable raises.

Before any value, the start of the file is sniffed, so that a CSV, a text
log, UTF-16 text or a binary file is called what it is ("not a Card
Explorer trace (JSON Lines expected)") rather than a pile of bad lines:
a UTF-16/32 byte order mark (or UTF-16's NUL bytes without one), a NUL
byte in the first chunk unless it comes after a first line that looks like
JSON, or a first non-blank line that does not start with "{". A UTF-8 byte
order mark is skipped; blank lines are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.core import input_files
from explorer.core.input_error import InputError
from explorer.core.input_files import foreign_encoding, open_regular, read_chunk, size_text, too_big, utf8
from explorer.core.json_input import loads, quoted


@dataclass(frozen=True)
class BadLine:
    """A line that is not a JSON value this reader can give; `error` says why (no file or line in it)."""

    error: InputError


class JsonLines:
    """Iterate for (line number, value or BadLine); a caller that stops early closes the
    iterator (it holds the file open). `cut_short` is set once the last line, without
    its newline, turned out not to be JSON: a writer stopped in the middle of it.

    `what` names the format in messages ("Card Explorer trace"); raises InputError, placed in
    the file, for a file that is not JSON Lines at all, not a regular file, or over `max_size`.
    `progress(bytes_read)` is called after each chunk."""

    def __init__(self, path: Path, what: str, *, max_line: int, max_size: int,
                 progress: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.progress = progress
        self.what = what
        self.max_line = max_line
        self.max_size = max_size
        self.cut_short = False
        self._content_seen = False

    def __iter__(self) -> Generator[tuple[int, Any], None, None]:
        name = self.path.name
        number = 0
        pending = b""  # the start of a line whose end is not read yet
        skipping = False  # inside a line over the limit, looking for its end
        total = 0
        with open_regular(self.path, self.what, self.max_size) as f:
            while chunk := read_chunk(f, name):
                if not total:
                    total = len(chunk)
                    chunk = self._sniff(chunk)
                else:
                    total += len(chunk)
                if total > self.max_size:
                    raise too_big(self.what, self.max_size, name)
                if self.progress is not None:
                    self.progress(total)  # what it raises ends the reading
                if skipping:
                    end = chunk.find(b"\n")
                    if end < 0:
                        continue
                    chunk, skipping = chunk[end + 1:], False
                lines = (pending + chunk if pending else chunk).split(b"\n")
                pending = lines.pop()
                for raw in lines:
                    number += 1
                    if len(raw) > self.max_line:
                        self._check_start(raw, number)
                        yield number, self._too_long()
                    elif raw and not raw.isspace():
                        if not self._content_seen:
                            self._check_start(raw, number)
                        yield number, self._decode(raw)
                if pending and not pending.isspace():
                    self._check_start(pending, number + 1)
                if len(pending) > self.max_line:
                    number += 1
                    pending, skipping = b"", True
                    yield number, self._too_long()
        if pending and not pending.isspace():
            number += 1
            value = self._decode(pending)
            if isinstance(value, BadLine):
                self.cut_short = True  # a whole line ends with "}": this one was being written
            else:
                yield number, value

    def _sniff(self, head: bytes) -> bytes:
        encoding = foreign_encoding(head)
        if encoding:
            raise self._not_ours(f"this is {encoding} text")
        even, odd = head[:32:2], head[1:32:2]
        if len(odd) >= 2 and (any(even) != any(odd)):  # ASCII as UTF-16: every other byte is 0
            raise self._not_ours("this is UTF-16 text (no byte order mark)")
        # JSON text holds no NUL byte. Past a first line that looks like JSON, one is a damaged
        # line (a crash can leave zeroed blocks), to skip; in or before it, the file is binary.
        first_end = head.find(b"\n")
        first = head if first_end < 0 else head[:first_end]
        nul = head.find(b"\0")
        if nul >= 0 and (nul < len(first) or not first.lstrip().startswith(b"{")):
            raise self._not_ours(f"binary data (a NUL byte at offset {nul})")
        bom = input_files.UTF8_BOM
        return head[len(bom):] if head.startswith(bom) else head

    def _check_start(self, raw: bytes, number: int) -> None:
        """The first line with something on it must open a JSON object."""
        if self._content_seen:
            return
        self._content_seen = True
        start = raw.lstrip()
        if not start.startswith(b"{"):
            text = start[:40].decode("utf-8", errors="replace").rstrip("\r")
            raise self._not_ours(f"line {number} starts with {quoted(text, 30)}")

    def _not_ours(self, why: str) -> InputError:
        return InputError(f"not a {self.what} (JSON Lines expected): {why}", source=self.path.name)

    def _too_long(self) -> BadLine:
        return BadLine(InputError(f"longer than {size_text(self.max_line)}, the most a line may have"))

    @staticmethod
    def _decode(raw: bytes) -> Any:
        try:
            return loads(utf8(raw), one_line=True)
        except InputError as exc:
            return BadLine(exc)
