"""Reading an EMV application's data: records (by AFL, or probed when no GPO was sent), the GET
DATA counters and the transaction log, each as findings traced to their bytes."""

from __future__ import annotations

from explorer.apps.emv.constants import PROBE_RECORDS, PROBE_SFIS, Cla, Ins, Tag
from explorer.apps.emv.dol import DolEntry, parse_dol
from explorer.apps.emv.lists import AflEntry
from explorer.apps.emv.log import decode_log_record
from explorer.apps.emv.objects import decode_object
from explorer.apps.emv.selection import malformed, missing, read_record, top
from explorer.apps.findings import Finding, Source
from explorer.apps.session import AnalysisSession, Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.status_words import explain

#: GET DATA objects read from every application (Book 3 Annex A), in this order.
GET_DATA_TAGS = (Tag.ATC, Tag.LAST_ONLINE_ATC, Tag.PIN_TRY_COUNTER, Tag.LOG_FORMAT)


def get_data(tag: int) -> bytes:
    return bytes([Cla.EMV, Ins.GET_DATA, tag >> 8, tag & 0xFF, 0x00])


def status(answer: Answer, command: bytes) -> str:
    found = explain(answer.sw, command)
    return f"{found.hex}: {found.text}"


def refused(name: str, answer: Answer, command: bytes) -> Finding:
    return Finding(name, f"not available ({answer.sw >> 8:02X} {answer.sw & 0xFF:02X})",
                   f"the card answered {status(answer, command)}", Source(answer.index, 0, len(answer.data)),
                   answer.data)


def decode_record(answer: Answer, sfi: int, number: int) -> Finding:
    name = f"SFI {sfi} record {number}"
    record = top(answer.data, Tag.RECORD)
    if record is None:
        return at(answer, 0, len(answer.data), name, to_hex(answer.data),
                  missing(answer.data, "record template (70)"))
    children = [decode_object(answer, node) for node in record.children]
    bad = malformed(answer, "record")
    if bad is not None:
        children.append(bad)
    return of_node(answer, record, name, f"{len(children)} data objects",
                   "an application elementary file's record: data objects with their EMV names", children)


#: Records read by AFL at most: a real AFL names a few dozen; a garbage one could name 63 × 255.
MAX_AFL_RECORDS = 255


def read_afl(session: AnalysisSession, afl: list[AflEntry]) -> list[Finding]:
    out: list[Finding] = []
    budget = MAX_AFL_RECORDS
    for entry in afl:
        if not 1 <= entry.sfi <= 30 or not entry.first or entry.last < entry.first:
            out.append(Finding(f"SFI {entry.sfi}", "not read", "the AFL entry is not valid (Book 3 10.2: "
                               "SFI 1-30, first record at least 1, last not before first)"))
            continue
        for number in range(entry.first, entry.last + 1):
            if not budget:
                out.append(Finding("Records not read", f"beyond {MAX_AFL_RECORDS}",
                                   "the AFL names more records than any EMV card holds; the rest were "
                                   "not read"))
                return out
            budget -= 1
            command = read_record(entry.sfi, number)
            answer = session.send(command)
            out.append(decode_record(answer, entry.sfi, number) if answer.ok
                       else refused(f"SFI {entry.sfi} record {number}", answer, command))
    return out


def probe_records(session: AnalysisSession, skip: int | None) -> list[Finding]:
    """Without an AFL: records 1-16 of SFIs 1-10 (EMV's range for application files), each SFI
    until the first record the card does not give."""
    out = []
    for sfi in PROBE_SFIS:
        if sfi == skip:
            continue
        for number in range(1, PROBE_RECORDS + 1):
            answer = session.send(read_record(sfi, number))
            if not answer.ok:
                break
            out.append(decode_record(answer, sfi, number))
    return out


def read_get_data(session: AnalysisSession) -> tuple[list[Finding], dict[int, bytes]]:
    """The GET DATA objects, and the values of those the card gave."""
    out: list[Finding] = []
    values: dict[int, bytes] = {}
    for tag in GET_DATA_TAGS:
        command = get_data(tag)
        answer = session.send(command)
        node = top(answer.data, tag) if answer.ok else None
        if node is None:
            out.append(refused(f"GET DATA {tag:04X}", answer, command) if not answer.ok
                       else at(answer, 0, len(answer.data), f"GET DATA {tag:04X}", to_hex(answer.data),
                               f"the answer does not hold data object {tag:04X}"))
            continue
        values[tag] = node.value
        out.append(decode_object(answer, node))
    return out, values


def read_atc_after(session: AnalysisSession) -> Finding:
    """GET DATA 9F36 again after the GPO: the ATC it incremented."""
    command = get_data(Tag.ATC)
    answer = session.send(command)
    node = top(answer.data, Tag.ATC) if answer.ok else None
    if node is None:
        return refused("ATC after GPO", answer, command)
    found = decode_object(answer, node)
    return Finding("ATC after GPO", found.value, "GET DATA 9F36 after GET PROCESSING OPTIONS: one more than "
                   "before for each GPO", found.source, found.raw)


def read_log(session: AnalysisSession, entry: bytes, log_format: bytes | None) -> Finding:
    if len(entry) != 2 or not 1 <= entry[0] <= 30:
        return Finding("Transaction log", "not read",
                       f"the log entry 9F4D {to_hex(entry)} names no valid SFI")
    sfi, count = entry
    if log_format is None:
        return Finding("Transaction log", f"SFI {sfi}, not decoded",
                       "the card gave no log format (GET DATA 9F4F), so its records cannot be split")
    fields: list[DolEntry] = parse_dol(log_format)[0]
    records = []
    for number in range(1, count + 1):
        command = read_record(sfi, number)
        answer = session.send(command)
        if not answer.ok:
            if answer.sw != 0x6A83:
                records.append(refused(f"Log record {number}", answer, command))
            break
        records.append(decode_log_record(answer, number, fields))
    return Finding("Transaction log", f"SFI {sfi}, {len(records)} of at most {count} records",
                   "the last transactions, newest first, as the card logged them (Book 3 Annex D)",
                   children=tuple(records))
