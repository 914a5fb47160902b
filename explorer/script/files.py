"""Script files: how big one may be, how it is read, and where its includes are found.

One place for the command line and the window, so both refuse the same files with the same
words (a FIFO, a device, a file over the limit, text that is not UTF-8 with where it breaks).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from explorer.core.input_error import InputError
from explorer.core.input_files import read_document
from explorer.private_files import open_private
from explorer.script.parser import Loader

MAX_SCRIPT = 4 << 20  # a script is text a person wrote
SUFFIXES = (".apdu", ".script")


def read_script(path: str | Path) -> str:
    """The text of a script file; InputError (the file and what is wrong) when it cannot be one."""
    return read_document(Path(path), "script", MAX_SCRIPT)


def loader_beside(folder: Path | None) -> Loader:
    """Reads `include NAME` relative to the including script's folder. `folder` None: the script
    has never been saved, so it has no folder and nothing can be included."""

    def load(name: str) -> str:
        if folder is None:
            raise ValueError("an unsaved script has no folder to read it from: save the script first")
        try:
            return read_script(folder / name)
        except InputError as exc:  # the parser names the file already
            raise ValueError(exc.problem) from None

    return load


def write_script(path: str | Path, text: str, newline: str = "\n") -> Path:
    """`text` saved at `path` (lines ending in `newline`), private (0600: a script may hold a PIN),
    through a file beside it that replaces the old one whole, so a failed save leaves the old
    script as it was. A symbolic link is followed, not replaced. Returns the file written."""
    target = Path(os.path.realpath(path))
    temporary = target.with_name(f".{target.name}.{os.getpid()}.saving")
    try:
        with open_private(temporary, "w", newline=newline) as out:
            out.write(text)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target
