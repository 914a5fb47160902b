"""The HTML export: one self-contained page to attach to a bug report, in the frame every
page of the app shares (explorer.core.html_page: inline CSS, no script, nothing loaded).
Every piece of trace text goes through html.escape: reader names, error texts and event
details come from drivers and cards, not from us.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from explorer.core.atr import decode_atr
from explorer.core.atr_report import summary
from explorer.core.atrdb import AtrDatabase, default_database
from explorer.core.hexfmt import to_hex
from explorer.core.html_page import BASE_CSS, PAGE_END, page_start
from explorer.core.status_words import Severity
from explorer.trace.export import (
    GENERATOR,
    TITLE,
    clock,
    command_hex,
    command_label,
    data_hex,
    duration_ms,
    explanation,
    export_time,
    iso_time,
    secrets_statement,
    secrets_word,
    time_span,
)
from explorer.trace.records import CARD_INSERTED, Kind, TraceRecord, inserted_atr

# The trace's own rows on top of the shared page style: events between the exchanges.
_CSS = BASE_CSS + "tr.event td { background: #f6f6fb; color: #446; font-style: italic; }\n"
_COLUMNS = ("#", "time", "Δ", "reader", "origin", "command", "command bytes", "response data", "SW",
            "meaning", "ms")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass
class _Reader:
    exchanges: int = 0
    failures: int = 0
    protocols: list[str] = field(default_factory=list)


def write_html(records: Sequence[TraceRecord], out: TextIO, *, reveal_secrets: bool = False,
               atr_database: AtrDatabase | None = None, readers: Iterable[str] = (),
               exported_at: float | None = None, title: str = TITLE) -> None:
    """The page: what was exported and how, the cards (ATR, summary, name from
    the ATR list), the readers, and the timeline with failures in red and
    warnings in orange. `atr_database` None means the default list."""
    word = secrets_word(reveal_secrets)
    out.write(page_start(f"{title} (secrets {word})", _CSS) + f"<h1>{_e(title)}</h1>\n"
              f'<p class="meta">Exported {_e(iso_time(export_time(exported_at)))} by {_e(GENERATOR)}; '
              f"{len(records)} records, {_e(time_span(records))}; times are local.</p>\n"
              f'<p class="secrets {word}">Secrets {word}: {_e(secrets_statement(reveal_secrets))}.</p>\n')
    _write_cards(records, out, atr_database)
    _write_readers(records, out, readers)
    _write_timeline(records, out, reveal_secrets)
    out.write(PAGE_END)


def _identify(atr: bytes, database: AtrDatabase | None) -> str:
    if database is None:
        return "no ATR list installed"
    matches = database.lookup(atr)
    if not matches:
        return "not in the ATR list"
    return "; ".join(matches[0].entry.descriptions) or matches[0].entry.pattern


def _write_cards(records: Sequence[TraceRecord], out: TextIO, database: AtrDatabase | None) -> None:
    out.write("<h2>Cards</h2>\n")
    inserted = [r for r in records if r.kind is Kind.EVENT and r.origin == CARD_INSERTED]
    if not inserted:
        out.write('<p class="meta">No card was inserted while this trace was recorded.</p>\n')
        return
    if database is None:
        database = default_database()
    out.write("<table>\n<tr><th>#</th><th>inserted</th><th>reader</th><th>ATR</th><th>summary</th>"
              "<th>identification</th></tr>\n")
    seen: set[tuple[str, str]] = set()
    for r in inserted:
        if (r.reader, r.detail) in seen:
            continue  # the same card put back: once is enough
        seen.add((r.reader, r.detail))
        atr = inserted_atr(r)  # b"" for "mute card (no ATR)"
        if atr:
            atr_cell, about, name = to_hex(atr), summary(decode_atr(atr)), _identify(atr, database)
        else:
            atr_cell, about, name = "", r.detail, ""
        out.write(f'<tr><td class="num">{r.seq}</td><td class="t" title="{_e(iso_time(r.time))}">'
                  f"{_e(clock(r.time))}</td><td>{_e(r.reader)}</td>"
                  f'<td class="hex">{_e(atr_cell)}</td><td>{_e(about)}</td><td>{_e(name)}</td></tr>\n')
    out.write("</table>\n")


def _write_readers(records: Sequence[TraceRecord], out: TextIO, extra: Iterable[str]) -> None:
    seen: dict[str, _Reader] = {}
    for r in records:
        if not r.reader:
            continue  # service events belong to no reader
        info = seen.setdefault(r.reader, _Reader())
        if r.kind is Kind.EXCHANGE:
            info.exchanges += 1
            info.failures += _failure_class(r) == "failure"
        if r.protocol and r.protocol not in info.protocols:
            info.protocols.append(r.protocol)
    for name in extra:
        seen.setdefault(name, _Reader())
    out.write("<h2>Readers</h2>\n")
    if not seen:
        out.write('<p class="meta">No reader appears in this trace.</p>\n')
        return
    out.write("<table>\n<tr><th>reader</th><th>exchanges</th><th>failures</th><th>protocols</th></tr>\n")
    for name, info in seen.items():
        out.write(f'<tr><td>{_e(name)}</td><td class="num">{info.exchanges}</td>'
                  f'<td class="num">{info.failures}</td><td>{_e(", ".join(info.protocols))}</td></tr>\n')
    out.write("</table>\n")


def _failure_class(r: TraceRecord) -> str:
    if r.error is not None:
        return "failure"
    sw = explanation(r)
    if sw is None:
        return ""
    return {Severity.ERROR: "failure", Severity.WARNING: "warning"}.get(sw.severity, "")


def _delta(seconds: float) -> str:
    if abs(seconds) < 1:
        return f"{seconds * 1000:+.3f} ms"
    return f"{seconds:+.3f} s"


def _write_timeline(records: Sequence[TraceRecord], out: TextIO, reveal_secrets: bool) -> None:
    out.write("<h2>Timeline</h2>\n<table>\n<tr>" + "".join(f"<th>{_e(c)}</th>" for c in _COLUMNS)
              + "</tr>\n")
    previous: float | None = None
    for r in records:
        delta = "" if previous is None else _delta(r.time - previous)
        previous = r.time
        common = (f'<td class="num">{r.seq}</td><td class="t" title="{_e(iso_time(r.time))}">'
                  f'{_e(clock(r.time))}</td><td class="num">{_e(delta)}</td><td>{_e(r.reader)}</td>'
                  f"<td>{_e(r.origin)}</td>")
        if r.kind is Kind.EVENT:
            detail = " ".join(x for x in (r.protocol, r.share, r.detail) if x)
            out.write(f'<tr class="event">{common}<td colspan="6">{_e(detail)}</td></tr>\n')
            continue
        classes = " ".join(c for c in ("auto" if r.automatic else "", _failure_class(r)) if c)
        row = f'<tr class="{classes}">' if classes else "<tr>"
        name = command_label(r)
        if r.automatic:
            name = "↳ " + name
        sw = explanation(r)
        if r.error is not None:
            sw_cell, meaning = "", r.error
        elif sw is not None:
            sw_cell, meaning = sw.hex, sw.text
        else:
            sw_cell, meaning = "", "no status word" if r.response else "no response"
        data = r.data if r.sw is not None else r.response
        out.write(f'{row}{common}<td class="name">{_e(name)}</td>'
                  f'<td class="hex">{_e(command_hex(r, reveal_secrets))}</td>'
                  f'<td class="hex">{_e(data_hex(r, data, reveal_secrets))}</td>'
                  f'<td class="hex sw">{_e(sw_cell)}</td>'
                  f'<td class="meaning">{_e(meaning)}</td>'
                  f'<td class="num">{_e(duration_ms(r.duration))}</td></tr>\n')
    out.write("</table>\n")
