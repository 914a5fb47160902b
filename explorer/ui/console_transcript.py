"""The console's transcript: every command, each exchange that crossed the wire,
the data as hex and ASCII, the status word explained and coloured by severity."""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QTextBrowser, QWidget

from explorer.core.apdu import command_name
from explorer.core.card_errors import CardError
from explorer.core.exchange import Exchange, Reply
from explorer.core.hexfmt import to_hex
from explorer.core.status_words import Severity, explain

SEVERITY_COLOURS = {Severity.SUCCESS: "#1b7f2a", Severity.WARNING: "#b35c00", Severity.ERROR: "#c0162b"}
MUTED = "#6b6b6b"
_BYTES_PER_LINE = 16


def hex_ascii_lines(data: bytes) -> list[str]:
    """Offset, hex and printable ASCII, 16 bytes a line (like xxd, in upper case)."""
    lines = []
    for at in range(0, len(data), _BYTES_PER_LINE):
        chunk = data[at : at + _BYTES_PER_LINE]
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{at:04X}  {to_hex(chunk):<{_BYTES_PER_LINE * 3 - 1}}  {text}")
    return lines


def _span(text: str, colour: str | None = None, bold: bool = False) -> str:
    style = (f"color:{colour};" if colour else "") + ("font-weight:bold;" if bold else "")
    return f'<span style="{style}">{html.escape(text)}</span>' if style else html.escape(text)


class Transcript(QTextBrowser):
    """Append-only view. `plain_lines` keeps the text form for copying and tests. GUI thread only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setOpenLinks(False)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Answers appear here: each exchange as it crossed the wire, "
                                "with its status word explained.")
        self.plain_lines: list[str] = []
        self.replies: list[Reply] = []

    def _add(self, parts: list[tuple[str, str]]) -> None:
        """parts: (plain text, html) per line."""
        self.plain_lines.extend(p for p, _ in parts)
        self.append("<pre style='margin:0'>" + "<br>".join(h for _, h in parts) + "</pre>")

    def add_note(self, text: str, colour: str = MUTED) -> None:
        self._add([(text, _span(text, colour))])

    def add_reply(self, reply: Reply) -> None:
        self.replies.append(reply)
        parts: list[tuple[str, str]] = []
        first = reply.exchanges[0]
        when = datetime.fromtimestamp(first.started).strftime("%H:%M:%S.%f")[:-3]
        protocol = first.protocol.value if first.protocol else ""
        head = f"{when}  {first.reader}  {protocol}"
        parts.append((head, _span(head, MUTED)))
        for exchange in reply.exchanges:
            parts.extend(self._exchange_lines(exchange))
        if len(reply.exchanges) > 1:
            why = explain(reply.sw, first.command)
            total = sum(e.duration for e in reply.exchanges) * 1000
            line = (f"= {len(reply.data)} data bytes, SW {why.hex}, {len(reply.exchanges)} exchanges, "
                    f"{total:.2f} ms in all")
            parts.append((line, _span(line, SEVERITY_COLOURS[why.severity], bold=True)))
            # Joined data is worth showing only when it came in pieces.
            if sum(1 for e in reply.exchanges if e.data) > 1:
                parts.extend((t, html.escape(t)) for t in hex_ascii_lines(reply.data))
        self._add(parts)

    def _exchange_lines(self, e: Exchange) -> list[tuple[str, str]]:
        indent = "    " if e.origin.automatic else ""
        label = f"[auto {e.origin.value}] " if e.origin.automatic else ""
        name = command_name(e.command[0], e.command[1]) if len(e.command) >= 2 else None
        cmd = f"{indent}{label}> {to_hex(e.command)}"
        rich = (_span(indent + label, SEVERITY_COLOURS[Severity.WARNING])
                + _span(f"> {to_hex(e.command)}", bold=True) + (_span(f"   {name}", MUTED) if name else ""))
        out = [(cmd + (f"   {name}" if name else ""), rich)]
        if e.error is not None:
            text = f"{indent}! {e.error}"
            return [*out, (text, _span(text, SEVERITY_COLOURS[Severity.ERROR], bold=True))]
        data = e.data
        if data:
            for line in hex_ascii_lines(data):
                out.append((f"{indent}< {line}", html.escape(f"{indent}< {line}")))
        out.extend(self._sw_lines(e.sw, e.command, indent, e.duration))
        return out

    @staticmethod
    def _sw_lines(sw: int | None, command: bytes, indent: str,
                  duration: float | None = None) -> list[tuple[str, str]]:
        if sw is None:
            return []
        why = explain(sw, command)
        took = f"  {duration * 1000:.2f} ms" if duration is not None else ""
        # ISO/IEC 7816-4 is the norm: name the source only when it is another one.
        source = "" if why.source == "ISO/IEC 7816-4" else f" [{why.source}]"
        text = f"{indent}< {why.hex}{took}  {why.text}{source}"
        colour = SEVERITY_COLOURS[why.severity]
        return [(f"{text}  ({why.severity.name.lower()})",
                 _span(f"{indent}< ") + _span(why.hex, colour, bold=True) + _span(took, MUTED)
                 + _span(f"  {why.text}", colour) + _span(source, MUTED))]

    def add_error(self, error: CardError, command: bytes | None = None) -> None:
        parts = []
        for exchange in error.exchanges:
            parts.extend(self._exchange_lines(exchange))
        if not error.exchanges and command is not None:
            parts.append((f"> {to_hex(command)}", _span(f"> {to_hex(command)}", bold=True)))
        text = f"! {error}"
        parts.append((text, _span(text, SEVERITY_COLOURS[Severity.ERROR], bold=True)))
        self._add(parts)

    def clear_all(self) -> None:
        self.plain_lines.clear()
        self.replies.clear()
        self.clear()
