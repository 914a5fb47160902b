"""Exports of a trace: plain text to read, JSON Lines to import back, CSV for
a spreadsheet, HTML for a bug report.

Secrets (PINs, keys: see `explorer.core.sensitive`) are masked unless the
caller asks otherwise, and every format says in its header which it did, so
whoever receives a file knows whether it may be passed on. The text formats
show "••" per hidden byte; JSON Lines must stay importable, so it writes 00
bytes instead and marks the line with `"masked": [start, end]`, a key the
importer ignores.

`write_export` creates the file readable by the user only, as the journal
is: a revealed export holds the very PINs the masking exists for.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from explorer import __version__
from explorer.core.apdu import command_name
from explorer.core.hexfmt import to_hex
from explorer.core.printable import printable
from explorer.core.sensitive import hides_answer, is_marked, mask, masked_hex, may_hide, secret_span, zeroed
from explorer.core.status_words import SwExplanation, explain
from explorer.private_files import open_private
from explorer.trace import jsonl
from explorer.trace.journal import JournalContents, read_journal
from explorer.trace.records import Kind, TraceRecord

if TYPE_CHECKING:
    from explorer.core.atrdb import AtrDatabase

TITLE = "Card Explorer trace"
GENERATOR = f"card-explorer {__version__}"
CSV_COLUMNS = ("seq", "time", "reader", "kind", "origin", "command", "response", "sw", "meaning",
               "duration_ms", "protocol", "share", "error", "detail", "parent", "secrets")
CONTROL = "control"  # Origin.CONTROL: the command is a control code and its data, not an APDU


class ExportFormat(enum.StrEnum):
    TEXT = "text"
    JSONL = "jsonl"
    CSV = "csv"
    HTML = "html"

    @property
    def suffix(self) -> str:
        return {"text": ".txt", "jsonl": ".jsonl", "csv": ".csv", "html": ".html"}[self.value]


# -- what every format says about a record ------------------------------------------


def is_apdu(record: TraceRecord) -> bool:
    return record.kind is Kind.EXCHANGE and record.origin != CONTROL


def command_label(record: TraceRecord) -> str:
    """The command's usual name (SELECT, VERIFY...), or "" when it has none."""
    if not is_apdu(record) or len(record.command) < 2:
        return ""
    return command_name(record.command[0], record.command[1]) or ""


def command_hex(record: TraceRecord, reveal_secrets: bool) -> str:
    if reveal_secrets or not is_apdu(record):
        return to_hex(record.command)
    return masked_hex(record.command, is_marked(record.detail))


def personal_span(record: TraceRecord) -> tuple[int, int] | None:
    """The response bytes to hide: the data of an unwrapped answer, which is what a chip guards
    behind secure messaging (a passport's MRZ, face and personal details), or of the answer to
    an authentication (whose cryptogram gives BAC's MRZ away: core/sensitive). The status word
    stays readable, as a masked command's header does."""
    if len(record.response) <= 2 or record.kind is not Kind.EXCHANGE:
        return None
    if record.unwrapped or hides_answer(record.command, record.detail):
        return 0, len(record.response) - 2
    return None


def shown_response(record: TraceRecord, reveal_secrets: bool) -> bytes:
    """The response with its personal bytes as 00 (for hex dumps and formats that must parse)."""
    span = None if reveal_secrets else personal_span(record)
    if span is None:
        return record.response
    return bytes(span[1]) + record.response[span[1]:]


def response_hex(record: TraceRecord, reveal_secrets: bool) -> str:
    span = None if reveal_secrets else personal_span(record)
    if span is None:
        return to_hex(record.response)
    return f"{mask(record.response[:span[1]])} {to_hex(record.response[span[1]:])}"


def data_hex(record: TraceRecord, data: bytes, reveal_secrets: bool) -> str:
    """`data`, the response data a row shows for `record` (the last record of its chain)."""
    return mask(data) if data and not reveal_secrets and personal_span(record) else to_hex(data)


def explanation(record: TraceRecord) -> SwExplanation | None:
    """The status word explained with its command, or None (no SW, not an APDU)."""
    sw = record.sw
    if sw is None or not is_apdu(record):
        return None
    # The real command even when masking: the explanation is text about the
    # command, never its data bytes.
    return explain(sw, record.command)


def local_time(t: float) -> datetime:
    return datetime.fromtimestamp(t).astimezone()


def iso_time(t: float) -> str:
    return local_time(t).isoformat(timespec="microseconds")


