"""The journal: one append-only JSON Lines file per session, written record by
record as the trace grows.

Each record is one `os.write` of a whole line on an O_APPEND descriptor, with
no buffer in this process: when the app is killed (SIGKILL included) every
record already appended is in the kernel's hands, and at most the one being
written is cut short. The reader stops at a cut-short last line and says so.
Files and their directory are created readable by the user only: a trace holds
PINs and keys.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import platformdirs

from explorer.trace import jsonl
from explorer.trace.records import TraceRecord

SUFFIX = ".jsonl"
PROGRESS_LINES = 1024


def trace_dir() -> Path:
    """Where session journals live: the user's data directory."""
    return Path(platformdirs.user_data_dir("card-explorer", appauthor=False)) / "traces"


class Journal:
    """Append-only writer. `write` is called with the store's lock held, so
    lines land in sequence order; it does no locking of its own."""

    def __init__(self, path: Path, **header: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self.write(jsonl.header(**header))

    @classmethod
    def new_session(cls, directory: Path | None = None, **header: Any) -> Journal:
        directory = directory or trace_dir()
        stamp = time.strftime("%Y-%m-%d_%H%M%S")
        for n in range(1000):
            suffix = f"-{n}" if n else ""
            path = directory / f"{stamp}_{os.getpid()}{suffix}{SUFFIX}"
            try:
                return cls(path, started=time.time(), **header)
            except FileExistsError:
                continue
        raise FileExistsError(f"no free journal name in {directory}")

    def write(self, line: str) -> None:
        if self._fd is None:
            return
        data = line.encode()
        written = os.write(self._fd, data)
        while written < len(data):  # a regular file takes it all unless the disk is full
            data = data[written:]
            written = os.write(self._fd, data)

    def append(self, record: TraceRecord) -> None:
        self.write(jsonl.encode(record))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass(frozen=True)
class JournalContents:
    path: Path
    header: dict[str, Any]
    records: tuple[TraceRecord, ...]
    problems: tuple[str, ...]  # lines skipped, and why
    cut_short: bool  # the last line was being written when the app stopped


def _lines(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding="utf-8", errors="replace", newline="\n") as f:
        if progress is None:
            yield from enumerate(f, 1)
            return
        for number, line in enumerate(f, 1):
            if not number % PROGRESS_LINES:
                progress(cast(BinaryIO, f.buffer).tell())  # ahead by the text layer's chunk
            yield number, line


def read_journal(path: Path, progress: Callable[[int], None] | None = None) -> JournalContents:
    """Every whole record of a journal (or a JSON Lines export), in file order.
    A bad line in the middle is skipped and listed in `problems`; raises
    jsonl.TraceFormatError only when the file has no trace header.

    `progress`, if given, is called every PROGRESS_LINES lines with the bytes
    read so far; what it raises stops the reading and comes out of here."""
    header: dict[str, Any] | None = None
    records: list[TraceRecord] = []
    problems: list[str] = []
    cut_short = False
    for number, line in _lines(path, progress):
        if not line.endswith("\n"):
            cut_short = True  # only the last line can lack its newline
            break
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {number}: not JSON ({e.msg})")
            continue
        if header is None:
            if not isinstance(obj, dict) or not jsonl.is_header(obj):
                raise jsonl.TraceFormatError(f"{path.name} is not a Card Explorer trace (no header)", number)
            header = obj
            continue
        try:
            records.append(jsonl.decode(obj, number))
        except jsonl.TraceFormatError as e:
            problems.append(str(e))
    if header is None:
        raise jsonl.TraceFormatError(f"{path.name} is empty", 1)
    return JournalContents(path, header, tuple(records), tuple(problems), cut_short)


def sessions(directory: Path | None = None) -> list[Path]:
    """Past journals, newest first."""
    directory = directory or trace_dir()
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"*{SUFFIX}"), reverse=True)
