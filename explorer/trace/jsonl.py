"""One trace record per line of JSON: the journal's format and the JSON Lines
export's, so an export imports back into the very records it came from.

A line: {"seq", "kind", "time", "reader", "origin", "duration", "protocol",
"share", "command", "response", "error", "detail", "parent"} with hex upper
case, bytes separated by single spaces. The first line of a file is a header
{"format": "card-explorer-trace", "version": 1, ...}.

The encoder is written out by hand because it runs once per exchange on the
reader's thread and json.dumps of a dict costs three times as much; strings
that repeat (reader names, origins) are quoted once and remembered.

The decoder is the one gate between a file and every consumer of records
(the view, search, replay, every export): what it accepts they can all show,
so none of them needs a special case. Every field is checked for its type
and range (a finite time a date can be made of, a known kind, origin,
protocol and share, hex bytes, text without lone surrogates), and a refusal
names the file, the line and the field.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from typing import Any

from explorer.core.exchange import Origin
from explorer.core.input_error import InputError
from explorer.core.json_input import check_tree, describe, lone_surrogate, quoted, string
from explorer.core.link_modes import Protocol, ShareMode
from explorer.trace.records import EVENT_ORIGINS, Kind, TraceRecord

FORMAT = "card-explorer-trace"
VERSION = 1
FIELDS = ("seq", "kind", "time", "reader", "origin", "duration", "protocol", "share",
          "command", "response", "error", "detail", "parent")


WHAT = "Card Explorer trace"
SEQ_MAX = 2**63 - 1
#: 9999-12-30 00:00 UTC less a second: every time zone still has a date for it.
TIME_MAX = 253_402_214_399.0
DURATION_MAX = 1e7  # seconds, some 115 days: more is no exchange
HEADER_DEPTH = 8


class TraceFormatError(InputError):
    """A file, or a line of one, that is not a trace; str() names the file, the line
    (1-based, 0 for the whole file) and the field."""

    def __init__(self, problem: str, line: int = 0, where: str = "", source: str = "") -> None:
        super().__init__(problem, where, source, line)


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


_KINDS = {kind.value: kind for kind in Kind}
# Values map to themselves: a record then holds the one shared string, not a copy per line.
_ORIGINS = {Kind.EXCHANGE: {o.value: o.value for o in Origin}, Kind.EVENT: {o: o for o in EVENT_ORIGINS}}
_PROTOCOLS: dict[Any, str | None] = {None: None, **{p.value: p.value for p in Protocol}}
_SHARES: dict[Any, str | None] = {None: None, **{s.value: s.value for s in ShareMode}}
_fields = operator.itemgetter(*FIELDS)
_new_record = tuple.__new__
_NOT_HEX = re.compile(r"[^0-9A-Fa-f \t\r\n]")
_DIGIT_RUN = re.compile(r"[0-9A-Fa-f]+")
_SHARED_TEXT = 64  # strings up to this length are shared between records (reader names, event details)


def decode(obj: Any, line: int = 0, source: str = "", shared: dict[str, str] | None = None) -> TraceRecord:
    """The record a decoded JSON line holds; raises TraceFormatError naming `source`, `line` and the
    field. `shared`, kept across the lines of one file, lets equal short strings be one object."""
    try:
        return _decode(obj, {} if shared is None else shared)
    except InputError as exc:
        raise exc.recast(TraceFormatError, source, line) from None


def _field(name: str, expected: str, value: Any) -> InputError:
    return InputError(f"field {name!r} must be {expected}, found {describe(value)}")


def _choice(name: str, value: Any, choices: dict[Any, Any]) -> Any:
    try:
        return choices[value]
    except (KeyError, TypeError):  # TypeError: a list or an object is no key
        names = ", ".join("null" if c is None else repr(c) for c in choices)
        raise _field(name, f"one of {names}", value) from None


def _text(name: str, value: Any, shared: dict[str, str]) -> str:
    if type(value) is not str or (not value.isascii() and lone_surrogate(value) >= 0):
        string(value, f"field {name!r}")  # raises, saying which
    text: str = value
    if len(text) <= _SHARED_TEXT and len(shared) < 4096:
        return shared.setdefault(text, text)
    return text


def _hex(name: str, value: Any) -> bytes:
    if type(value) is not str:
        raise _field(name, "hex text", value)
    try:
        return bytes.fromhex(value)
    except ValueError:
        pass
    bad = _NOT_HEX.search(value)
    if bad is not None:
        why = f"{quoted(bad.group())} at column {bad.start() + 1} is not a hex digit"
    else:
        odd = next((m for m in _DIGIT_RUN.finditer(value) if len(m.group()) % 2), None)
        why = f"column {odd.start() + 1}: an odd number of hex digits" if odd else "bad hex"
    raise InputError(f"field {name!r} is not hex: {why}")


def _decode(obj: Any, shared: dict[str, str]) -> TraceRecord:
    if type(obj) is not dict:
        raise InputError(f"a record must be a JSON object, found {describe(obj)}")
    try:
        (seq, kind, time, reader, origin, duration, protocol, share, command, response, error, detail,
         parent) = _fields(obj)
    except KeyError as exc:
        raise InputError(f"field {exc.args[0]!r} is missing") from None
    if type(seq) is not int or not 0 < seq <= SEQ_MAX:
        raise _field("seq", f"a whole number from 1 to {SEQ_MAX}", seq)
    kind = _choice("kind", kind, _KINDS)
    kind_of = type(time)
    if (kind_of is not float and kind_of is not int) or not 0 <= time <= TIME_MAX:
        raise _field("time", f"a finite number of epoch seconds from 0 to {TIME_MAX:.0f}", time)
    kind_of = type(duration)
    if (kind_of is not float and kind_of is not int) or not 0 <= duration <= DURATION_MAX:
        raise _field("duration", f"a finite number of seconds from 0 to {DURATION_MAX:.0f}", duration)
    if parent is not None and (type(parent) is not int or not 0 < parent <= SEQ_MAX):
        raise _field("parent", f"null or a whole number from 1 to {SEQ_MAX}", parent)
    values = (seq, kind, float(time), _text("reader", reader, shared),
              _choice("origin", origin, _ORIGINS[kind]), float(duration),
              _choice("protocol", protocol, _PROTOCOLS), _choice("share", share, _SHARES),
              _hex("command", command), _hex("response", response),
              None if error is None else _text("error", error, shared), _text("detail", detail, shared),
              parent)
    return _new_record(TraceRecord, values)


def check_header(obj: Any) -> dict[str, Any]:
    """The header line's object, checked; InputError when it is not a trace header this
    program reads (another format, another version, or values no check should meet)."""
    if not is_header(obj):
        raise InputError(f"not a {WHAT}: the first line is not its header "
                         f'({{"format": "{FORMAT}", "version": {VERSION}, ...}})')
    version = obj.get("version")
    if type(version) is not int:
        raise InputError(f"the header's version must be a whole number, found {describe(version)}")
    if version != VERSION:
        raise InputError(f"version {version} is not supported (this program reads version {VERSION})")
    check_tree(obj, "header", HEADER_DEPTH)
    return dict(obj)


def is_header(obj: Any) -> bool:
    return type(obj) is dict and obj.get("format") == FORMAT
