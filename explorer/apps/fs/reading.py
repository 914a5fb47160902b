"""Commands the analyzer sends and how it reads an EF: SELECT, READ BINARY in bounded chunks,
READ RECORD by number until the card says there is no more. Nothing here changes a card."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from explorer.apps.findings import Finding, Source
from explorer.apps.fs.constants import REFUSALS, Ins, Sw
from explorer.apps.fs.content import Buffer, Chunks, content_findings
from explorer.apps.fs.fcp import FileInfo
from explorer.apps.session import AnalysisSession, Answer
from explorer.core.status_words import explain

#: The most a transparent EF is read (ISO/IEC 7816-4 allows more; a tester wants a look, not a dump).
MAX_FILE_BYTES = 64 * 1024
#: READ BINARY with an even INS addresses 15 bits of offset.
MAX_OFFSET = 0x7FFF
#: Record numbers 01-FE; FF is reserved.
MAX_RECORDS = 254
_CHUNK = 256


def select_fid(fid: int, p2: int = 0x04) -> bytes:
    """SELECT by file identifier (P1 00); P2 04 asks for the FCP, 00 for the FCI, 0C for nothing."""
    le = b"" if p2 == 0x0C else b"\x00"
    return bytes([0x00, Ins.SELECT, 0x00, p2, 0x02]) + fid.to_bytes(2, "big") + le


def select_name(name: bytes, p2: int = 0x04) -> bytes:
    return bytes([0x00, Ins.SELECT, 0x04, p2, len(name)]) + name + (b"" if p2 == 0x0C else b"\x00")


def select_path(path: bytes, p2: int = 0x04) -> bytes:
    """SELECT by path from the MF (P1 08): the path without the MF's own 3F00."""
    return bytes([0x00, Ins.SELECT, 0x08, p2, len(path)]) + path + (b"" if p2 == 0x0C else b"\x00")


def read_binary(offset: int, length: int) -> bytes:
    return bytes([0x00, Ins.READ_BINARY, offset >> 8 & 0x7F, offset & 0xFF, length & 0xFF])


def read_binary_sfi(sfi: int) -> bytes:
    return bytes([0x00, Ins.READ_BINARY, 0x80 | sfi, 0x00, 0x00])


def read_record(number: int, sfi: int = 0) -> bytes:
    """READ RECORD number `number` (P2 mode 100) of the current EF, or of the EF with SFI `sfi`."""
    return bytes([0x00, Ins.READ_RECORD, number, sfi << 3 | 0x04, 0x00])


def selected(answer: Answer) -> bool:
    """9000, or a warning (62xx: e.g. 6283 the file is deactivated) that still selects it."""
    return answer.ok or answer.sw >> 8 in (0x62, 0x63)


def sw_text(answer: Answer, command: bytes) -> str:
    return explain(answer.sw, command).text


def status(answer: Answer, command: bytes, name: str = "Status") -> Finding:
    """The SW of an answer: no data bytes, but the exchange it came in."""
    sw = answer.sw
    return Finding(name, f"{sw >> 8:02X} {sw & 0xFF:02X}", sw_text(answer, command),
                   Source(answer.index, 0, 0))


def access_condition(info: FileInfo | None, mode: str = "READ") -> str:
    """What the file's security attributes say about `mode`, in the words of a refusal report."""
    if info is None:
        return "no FCP: the access conditions are not known"
    condition = info.rules.conditions.get(mode)
    if condition is None:
        return f"the FCP states no access condition for {mode}"
    if condition in ("always", "never"):
        return f"{mode}: {condition}, says the FCP"
    return f"{mode} needs {condition}"


def refusal(answer: Answer, command: bytes, info: FileInfo | None) -> Finding:
    """A read the card refused, with the access condition, never answered with a VERIFY."""
    condition = access_condition(info)
    return Finding("Reading refused", f"{answer.sw >> 8:02X} {answer.sw & 0xFF:02X}",
                   f"{sw_text(answer, command)}; {condition} (not verified: a VERIFY would spend a try)",
                   Source(answer.index, 0, 0))


@dataclass
class Read:
    """What reading an EF gave: content findings, and the answer that stopped it early, if any."""

    findings: list[Finding] = field(default_factory=list)
    stopped: Finding | None = None
    stop_sw: int | None = None


def _stop(answer: Answer, command: bytes, info: FileInfo | None) -> Finding:
    if answer.sw in REFUSALS:
        return refusal(answer, command, info)
    return status(answer, command, "Reading stopped")


def read_transparent(session: AnalysisSession, info: FileInfo | None,
                     first: tuple[Answer, bytes] | None = None) -> Read:
    """READ BINARY of the current EF from offset 0 (or after `first`, an answer already read by
    SFI) in chunks of up to 256 bytes, until the FCP size, a short answer, or MAX_FILE_BYTES."""
    size = info.size if info is not None else None
    limit = min(size, MAX_FILE_BYTES) if size is not None else MAX_FILE_BYTES
    data, parts = bytearray(), []
    result = Read()
    pending = first
    while len(data) < limit:
        offset = len(data)
        if pending is None and offset > MAX_OFFSET:
            result.stopped = Finding("Reading stopped", f"{offset} bytes",
                                     "offsets above 7FFF need READ BINARY with odd INS (not sent)")
            break
        want = min(_CHUNK, limit - offset) if size is not None else _CHUNK
        if pending is not None:
            (answer, command), pending = pending, None
        else:
            command = read_binary(offset, want)
            answer = session.send(command)
        if answer.sw in (Sw.OK, Sw.END_REACHED) and answer.data:
            parts.append((answer.index, offset, len(answer.data)))
            data += answer.data
            if answer.sw == Sw.END_REACHED or len(answer.data) < want:
                break
            continue
        if answer.sw != Sw.OFFSET or offset == 0:  # 6B00 past the end of a file of unknown size: done
            result.stopped, result.stop_sw = _stop(answer, command, info), answer.sw
        break
    if data or result.stopped is None:
        buffer = Buffer(bytes(data[:limit]), Chunks(tuple(parts)))
        result.findings.append(content_findings(buffer))
    return result


def read_records(session: AnalysisSession, info: FileInfo | None, sfi: int = 0,
                 first: tuple[Answer, bytes] | None = None,
                 decode: Callable[[Buffer, str], Finding] = content_findings) -> Read:
    """READ RECORD 1, 2, … of the current EF (or by SFI) until 6A83, the FCP's record count or
    MAX_RECORDS; each record decoded on its own (by `decode`: BER-TLV, or EF.ARR's access rules)."""
    count = info.records if info is not None and info.records else MAX_RECORDS
    result = Read()
    for number in range(1, min(count, MAX_RECORDS) + 1):
        if number == 1 and first is not None:
            answer, command = first
        else:
            command = read_record(number, sfi)
            answer = session.send(command)
        if answer.sw in (Sw.OK, Sw.END_REACHED):
            buffer = Buffer(answer.data, Chunks.single(answer.index, len(answer.data)))
            result.findings.append(decode(buffer, f"Record {number}"))
            continue
        if answer.sw != Sw.RECORD_NOT_FOUND:
            result.stopped, result.stop_sw = _stop(answer, command, info), answer.sw
        elif number == 1:
            result.findings.append(status(answer, command, "No records"))
        break
    return result
