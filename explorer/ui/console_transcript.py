"""The console's transcript: every command, each exchange that crossed the wire,
the data as hex and ASCII, the status word explained and coloured by severity.

It follows the newest answer unless the tester scrolled up to read something,
and it can be saved as text: with secret data (PINs, keys, authentication
cryptograms) masked unless the tester asks otherwise, as every file the app
writes.
"""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QTextBrowser, QWidget

from explorer.core.apdu import command_name
from explorer.core.card_errors import CardError
from explorer.core.exchange import SENT_AS_IS, Exchange, Reply
from explorer.core.hexfmt import to_hex
from explorer.core.sensitive import hides_answer, mask, masked_hex
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


def _masked_data(lines: list[str], data: bytes, prefix: str = "") -> dict[str, str]:
    """The hex-and-ASCII `lines` of `data` with their bytes masked: an authentication cryptogram
    in the saved text (core/sensitive says why)."""
    return {line: f"{prefix}{at:04X}  {mask(data[at:at + _BYTES_PER_LINE])}"
            for line, at in zip(lines, range(0, len(data), _BYTES_PER_LINE), strict=True)}


def _span(text: str, colour: str | None = None, bold: bool = False) -> str:
    style = (f"color:{colour};" if colour else "") + ("font-weight:bold;" if bold else "")
    return f'<span style="{style}">{html.escape(text)}</span>' if style else html.escape(text)


class Transcript(QTextBrowser):
    """Append-only view. `plain_lines` keeps the text form for copying and tests, `masked_lines`
    the same with secret command data masked, for saving. GUI thread only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setOpenLinks(False)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Answers appear here: each exchange as it crossed the wire, "
                                "with its status word explained.")
        self.plain_lines: list[str] = []
        self.masked_lines: list[str] = []
        self.replies: list[Reply] = []
        # QTextEdit.append keeps the view at the bottom only if the document's layout is done by
        # then; a long answer is laid out later, so the view stayed put and new errors went unseen.
        # Following is decided by where the tester left the scroll bar, and kept as the range grows.
        self.following = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)

    def _scrolled(self, value: int) -> None:
        self.following = value >= self.verticalScrollBar().maximum()

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self.following:
            self.verticalScrollBar().setValue(maximum)

    def _add(self, parts: list[tuple[str, str]], masked: list[str] | None = None) -> None:
        """parts: (plain text, html) per line; `masked`: the plain lines with secrets masked, if
        they differ."""
        self.plain_lines.extend(p for p, _ in parts)
        self.masked_lines.extend(masked if masked is not None else (p for p, _ in parts))
        self.append("<pre style='margin:0'>" + "<br>".join(h for _, h in parts) + "</pre>")

    def saved_text(self, reveal_secrets: bool = False) -> str:
        """The transcript as a text file: a first line saying whether secrets are masked."""
        if reveal_secrets:
            head = "# Card Explorer console transcript; secret data (PINs, keys, cryptograms) in clear"
        else:
            head = "# Card Explorer console transcript; secret data (PINs, keys, cryptograms) masked as ••"
        lines = self.plain_lines if reveal_secrets else self.masked_lines
        return "\n".join([head, *lines, ""])

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
        masks: dict[str, str] = {}
        for exchange in reply.exchanges:
            parts.extend(self._exchange_lines(exchange, masks))
        if len(reply.exchanges) > 1:
            why = explain(reply.sw, first.command)
            total = sum(e.duration for e in reply.exchanges) * 1000
            line = (f"= {len(reply.data)} data bytes, SW {why.hex}, {len(reply.exchanges)} exchanges, "
                    f"{total:.2f} ms in all")
            parts.append((line, _span(line, SEVERITY_COLOURS[why.severity], bold=True)))
            # Joined data is worth showing only when it came in pieces.
            if sum(1 for e in reply.exchanges if e.data) > 1:
                lines = hex_ascii_lines(reply.data)
                parts.extend((t, html.escape(t)) for t in lines)
                if any(hides_answer(e.command, e.note) for e in reply.exchanges):
                    masks.update(_masked_data(lines, reply.data))
        self._add(parts, _masked(parts, masks))

    def _exchange_lines(self, e: Exchange, masks: dict[str, str]) -> list[tuple[str, str]]:
        """The lines of one exchange; a command line whose masked form differs goes into `masks`."""
        indent = "    " if e.origin.automatic else ""
        if e.origin.automatic:
            label = f"[auto {e.origin.value}] "
        else:
            label = "[as is] " if SENT_AS_IS in e.note else ""
        name = command_name(e.command[0], e.command[1]) if len(e.command) >= 2 else None
        cmd = f"{indent}{label}> {to_hex(e.command)}"
        rich = (_span(indent + label, SEVERITY_COLOURS[Severity.WARNING])
                + _span(f"> {to_hex(e.command)}", bold=True) + (_span(f"   {name}", MUTED) if name else ""))
        suffix = f"   {name}" if name else ""
        hidden = masked_hex(e.command)
        if hidden != to_hex(e.command):
            masks[cmd + suffix] = f"{indent}{label}> {hidden}{suffix}"
        out = [(cmd + suffix, rich)]
        if e.error is not None:
            text = f"{indent}! {e.error}"
            return [*out, (text, _span(text, SEVERITY_COLOURS[Severity.ERROR], bold=True))]
        lines = [f"{indent}< {line}" for line in hex_ascii_lines(e.data)]
        out.extend((line, html.escape(line)) for line in lines)
        if hides_answer(e.command, e.note):
            masks.update(_masked_data(lines, e.data, f"{indent}< "))
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
        masks: dict[str, str] = {}
        for exchange in error.exchanges:
            parts.extend(self._exchange_lines(exchange, masks))
        if not error.exchanges and command is not None:
            parts.append((f"> {to_hex(command)}", _span(f"> {to_hex(command)}", bold=True)))
            masks[f"> {to_hex(command)}"] = f"> {masked_hex(command)}"
        text = f"! {error}"
        parts.append((text, _span(text, SEVERITY_COLOURS[Severity.ERROR], bold=True)))
        self._add(parts, _masked(parts, masks))

    def clear_all(self) -> None:
        self.plain_lines.clear()
        self.masked_lines.clear()
        self.replies.clear()
        self.clear()
        self.following = True


def _masked(parts: list[tuple[str, str]], masks: dict[str, str]) -> list[str] | None:
    return [masks.get(plain, plain) for plain, _ in parts] if masks else None
