"""An analysis written out: as text (the CLI), as JSON (one object: every finding with its
source bytes, every exchange) and as a self-contained HTML page. Sensitive values (a PAN, track 2
data, MRZ) are masked unless revealed, in every format."""

from __future__ import annotations

import time
from typing import Any

from explorer import __version__
from explorer.apps.analysis import Analysis
from explorer.apps.findings import Finding
from explorer.core.hexfmt import to_hex
from explorer.core.html_page import BASE_CSS, PAGE_END, escape, page_start
from explorer.core.printable import printable
from explorer.core.sensitive import hides_answer, masked_hex

FORMAT = "card-explorer-analysis"
VERSION = 1


def _masked_hex(data: bytes, offset: int, spans: list[tuple[int, int]]) -> str:
    """`data`, found at `offset` in its response, as hex with the bytes of `spans` (offsets in
    that response) shown as •• (not zeros, which could pass for the card's)."""
    parts = to_hex(data).split(" ") if data else []
    for start, end in spans:
        for i in range(max(start, offset), min(end, offset + len(parts))):
            parts[i - offset] = "••"
    return " ".join(parts)


def _raw(f: Finding, spans: dict[int, list[tuple[int, int]]]) -> str:
    """A finding's bytes, those a sensitive finding came from as •• (a record holding a PAN is
    not sensitive itself, but its bytes carry the PAN)."""
    src = f.source
    return _masked_hex(f.raw, src.start, spans.get(src.exchange, [])) if src is not None else to_hex(f.raw)