def clock(t: float) -> str:
    # Naive local time: a clock needs no zone, and astimezone makes a zone object per call.
    return datetime.fromtimestamp(t).strftime("%H:%M:%S.%f")


def duration_ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def secrets_word(reveal_secrets: bool) -> str:
    return "revealed" if reveal_secrets else "masked"


def secrets_statement(reveal_secrets: bool) -> str:
    if reveal_secrets:
        return "secrets revealed: PINs and keys appear in clear; do not pass this file on"
    return ("secrets masked: the data of VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER, "
            "ENABLE/DISABLE VERIFICATION REQUIREMENT, PUT KEY and LOAD KEYS, the cryptograms of "
            "EXTERNAL, MUTUAL and GENERAL AUTHENTICATE and their answers, and the plain answers "
            "unwrapped from secure messaging (personal data), are shown as •• per byte")


def time_span(records: Sequence[TraceRecord]) -> str:
    if not records:
        return "no records"
    return f"{iso_time(records[0].time)} to {iso_time(records[-1].time)}"


def export_time(exported_at: float | None) -> float:
    """When the export was made: now unless a test pins it."""
    return datetime.now().timestamp() if exported_at is None else exported_at


def _one_line(text: str) -> str:
    # A reader name or error with a line break would forge lines in a line-based log.
    return printable(text)


# -- plain text ---------------------------------------------------------------------


def write_text(records: Sequence[TraceRecord], out: TextIO, *, reveal_secrets: bool = False,
               exported_at: float | None = None) -> None:
    """A log to read, like pcsc-spy's: a line pair per exchange (`>` command,
    `<` answer or `!` error) after a `#seq time reader origin` prefix,
    automatic steps indented under their command, one `--` line per event."""
    out.write(f"# {TITLE}\n"
              f"# exported {iso_time(export_time(exported_at))} by {GENERATOR}\n"
              f"# {len(records)} records, {time_span(records)}\n"
              f"# {secrets_statement(reveal_secrets)}\n"
              "# times are local; durations in milliseconds\n\n")
    day = ""
    for r in records:
        today = local_time(r.time).strftime("%Y-%m-%d")
        if today != day:
            day = today
            out.write(f"# {day}\n")
        out.write(text_lines(r, reveal_secrets))


def text_lines(r: TraceRecord, reveal_secrets: bool = False) -> str:
    """One record as it appears in the text export, newline included."""
    if r.kind is Kind.EVENT:
        link = " ".join(x for x in (r.protocol, r.share) if x)
        parts = (f"#{r.seq}", clock(r.time), r.reader, r.origin, link, r.detail)
        return "-- " + _one_line(" ".join(p for p in parts if p)) + "\n"
    indent = "    " if r.automatic else ""
    prefix = _one_line(" ".join(p for p in (f"#{r.seq}", clock(r.time), r.reader, r.origin) if p))
    name = command_label(r)
    first = (f"{indent}{prefix}  > {command_hex(r, reveal_secrets)}" + (f"   {name}" if name else "")
             + (f"   [{_one_line(r.detail)}]" if r.detail else ""))
    pad = indent + " " * (len(prefix) + 2)
    timing = f"  [{duration_ms(r.duration)} ms]"
    if r.error is not None:
        second = f"{pad}! {_one_line(r.error)}{timing}"
    elif not r.response:
        second = f"{pad}< (no response){timing}"
    else:
        sw = explanation(r)
        meaning = sw.text if sw is not None else ("no status word" if r.sw is None else "")
        second = f"{pad}< {response_hex(r, reveal_secrets)}" + (f"   {meaning}" if meaning else "") + timing
    return f"{first}\n{second}\n"


# -- JSON Lines ---------------------------------------------------------------------


def jsonl_header(records: Sequence[TraceRecord], reveal_secrets: bool,
                 exported_at: float | None = None) -> str:
    return jsonl.header(exported=iso_time(export_time(exported_at)), generator=GENERATOR,
                        records=len(records), secrets=secrets_word(reveal_secrets))


def jsonl_line(r: TraceRecord, reveal_secrets: bool = False) -> str:
    """The record as `jsonl.encode` writes it; masked, its secret bytes are 00
    and the line says where they are."""
    if reveal_secrets or not is_apdu(r) or (not r.unwrapped and not may_hide(r.command, r.detail)):
        return jsonl.encode(r)
    marked = is_marked(r.detail)
    span = secret_span(r.command, marked)
    personal = personal_span(r)
    if span is None and personal is None:
        return jsonl.encode(r)
    line = jsonl.encode(_masked(r, zeroed(r.command, marked), shown_response(r, False)))[:-2]
    if span is not None:
        line += f',"masked":[{span[0]},{span[1]}]'
    if personal is not None:
        line += f',"masked_response":[{personal[0]},{personal[1]}]'
    return line + "}\n"


