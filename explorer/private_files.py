"""Files and folders readable by their owner only, for what the app writes at rest.

Traces, exports, logs and the settings (console history) may hold card data,
reader names and paths: each is created 0600 in a 0700 folder, and an
existing one is tightened before a byte is written (O_CREAT's mode applies
only to a new file).

`private_dir` tightens a folder that already exists, so it is only for the
app's own folders (journal, log, settings), never a folder the user picked
(an export's folder is theirs: there only the file is made private).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO


def private_dir(path: Path) -> None:
    """Create `path` (and its parents) 0700; tighten it if it exists with more."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def private_file(path: str | os.PathLike[str]) -> None:
    """Make `path` 0600, creating it empty if it is missing; its contents are left alone.

    For files another library writes (QSettings): it rewrites them through a
    temporary file that takes the old file's permissions, so they stay 0600.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        else:
            os.chmod(path, 0o600)
    finally:
        os.close(fd)


def open_private(path: str | os.PathLike[str], mode: str = "w", *, newline: str | None = None,
                 errors: str = "strict") -> TextIO:
    """A UTF-8 text file opened for writing ("w") or appending ("a"), 0600 before anything is written."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        else:
            os.chmod(path, 0o600)
        if "a" in mode:
            return open(fd, "a", encoding="utf-8", errors=errors, newline=newline)
        return open(fd, "w", encoding="utf-8", errors=errors, newline=newline)
    except BaseException:
        os.close(fd)
        raise