def _finding(f: Finding, reveal: bool, spans: dict[int, list[tuple[int, int]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "value": f.shown(reveal)}
    if f.explanation:
        out["explanation"] = f.explanation
    if f.source is not None:
        out["source"] = {"exchange": f.source.exchange, "start": f.source.start, "end": f.source.end}
    if f.raw and (reveal or not f.sensitive):
        out["raw"] = _raw(f, spans)
    if f.sensitive:
        out["sensitive"] = True
    if f.children:
        out["children"] = [_finding(c, reveal, spans) for c in f.children]
    return out


def _sensitive_spans(analysis: Analysis) -> dict[int, list[tuple[int, int]]]:
    """Per exchange, the response bytes a sensitive finding came from: masked in the exchanges too."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for result in analysis.results:
        for _, f in result.finding.walk():
            if f.sensitive and f.source is not None:
                spans.setdefault(f.source.exchange, []).append((f.source.start, f.source.end))
    return spans


def _response(data: bytes, sw: bytes, spans: list[tuple[int, int]]) -> str:
    return " ".join(p for p in (_masked_hex(data, 0, spans), to_hex(sw)) if p)


def analysis_json(analysis: Analysis, reveal: bool = False) -> dict[str, Any]:
    spans = {} if reveal else _sensitive_spans(analysis)
    exchanges = []
    for i, reply in enumerate(analysis.replies):
        steps = []
        for e in reply.exchanges:
            steps.append({"command": masked_hex(e.command), "origin": e.origin.value,
                          "error": e.error})
        data = reply.data
        sw = bytes([reply.sw >> 8, reply.sw & 0xFF]) if reply.exchanges else b""
        hidden = spans.get(i, [])
        if not reveal and reply.exchanges and hides_answer(reply.exchanges[0].command):
            hidden = [(0, len(data))]  # an authentication cryptogram
        exchanges.append({"index": i, "steps": steps, "data_sw": _response(data, sw, hidden)})
    return {
        "format": FORMAT, "version": VERSION, "generator": f"card-explorer {__version__}",
        "reader": analysis.reader, "atr": to_hex(analysis.atr), "cancelled": analysis.cancelled,
        "secrets": "revealed" if reveal else "masked",
        "analyzers": [{"key": r.key, "title": r.title, "error": r.error,
                       "findings": _finding(r.finding, reveal, spans)} for r in analysis.results],
        "exchanges": exchanges,
    }


def analysis_text(analysis: Analysis, reveal: bool = False) -> str:
    """The findings as an indented tree, one per line: `name: value  (explanation)`."""
    lines = [f"# {printable(analysis.reader)}  ATR {to_hex(analysis.atr)}"]
    for result in analysis.results:
        stopped = f"  (stopped: {printable(result.error)})" if result.error else ""
        lines.append(f"== {result.title}{stopped}")
        for depth, f in result.finding.walk():
            if depth == 0 and not f.value:
                continue
            value = f.shown(reveal)
            text = f"{'  ' * depth}{printable(f.name)}" + (f": {printable(value)}" if value else "")
            if f.explanation:
                text += f"  ({printable(f.explanation)})"
            lines.append(text)
    if analysis.cancelled:
        lines.append("# cancelled: what was found so far")
    return "\n".join(lines) + "\n"


_CSS = BASE_CSS + """
ul.tree { list-style: none; padding-left: 1.2em; }
ul.tree li { margin: 1px 0; }
span.name { font-weight: 600; }
span.value { font-family: ui-monospace, Consolas, monospace; }
span.why { color: #555; }
span.src { color: #888; font-size: 0.85em; }
"""


def _tree(f: Finding, reveal: bool) -> str:
    value = f.shown(reveal)
    src = ""
    if f.source is not None and f.source.end > f.source.start:
        where = f"exchange {f.source.exchange}, bytes {f.source.start}-{f.source.end - 1}"
        src = f' <span class="src">[{where}]</span>'
    head = (f'<span class="name">{escape(f.name)}</span>'
            + (f': <span class="value">{escape(value)}</span>' if value else "")
            + (f' <span class="why">— {escape(f.explanation)}</span>' if f.explanation else "") + src)
    if f.image and f.raw and (reveal or not f.sensitive):
        head += _picture(f)
    children = "".join(_tree(c, reveal) for c in f.children)
    return f"<li>{head}" + (f'<ul class="tree">{children}</ul>' if children else "") + "</li>"


def _picture(f: Finding) -> str:
    """The picture itself in the page (PNG: browsers seldom show JPEG 2000), or why not."""
    import base64

    from explorer.apps.emrtd.face import FaceError, decode_face

    try:
        png = decode_face(f.raw).png
    except FaceError as exc:
        return f' <span class="why">(not shown: {escape(str(exc))})</span>'
    return (f'<br><img alt="{escape(f.name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">')


def analysis_html(analysis: Analysis, reveal: bool = False, made_at: float | None = None) -> str:
    data = analysis_json(analysis, reveal)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(made_at if made_at is not None else time.time()))
    parts = [page_start(f"Card analysis: {analysis.reader}", _CSS),
             f"<h1>Card analysis</h1><p class=\"meta\">{escape(analysis.reader)} · ATR "
             f"{escape(to_hex(analysis.atr))} · made {when} by card-explorer {escape(__version__)}</p>",
             f'<p class="secrets {data["secrets"]}">Sensitive values (PAN, track 2, MRZ, personal data, '
             f'face) and PINs are {data["secrets"]}.</p>']
    for result in analysis.results:
        parts.append(f"<h2>{escape(result.title)}</h2>")
        if result.error:
            parts.append(f"<p class=\"meta\">Stopped: {escape(result.error)}</p>")
        parts.append(f'<ul class="tree">{_tree(result.finding, reveal)}</ul>')
    parts.append("<h2>Exchanges</h2><table><tr><th>#</th><th>command(s)</th><th>response</th></tr>")
    for e in data["exchanges"]:
        commands = "<br>".join(escape(s["command"]) for s in e["steps"])
        parts.append(f'<tr><td class="num">{e["index"]}</td><td class="hex">{commands}</td>'
                     f'<td class="hex">{escape(e["data_sw"])}</td></tr>')
    parts.append("</table>")
    return "".join(parts) + PAGE_END
