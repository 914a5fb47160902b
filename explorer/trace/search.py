"""The trace's free-text search: what a user sees in a row, found however it
was typed.

A row shows its number, time, command name, command and response in hex, the
status word and what it means (or the error), the duration, the reader and
the origin; an event row its number, time, reader, what happened and its
detail. The search finds a needle in any of them, ignoring case. Hex is
matched as bytes ("6a82", "6A 82" and "6A:82" are one needle), so a search
never depends on how the hex was spaced. Secret bytes (PIN and key data)
that the view masks are not searched unless they are revealed: a search
must not tell which PIN was sent. "Δ ms" is left out: it depends on the row
above, which the search itself chooses.

Built for a million records off the GUI thread: texts that repeat (readers,
origins, command names) are tested once, and an exchange's status word is
explained only when one of the texts that word can have could match.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from explorer.core.apdu import command_name
from explorer.core.hexfmt import HexError, parse_hex, to_hex
from explorer.core.sensitive import is_marked, secret_span
from explorer.core.status_words import explain, explanation_texts
from explorer.trace.export import CONTROL, clock, duration_ms, is_apdu, personal_span
from explorer.trace.records import Kind, TraceRecord

# (command, final record, response shown): the command's side of a row comes
# from the first, the outcome's from the others (see explorer.trace.steps).
RowTest = Callable[[TraceRecord, TraceRecord, bytes], bool]

_DIGITS = frozenset("0123456789")


@functools.lru_cache(maxsize=65536)
def _meaning(sw: int, command: bytes) -> str:
    return explain(sw, command).text.lower()


@functools.cache
def _all_names() -> frozenset[str]:
    """Every command name there is (65,536 lookups, a few ms, once per process)."""
    return frozenset(filter(None, (command_name(cla, ins) for cla in range(256) for ins in range(256))))


def _name_test(low: str) -> Callable[[bytes], bool] | None:
    """A test for commands (by CLA INS) whose name shows `low`, or None when no name can."""
    wanted = {name for name in _all_names() if low in name.lower()}
    if not wanted:
        return None
    seen: dict[bytes, bool] = {}

    def named(command: bytes) -> bool:
        key = command[:2]
        hit = seen.get(key)
        if hit is None:
            hit = seen[key] = command_name(key[0], key[1]) in wanted
        return hit

    return named


def text_test(needle: str, reveal: bool) -> RowTest | None:
    """A test for rows showing `needle`, or None when there is nothing to look for."""
    needle = needle.strip()
    if not needle:
        return None
    low = needle.lower()
    try:
        pattern: bytes | None = parse_hex(needle) or None
    except HexError:
        pattern = None
    hex_text = to_hex(pattern).lower() if pattern else None  # how hex looks in an event's detail
    chars = set(low)
    seq_like = chars <= _DIGITS
    time_like = ":" in chars and chars <= _DIGITS | {":", "."}
    ms_like = "." in chars and chars <= _DIGITS | {"."}
    named = _name_test(low)
    seen: dict[str, bool] = {}  # texts that repeat: readers, origins
    words_of_sw: dict[int, bool] = {}  # whether any meaning of that status word could show `low`
    exchange = Kind.EXCHANGE

    def shows(text: str) -> bool:
        hit = seen.get(text)
        if hit is None:
            hit = seen[text] = low in text.lower()
        return hit

    def event(r: TraceRecord) -> bool:
        detail = r.detail.lower()
        return (shows(r.reader) or shows(r.origin) or low in detail
                or (hex_text is not None and hex_text in detail)
                or (seq_like and low in str(r.seq)) or (time_like and low in clock(r.time)))

    def masked_hit(r: TraceRecord) -> bool:
        """Whether the hex found in a command is on screen, not behind "••"."""
        assert pattern is not None
        command = r.command
        span = None if reveal or not is_apdu(r) else secret_span(command, is_marked(r.detail))
        return span is None or pattern in command[:span[0]] or pattern in command[span[1]:]

    def could_mean(sw: int) -> bool:
        maybe = words_of_sw[sw] = any(low in text.lower() for text in explanation_texts(sw))
        return maybe

    def test(r: TraceRecord, final: TraceRecord, response: bytes) -> bool:
        if r.kind is not exchange:
            return event(r)
        if pattern is not None and ((pattern in response and (reveal or not personal_span(final)))
                                    or (pattern in r.command and masked_hit(r))):
            return True
        hit = seen.get(r.reader)
        if hit is None:
            hit = shows(r.reader)
        if not hit:
            hit = seen.get(r.origin)
            if hit is None:
                hit = shows(r.origin)
        if hit or (named is not None and len(r.command) >= 2 and r.origin != CONTROL and named(r.command)):
            return True
        if r.detail and shows(r.detail):  # a note such as "sent as is" (the Command column's "[as is]")
            return True
        # The meaning column: the error, or what the final status word means.
        if final.error is not None:
            if low in final.error.lower():
                return True
        else:
            answer = final.response
            if len(answer) >= 2:
                sw = answer[-2] << 8 | answer[-1]
                maybe = words_of_sw.get(sw)
                if (maybe or (maybe is None and could_mean(sw))) and final.origin != CONTROL \
                        and low in _meaning(sw, final.command):
                    return True
        return ((seq_like and low in str(r.seq)) or (time_like and low in clock(r.time))
                or (ms_like and low in duration_ms(r.duration)))

    return test
