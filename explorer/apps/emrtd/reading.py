"""Reading an LDS file: SELECT by FID, then READ BINARY of its first bytes for the length its
template declares, then the rest in chunks small enough that a secure-messaging answer (the data
padded, DO87, DO99 and an 8-byte MAC in DO8E) still fits a short APDU's 256 bytes."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.emrtd.constants import Ins, Sw
from explorer.apps.findings import Finding, Source
from explorer.apps.session import AnalysisSession, Answer

#: 0xDF data bytes padded to 0xE0: 87 81 E1 01 + 224, 99 02 90 00, 8E 08 + MAC: 242 bytes.
CHUNK = 0xDF
#: READ BINARY with an even INS reaches offsets up to 15 bits (ISO/IEC 7816-4 11.3.3).
MAX_OFFSET = 0x7FFF
_HEAD = 4


@dataclass(frozen=True)
class Content:
    """A file's bytes as read: pieces of exchange data, each (answer, where it starts in the file).
    `sw` is the last READ BINARY's status; `declared` the length the template announces."""

    @property
    def whole(self) -> bool:
        return len(self.data) == self.declared

    pieces: tuple[tuple[Answer, int], ...]
    sw: int
    declared: int = 0

    @property
    def data(self) -> bytes:
        return b"".join(a.data for a, _ in self.pieces)

    def source(self, start: int, end: int) -> Source | None:
        """Where bytes start..end of the file are, when one exchange holds them all."""
        for answer, at in self.pieces:
            if at <= start and end <= at + len(answer.data) and end > start:
                return Source(answer.index, start - at, end - at)
        return None

    def at(self, start: int, end: int, name: str, value: str = "", explanation: str = "",
           children: list[Finding] | tuple[Finding, ...] = (), *, sensitive: bool = False,
           keep_raw: bool = False, image: str = "") -> Finding:
        """A finding for bytes start..end of the file: with its source and raw bytes when one
        answer holds them. `keep_raw`: the bytes even when they span answers (the face image,
        which the panel shows from them); otherwise a data group would be in a report thrice."""
        source = self.source(start, end)
        raw = self.data[start:end] if source is not None or keep_raw else b""
        return Finding(name, value, explanation, source, raw, sensitive, tuple(children), image)


def single(answer: Answer) -> Content:
    return Content(((answer, 0),), answer.sw, len(answer.data))


def select_fid(session: AnalysisSession, fid: int) -> Answer:
    """SELECT an EF of the current DF by its FID, no answer data asked (P1 02, P2 0C)."""
    return session.send(bytes([0x00, Ins.SELECT, 0x02, 0x0C, 0x02]) + fid.to_bytes(2, "big"))


def declared_length(head: bytes) -> int | None:
    """The whole length (tag, length, value) a BER-TLV header at the start of `head` declares,
    or None when `head` holds no complete header."""
    if not head or head[0] in (0x00, 0xFF):
        return None
    pos = 1
    if head[0] & 0x1F == 0x1F:
        while pos < len(head) and head[pos] & 0x80:
            pos += 1
        pos += 1
    if pos >= len(head):
        return None
    first = head[pos]
    if first < 0x80:
        return pos + 1 + first
    count = first & 0x7F
    if count == 0 or count > 3 or pos + 1 + count > len(head):
        return None
    return pos + 1 + count + int.from_bytes(head[pos + 1 : pos + 1 + count], "big")


def read_binary(session: AnalysisSession, offset: int, length: int) -> Answer:
    le = length if length < 256 else 0
    return session.send(bytes([0x00, Ins.READ_BINARY, offset >> 8, offset & 0xFF, le]))


def read_file(session: AnalysisSession) -> Content:
    """The current EF's template, whole: the first bytes for its length, then the rest. A card
    that stops early (an error, an empty or short answer) ends the reading with what it gave."""
    first = read_binary(session, 0, _HEAD)
    pieces = [(first, 0)]
    if first.sw not in (Sw.OK, Sw.END_REACHED) or not first.data:
        return Content((), first.sw)
    total = declared_length(first.data)
    if total is None:
        return Content(tuple(pieces), first.sw, len(first.data))
    # Beyond 32767 READ BINARY needs the odd INS (B1) with an offset data object: not done, the
    # file is read as far as B0 reaches and reported as not read whole.
    reach = min(total, MAX_OFFSET + 1)
    got = len(first.data)
    sw = first.sw
    while got < reach:
        answer = read_binary(session, got, min(CHUNK, reach - got))
        sw = answer.sw
        if answer.sw not in (Sw.OK, Sw.END_REACHED) or not answer.data:
            break
        pieces.append((answer, got))
        got += len(answer.data)
    return Content(tuple(pieces), sw, total)