def _masked(r: TraceRecord, command: bytes, response: bytes) -> TraceRecord:
    return TraceRecord(r.seq, r.kind, r.time, r.reader, r.origin, r.duration, r.protocol, r.share,
                       command, response, r.error, r.detail, r.parent)


def journal_encoder(keep_secrets: bool) -> Callable[[TraceRecord], str]:
    """How a session journal writes its records: masked as an export is (secrets are masked at
    rest by default), or, when the user asked to keep them, as they are."""
    return jsonl.encode if keep_secrets else jsonl_line


def write_jsonl(records: Sequence[TraceRecord], out: TextIO, *, reveal_secrets: bool = False,
                exported_at: float | None = None) -> None:
    """The journal's own format, so `import_jsonl` reads it back; revealed, the
    records come back identical."""
    out.write(jsonl_header(records, reveal_secrets, exported_at))
    out.writelines(jsonl_line(r, reveal_secrets) for r in records)


def import_jsonl(path: str | os.PathLike[str]) -> JournalContents:
    """Records of a JSON Lines export (or a journal): exactly as a journal is
    read, bad lines listed in `problems`. `header["secrets"]` says whether the
    export was masked."""
    return read_journal(Path(path))


# -- CSV ----------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula; reader
# names and error texts come from drivers and cards, not from us.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(r: TraceRecord, reveal_secrets: bool = False) -> list[str]:
    """The record's cells, in CSV_COLUMNS order."""
    exchange = r.kind is Kind.EXCHANGE
    sw = r.sw
    meaning = explanation(r)
    return [
        str(r.seq), iso_time(r.time), _cell(r.reader), r.kind.value, _cell(r.origin),
        command_hex(r, reveal_secrets) if exchange else "",
        response_hex(r, reveal_secrets) if exchange else "",
        f"{sw >> 8:02X} {sw & 0xFF:02X}" if sw is not None else "",
        meaning.text if meaning is not None else "",
        duration_ms(r.duration) if exchange else "",
        r.protocol or "", r.share or "", _cell(r.error or ""), _cell(r.detail),
        "" if r.parent is None else str(r.parent), secrets_word(reveal_secrets),
    ]


def write_csv(records: Sequence[TraceRecord], out: TextIO, *, reveal_secrets: bool = False,
              exported_at: float | None = None) -> None:
    """A header row of CSV_COLUMNS, then one row per record: plain CSV that spreadsheets,
    pandas and csv.DictReader read as it is. Whether secrets are masked is the last column
    (`secrets`) of every row, so it stays with any row copied elsewhere. (`exported_at` is
    accepted as by the other formats; CSV has no place for it.)"""
    import csv  # on export: the trace panel imports this module at start-up

    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(r, reveal_secrets) for r in records)


# -- the file -----------------------------------------------------------------------


def write_export(path: str | os.PathLike[str], records: Sequence[TraceRecord], fmt: ExportFormat | str, *,
                 reveal_secrets: bool = False, atr_database: AtrDatabase | None = None,
                 readers: Iterable[str] = (), exported_at: float | None = None) -> Path:
    """Write `records` to `path` in `fmt`, the file readable by its owner only.

    `atr_database` names the cards in the HTML export (None: the default list);
    `readers` adds readers known at export time to those the records show.
    UTF-8, and no newline translation, so a file is the same on every OS.
    """
    fmt = ExportFormat(fmt)
    path = Path(path)
    # Fixed to 0600 before a single secret is written, also when the file exists.
    out = open_private(path, "w", newline="")
    with out:
        if fmt is ExportFormat.TEXT:
            write_text(records, out, reveal_secrets=reveal_secrets, exported_at=exported_at)
        elif fmt is ExportFormat.JSONL:
            write_jsonl(records, out, reveal_secrets=reveal_secrets, exported_at=exported_at)
        elif fmt is ExportFormat.CSV:
            write_csv(records, out, reveal_secrets=reveal_secrets, exported_at=exported_at)
        else:
            # Imported here: export_html builds on this module's helpers.
            from explorer.trace.export_html import write_html

            write_html(records, out, reveal_secrets=reveal_secrets, atr_database=atr_database,
                       readers=readers, exported_at=exported_at)
    return path
