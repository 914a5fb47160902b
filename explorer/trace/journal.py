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
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from explorer.core.input_error import InputError
from explorer.core.json_lines import BadLine, JsonLines
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

    def __init__(self, path: Path, encode: Callable[[TraceRecord], str] = jsonl.encode,
                 **header: Any) -> None:
        """A new file at `path` (0600; an existing file is refused). `encode` gives a record's
        line (a journal handed on masks its secrets: see export.jsonl_line)."""
        self.path = path
        self._encode = encode
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
    def new_session(cls, directory: Path | None = None,
                    encode: Callable[[TraceRecord], str] = jsonl.encode, **header: Any) -> Journal:
        """A journal under a new name in `directory` (default the user's data folder)."""
        directory = directory or trace_dir()
        private_dir(directory)  # the app's own folder (never one a user picked)
        stamp = time.strftime("%Y-%m-%d_%H%M%S")
        for n in range(1000):
            suffix = f"-{n}" if n else ""
            path = directory / f"{stamp}_{os.getpid()}{suffix}{SUFFIX}"
            try:
                return cls(path, encode, started=time.time(), **header)
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
        return self.write(self._encode(record))

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


MAX_LINE = 1 << 20  # a line holds one record: two extended APDUs in hex are some 400 KB
MAX_SIZE = 1 << 30  # some four million records, over a gigabyte in memory
MAX_PROBLEMS = 100  # messages kept; every bad line is counted


@dataclass(frozen=True)
class JournalContents:
    path: Path
    header: dict[str, Any]
    records: tuple[TraceRecord, ...]
    problems: tuple[str, ...]  # lines skipped, and why (the first MAX_PROBLEMS of them)
    cut_short: bool  # the last line was being written when the app stopped
    bad_lines: int = 0  # lines skipped, all of them


def read_journal(path: Path, progress: Callable[[int], None] | None = None) -> JournalContents:
    """Every whole record of a journal (or a JSON Lines export), in file order.

    A bad line after the header is skipped and listed in `problems`. Raises
    jsonl.TraceFormatError, whose text names the file and the place, for a file that is
    no trace at all: not a regular file (a FIFO, a device: refused before it is opened for
    reading), over MAX_SIZE, not JSON Lines (CSV, text, UTF-16, binary), empty, without
    the header or of another version; also when it cannot be opened. Nothing else: what
    it returns is safe for every consumer of records.

    `progress`, if given, is called with the bytes read so far after each chunk the reader
    takes in; what it raises stops the reading and comes out of here (the GUI cancels so)."""
    name = path.name
    lines = JsonLines(path, jsonl.WHAT, max_line=MAX_LINE, max_size=MAX_SIZE, progress=progress)
    header: dict[str, Any] | None = None
    records: list[TraceRecord] = []
    problems: list[str] = []
    bad_lines = 0
    shared: dict[str, str] = {}
    try:
        with contextlib.closing(iter(lines)) as stream:
            for number, value in stream:
                if header is None:
                    if isinstance(value, BadLine):
                        raise jsonl.TraceFormatError(f"not a {jsonl.WHAT}: {value.error.problem}", number,
                                                     source=name)
                    try:
                        header = jsonl.check_header(value)
                    except InputError as exc:
                        raise exc.recast(jsonl.TraceFormatError, name, number) from None
                    continue
                try:
                    if isinstance(value, BadLine):
                        raise value.error
                    records.append(jsonl.decode(value, number, name, shared))
                except InputError as exc:
                    bad_lines += 1
                    if len(problems) < MAX_PROBLEMS:
                        problems.append(str(exc.recast(jsonl.TraceFormatError, name, number)))
    except InputError as exc:
        if isinstance(exc, jsonl.TraceFormatError):
            raise
        raise exc.recast(jsonl.TraceFormatError, exc.source or name) from None
    if header is None:
        what = "holds only a line cut short" if lines.cut_short else "is empty"
        raise jsonl.TraceFormatError(f"the file {what}: a {jsonl.WHAT} starts with a header line",
                                     source=name)
    return JournalContents(path, header, tuple(records), tuple(problems), lines.cut_short, bad_lines)


def sessions(directory: Path | None = None) -> list[Path]:
    """Past journals, newest first."""
    directory = directory or trace_dir()
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"*{SUFFIX}"), reverse=True)
