"""The bytes behind the selected finding: its exchange's response in hex and ASCII, the finding's
bytes highlighted, and the response as a BER-TLV tree (the trace detail's). Sensitive bytes (a
PAN, track 2) are dots unless revealed. A finding that is a picture (a passport's face) is shown
as one, once revealed: decoded off the GUI thread (Qt has no JPEG 2000 decoder; Pillow does).
GUI thread only."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontDatabase, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QTextBrowser, QTreeWidget, QVBoxLayout, QWidget

from explorer.apps.findings import Finding
from explorer.core.exchange import Reply
from explorer.core.hexfmt import to_hex
from explorer.ui.background import Background
from explorer.ui.console_transcript import MUTED
from explorer.ui.splitters import stacked
from explorer.ui.trace_detail import fill_tlv

HIGHLIGHT = "#2f6fd0"  # the ATR bytes view's selected colour: one meaning, one colour
_HIDDEN = "••"


def _inside(i: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(a <= i < b for a, b in spans)


def hex_ascii_html(data: bytes, span: tuple[int, int] | None, hidden: Sequence[tuple[int, int]],
                   per_line: int = 16) -> str:
    """xxd-like lines (offset, hex, ASCII), the bytes of `span` on the highlight colour, the
    `hidden` ones as dots."""
    mark = f'<span style="background:{HIGHLIGHT};color:#ffffff;">'
    lines = []
    for at in range(0, len(data), per_line):
        hexes, chars = [], []
        for i in range(at, min(at + per_line, len(data))):
            b = data[i]
            secret = _inside(i, hidden)
            cell = _HIDDEN if secret else f"{b:02X}"
            char = "•" if secret else chr(b) if 0x20 <= b < 0x7F else "."
            lit = span is not None and span[0] <= i < span[1]
            hexes.append((cell, lit))
            chars.append((html.escape(char), lit))
        hex_html = ""
        for n, (cell, lit) in enumerate(hexes):
            joined = n > 0 and lit and hexes[n - 1][1]  # the space inside a highlighted run is lit too
            gap = "" if n == 0 else (f"{mark} </span>" if joined else " ")
            hex_html += gap + (f"{mark}{cell}</span>" if lit else cell)
        hex_html += "   " * (per_line - len(hexes))
        ascii_html = "".join(f"{mark}{c}</span>" if lit else c for c, lit in chars)
        lines.append(f'<span style="color:{MUTED}">{at:04X}</span>  {hex_html}  {ascii_html}')
    return "<pre>" + "\n".join(lines) + "</pre>"


class Picture(QLabel):
    """A picture shown at its own size when there is room, scaled down (never up) to the height
    it gets when there is not: a passport face in a 700-pixel window stays whole."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(48)
        self._full = QPixmap()

    def set_picture(self, pixmap: QPixmap) -> None:
        self._full = pixmap
        self.setToolTip(f"{pixmap.width()} x {pixmap.height()} pixels" if not pixmap.isNull() else "")
        self._fit()

    def full(self) -> QPixmap:
        return self._full

    def sizeHint(self) -> QSize:
        return self._full.size() if not self._full.isNull() else super().sizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._full.isNull():
            return
        if self._full.height() <= self.height() and self._full.width() <= self.width():
            self.setPixmap(self._full)
        else:
            self.setPixmap(self._full.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))


class FindingBytes(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QTextBrowser()
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setOpenLinks(False)
        self.tlv = QTreeWidget()
        self.tlv.setHeaderLabels(["Tag", "Name", "Length", "Value"])
        self.tlv.setUniformRowHeights(True)
        self.tlv.setAlternatingRowColors(True)
        self.picture = Picture()
        self.picture.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picture)
        layout.addWidget(stacked(self.text, self.tlv, 3, 2), 1)
        self._shown: tuple[Finding, Reply, list[tuple[int, int]]] | None = None
        self._per_line = 16
        self._decoder = Background(self)
        self._wanted_picture: bytes = b""  # the image being decoded: a late result for another is dropped
        self.show_finding(None, None, [])

    def show_finding(self, finding: Finding | None, reply: Reply | None,
                     hidden: Sequence[tuple[int, int]], reveal: bool = False) -> None:
        """`finding`'s bytes in `reply` (None: nothing selected, or a finding with no bytes)."""
        self._show_picture(finding, reveal)
        if finding is not None and finding.image:
            return
        if finding is None or reply is None or finding.source is None:
            self._shown = None
            why = "Select a finding to see the bytes it was read from." if finding is None else \
                f"{finding.name}: no bytes of its own (a group, or what the analyzer concluded)."
            self.text.setHtml(f'<p style="color:{MUTED}">{html.escape(why)}</p>')
            self.tlv.clear()
            self.tlv.hide()
            return
        self._shown = (finding, reply, list(hidden))
        self._render()
        self.tlv.setVisible(fill_tlv(self.tlv, reply.data, hidden))

    def _show_picture(self, finding: Finding | None, reveal: bool) -> None:
        self._wanted_picture = b""
        self.picture.set_picture(QPixmap())
        self.picture.clear()
        self.picture.hide()
        if finding is None or not finding.image:
            return
        self.tlv.hide()
        self._shown = None
        size = f"{len(finding.raw)} bytes of {finding.image}"
        if not reveal:
            self.text.setHtml(f'<p style="color:{MUTED}"><b>{html.escape(finding.name)}</b>: {size}, '
                              "personal data: tick Reveal sensitive values to see it.</p>")
            return
        self.text.setHtml(f"<p><b>{html.escape(finding.name)}</b>: {html.escape(finding.value)}, {size}.</p>")
        image = self._wanted_picture = finding.raw
        from explorer.apps.emrtd.face import decode_face

        self._decoder.run("face-image", lambda: decode_face(image).png,
                          lambda png: self._picture_decoded(image, png),
                          lambda exc: self._picture_decoded(image, None, str(exc)))

    def _picture_decoded(self, image: bytes, png: bytes | None, problem: str = "") -> None:
        if image is not self._wanted_picture:
            return  # another finding was selected meanwhile
        pixmap = QPixmap()
        if png is None or not pixmap.loadFromData(png, "PNG"):
            why = html.escape(problem or "not an image")
            self.text.append(f'<p style="color:{MUTED}">Not shown: {why}</p>')
            return
        self.picture.set_picture(pixmap)
        self.picture.show()

    def _render(self) -> None:
        if self._shown is None:
            return
        finding, reply, hidden = self._shown
        source = finding.source
        assert source is not None
        first = reply.exchanges[0].command if reply.exchanges else b""
        span = (source.start, source.end) if source.end > source.start else None
        where = f"bytes {source.start}-{source.end - 1}" if span else "no bytes of its own"
        masked = " (sensitive bytes masked)" if hidden else ""
        head = (f"<p><b>{html.escape(finding.name)}</b>: {where}{masked} of exchange {source.exchange}, "
                f"{html.escape(to_hex(first[:5]))}{'…' * (len(first) > 5)} → {len(reply.data)} bytes, "
                f"SW {reply.sw >> 8:02X} {reply.sw & 0xFF:02X}</p>")
        self.text.setHtml(head + hex_ascii_html(reply.data, span, hidden, self._per_line))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # 16 bytes a line is 71 characters: in a narrow dock (1024x700) 8 a line, not a scroll bar.
        chars = self.text.viewport().width() // max(1, self.text.fontMetrics().horizontalAdvance("0"))
        per_line = 16 if chars >= 74 else 8
        if per_line != self._per_line:
            self._per_line = per_line
            self._render()
