"""The journal: one append-only JSON Lines file per session, written record by
record as the trace grows.

Each record is one `os.write` of a whole line on an O_APPEND descriptor, with
no buffer in this process: when the app is killed (SIGKILL included) every
record already appended is in the kernel's hands, and at most the one being
written is cut short. The reader stops at a cut-short last line and says so.
Files and their directory are created readable by the user only: a trace holds
PINs and keys. The directory is the app's own, so one that exists with wider
permissions (0777) is tightened to 0700.

A write that fails (the disk is full, the file system went read-only) stops
the journal for the rest of the session: `error` says why, and nothing more is
written. It does not retry: a journal that went on after a gap would read back
as a whole session with records silently missing, while one that stops is a
true beginning of it. The store keeps every record in memory, so an export
once there is room saves the whole session.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from explorer.private_files import private_dir
from explorer.trace import jsonl
from explorer.trace.records import TraceRecord

SUFFIX = ".jsonl"
log = logging.getLogger(__name__)


def trace_dir() -> Path:
    """Where session journals live: the user's data directory."""
    return Path(platformdirs.user_data_dir("card-explorer", appauthor=False)) / "traces"


class Journal:
    """Append-only writer. `write` is called with the store's lock held, so
    lines land in sequence order; it does no locking of its own.

    Creating one raises OSError when the header cannot be written (no file is
    left behind); a later write that fails stops it instead (`error`)."""

    def __init__(self, path: Path, **header: Any) -> None:
        private_dir(path.parent)
        self.path = path
        self.error: OSError | None = None
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            _write_all(fd, jsonl.header(**header).encode())
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        self._fd: int | None = fd

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

    def write(self, line: str) -> bool:
        """Append one whole line; False when nothing was written (stopped or closed)."""
        if self._fd is None:
            return False
        try:
            _write_all(self._fd, line.encode())
        except OSError as e:
            self._stop(e)
            return False
        return True

    def append(self, record: TraceRecord) -> bool:
        return self.write(jsonl.encode(record))

    def _stop(self, error: OSError) -> None:
        self.error = error
        self.close()
        # Once, without a traceback: the window tells the user (TraceStore.on_journal_failure).
        log.error("the journal %s stopped: %s; the trace goes on in memory only", self.path,
                  error.strerror or error)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):  # nothing is buffered here: nothing is lost
                os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    while written < len(data):  # a regular file takes it all unless the disk is full
        data = data[written:]
        written = os.write(fd, data)


@dataclass(frozen=True)
class JournalContents:
    path: Path
    header: dict[str, Any]
    records: tuple[TraceRecord, ...]
    problems: tuple[str, ...]  # lines skipped, and why
    cut_short: bool  # the last line was being written when the app stopped


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding="utf-8", errors="replace", newline="\n") as f:
        yield from enumerate(f, 1)


def read_journal(path: Path) -> JournalContents:
    """Every whole record of a journal (or a JSON Lines export), in file order.
    A bad line in the middle is skipped and listed in `problems`; raises
    jsonl.TraceFormatError only when the file has no trace header."""
    header: dict[str, Any] | None = None
    records: list[TraceRecord] = []
    problems: list[str] = []
    cut_short = False
    for number, line in _lines(path):
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
