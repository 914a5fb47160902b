"""Files a user picks, read with bounded memory and time.

- A file that is not a regular file is refused from its stat, before it is
  opened for reading: a FIFO with no writer would block the reader forever,
  /dev/zero and /dev/urandom never end. The open descriptor is checked again.
- A file over the caller's size limit is refused before a byte is read; the
  count is kept while reading too, since a file may grow meanwhile.
- Text is UTF-8, decoded strictly (an encoded surrogate is refused);
  UTF-16 and UTF-32 are recognised by their byte order mark and named.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from explorer.core.input_error import InputError

CHUNK = 256 * 1024

_FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket"))
_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\xfe\xff", "UTF-16"),
         (b"\xff\xfe", "UTF-16"))
UTF8_BOM = b"\xef\xbb\xbf"
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # none on Windows, where no FIFO has a path


def size_text(size: int) -> str:
    if size < 10 * 1024:
        return f"{size} bytes"
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"


def _not_regular(mode: int) -> str:
    for test, name in _FILE_KINDS:
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: Path, what: str, max_size: int) -> BinaryIO:
    """`path` opened for reading in binary, unbuffered, once it is known to be a regular file
    of at most `max_size` bytes. Raises InputError (with the OS's reason when it cannot be opened)."""
    source = str(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise InputError(f"cannot open it: {exc.strerror or exc}", source=source) from None
    if not stat.S_ISREG(mode):
        raise InputError(f"this is {_not_regular(mode)}: a {what} is read from a regular file", source=source)
    # O_NONBLOCK: should the path have become a FIFO since the stat, the open returns at once
    # (and fstat refuses it) instead of waiting for a writer.
    flags = os.O_RDONLY | _NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"cannot open it: {exc.strerror or exc}", source=source) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"this is {_not_regular(info.st_mode)}: a {what} is read from a regular file",
                             source=source)
        if info.st_size > max_size:
            raise InputError(f"{size_text(info.st_size)} is more than a {what} may have "
                             f"({size_text(max_size)})", source=path.name)
        if _NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def read_chunk(f: BinaryIO, source: str) -> bytes:
    """The next chunk of an open file; an I/O error (a disk failing, a network file system gone)
    becomes InputError like every other reason the file cannot be used."""
    try:
        return f.read(CHUNK)
    except OSError as exc:
        raise InputError(f"cannot read it: {exc.strerror or exc}", source=source) from None


def too_big(what: str, max_size: int, source: str) -> InputError:
    return InputError(f"more than a {what} may have ({size_text(max_size)}): it grew while being read",
                      source=source)


def foreign_encoding(head: bytes | bytearray) -> str:
    """"UTF-16" or "UTF-32" when `head` starts with that encoding's byte order mark, else ""."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return ""


def utf8(raw: bytes | bytearray, multiline: bool = False) -> str:
    """Strictly decoded UTF-8; InputError names the first bad byte (line and column for a document)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start
        if multiline:
            line_start = raw.rfind(b"\n", 0, at) + 1
            line = raw.count(b"\n", 0, at) + 1
            place = f"line {line}, column {at - line_start + 1} (byte offset {at})"
        else:
            place = f"column {at + 1}"
        raise InputError(f"not UTF-8 text: byte {raw[at]:02X} at {place}") from None


def read_document(path: Path, what: str, max_size: int) -> str:
    """A whole UTF-8 file of at most `max_size` bytes, read in chunks (a file may grow while being
    read, and its size says nothing for some files); a UTF-8 byte order mark is dropped."""
    with open_regular(path, what, max_size) as f:
        data = bytearray()
        while chunk := read_chunk(f, path.name):
            data += chunk
            if len(data) > max_size:
                raise too_big(what, max_size, path.name)
    encoding = foreign_encoding(data[:4])
    if encoding:
        raise InputError(f"this is {encoding} text: a {what} is UTF-8", source=path.name)
    if data.startswith(UTF8_BOM):
        del data[:len(UTF8_BOM)]
    try:
        return utf8(data, multiline=True)
    except InputError as exc:
        raise exc.recast(InputError, path.name) from None
