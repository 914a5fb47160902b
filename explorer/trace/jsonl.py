"""One trace record per line of JSON: the journal's format and the JSON Lines
export's, so an export imports back into the very records it came from.

A line: {"seq", "kind", "time", "reader", "origin", "duration", "protocol",
"share", "command", "response", "error", "detail", "parent"} with hex upper
case, bytes separated by single spaces. The first line of a file is a header
{"format": "card-explorer-trace", "version": 1, ...}.

The encoder is written out by hand because it runs once per exchange on the
reader's thread and json.dumps of a dict costs three times as much; strings
that repeat (reader names, origins) are quoted once and remembered.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from explorer.core.hexfmt import parse_hex
from explorer.trace.records import Kind, TraceRecord

FORMAT = "card-explorer-trace"
VERSION = 1
FIELDS = ("seq", "kind", "time", "reader", "origin", "duration", "protocol", "share",
          "command", "response", "error", "detail", "parent")


class TraceFormatError(ValueError):
    """A line that is not a trace record; `line` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


_dumps = json.dumps


@functools.lru_cache(maxsize=4096)
def _quoted(text: str | None) -> str:
    return "null" if text is None else _dumps(text, ensure_ascii=False)


def encode(r: TraceRecord) -> str:
    """The record as one line of JSON, newline included."""
    error = "null" if r.error is None else _dumps(r.error, ensure_ascii=False)
    parent = "null" if r.parent is None else str(r.parent)
    return (f'{{"seq":{r.seq},"kind":"{r.kind._value_}","time":{r.time!r},"reader":{_quoted(r.reader)},'
            f'"origin":{_quoted(r.origin)},"duration":{r.duration!r},"protocol":{_quoted(r.protocol)},'
            f'"share":{_quoted(r.share)},"command":"{r.command.hex(" ").upper()}",'
            f'"response":"{r.response.hex(" ").upper()}","error":{error},"detail":{_quoted(r.detail)},'
            f'"parent":{parent}}}\n')


def header(**extra: Any) -> str:
    return json.dumps({"format": FORMAT, "version": VERSION, **extra}, ensure_ascii=False) + "\n"


def decode(obj: dict[str, Any], line: int = 0) -> TraceRecord:
    try:
        return TraceRecord(
            seq=int(obj["seq"]), kind=Kind(obj["kind"]), time=float(obj["time"]),
            reader=str(obj["reader"]), origin=str(obj["origin"]), duration=float(obj["duration"]),
            protocol=obj["protocol"], share=obj["share"],
            command=parse_hex(obj["command"]), response=parse_hex(obj["response"]),
            error=obj["error"], detail=str(obj["detail"]),
            parent=None if obj["parent"] is None else int(obj["parent"]),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise TraceFormatError(f"not a trace record ({type(e).__name__}: {e})", line) from None


def is_header(obj: dict[str, Any]) -> bool:
    return obj.get("format") == FORMAT
