"""The trace's detail pane: one record in full — hex and ASCII both ways,
the status word explained, the response data as a BER-TLV tree with tag
names (ISO/IEC 7816-4, EMV, GlobalPlatform). GUI thread only."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import QTextBrowser, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from explorer.core.hexfmt import to_hex
from explorer.core.sensitive import is_marked, secret_span
from explorer.trace.export import clock, command_label, explanation, personal_span, shown_response
from explorer.trace.filter import SwClass
from explorer.trace.records import Kind, TraceRecord
from explorer.ui.console_transcript import MUTED, SEVERITY_COLOURS, hex_ascii_lines
from explorer.ui.splitters import stacked
from explorer.ui.trace_model import COLOURS

_ERROR = COLOURS[SwClass.ERROR]
TLV_SPAN_ROLE = Qt.ItemDataRole.UserRole + 1  # a TLV item's (start, end) in the data


def _block(title: str, lines: list[str]) -> str:
    body = "\n".join(html.escape(line) for line in lines) or "(none)"
    return f"<p><b>{html.escape(title)}</b></p><pre>{body}</pre>"


class TraceDetail(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QTextBrowser()
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tlv = QTreeWidget()
        self.tlv.setHeaderLabels(["Tag", "Name", "Length", "Value"])
        self.tlv.setUniformRowHeights(True)
        self.tlv.setAlternatingRowColors(True)
        for pane in (self.text, self.tlv):
            pane.setMinimumHeight(30)
        split = stacked(self.text, self.tlv, 3, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.reveal_secrets = False
        self.show_record(None)

    def show_record(self, r: TraceRecord | None) -> None:
        self.tlv.clear()
        if r is None:
            self.text.setHtml(f'<p style="color:{MUTED}">Select a row to see it in full.</p>')
            self.tlv.hide()
            return
        head = (f"#{r.seq}  {clock(r.time)}  {r.reader or '(no reader)'}  {r.origin}"
                + (f"  {r.protocol}" if r.protocol else "") + (f"  {r.share}" if r.share else ""))
        parts = [f"<p><b>{html.escape(head)}</b></p>"]
        if r.kind is Kind.EVENT:
            parts.append(f"<p>{html.escape(r.detail)}</p>")
            self.text.setHtml("".join(parts))
            self.tlv.hide()
            return
        name = command_label(r)
        command = r.command
        span = None if self.reveal_secrets else secret_span(command, is_marked(r.detail))
        if span is not None:
            # Masked bytes keep their count; the ASCII column must not show them either.
            command = command[:span[0]] + bytes(span[1] - span[0]) + command[span[1]:]
            parts.append(f'<p style="color:{MUTED}">Secret data (bytes {span[0]}-{span[1] - 1}) masked: '
                         "reveal it in the trace's settings.</p>")
        parts.append(_block(f"Command{': ' + name if name else ''} ({len(r.command)} bytes)",
                            hex_ascii_lines(command)))
        if r.error is not None:
            parts.append(f'<p style="color:{_ERROR}"><b>{html.escape(r.error)}</b></p>')
        response = shown_response(r, self.reveal_secrets)
        if response != r.response:
            what = ("Personal data unwrapped from secure messaging" if r.unwrapped
                    else "Authentication cryptogram")
            parts.append(f'<p style="color:{MUTED}">{what} (bytes 0-{len(r.response) - 3}) masked: '
                         "reveal it in the trace's settings.</p>")
        parts.append(_block(f"Response ({len(r.response)} bytes, {r.duration * 1000:.3f} ms)",
                            hex_ascii_lines(response)))
        why = explanation(r)
        if why is not None:
            parts.append(f'<p style="color:{SEVERITY_COLOURS[why.severity]}"><b>SW {why.hex}</b>: '
                         f"{html.escape(why.text)} <span style=\"color:{MUTED}\">({html.escape(why.source)})"
                         "</span></p>")
        self.text.setHtml("".join(parts))
        self._show_tlv(b"" if not self.reveal_secrets and personal_span(r) else r.data)

    def _show_tlv(self, data: bytes) -> None:
        self.tlv.setVisible(fill_tlv(self.tlv, data))


def _overlaps(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in spans)


def fill_tlv(tree: QTreeWidget, data: bytes, hidden: Sequence[tuple[int, int]] = ()) -> bool:
    """`data` as a BER-TLV tree in `tree` (Tag, Name, Length, Value), values that touch a
    `hidden` span (sensitive bytes, masked) shown as dots; False (the tree left empty) when the
    data does not look like TLV."""
    from explorer.core.tlv import TlvNode, decode_tlv, looks_like_tlv  # when a record is shown

    tree.clear()
    result = decode_tlv(data)
    # A broken tree is worth showing when it starts like one (a known tag); raw
    # file contents that merely parse a few bytes deep are not.
    if not (looks_like_tlv(data) or (result.nodes and result.nodes[0].name)):
        return False
    stack: list[tuple[TlvNode, QTreeWidgetItem | None]] = [(n, None) for n in reversed(result.nodes)]
    while stack:
        node, parent = stack.pop()
        value = "" if node.constructed else to_hex(node.value)
        if not node.constructed and _overlaps(node.offset + node.header_length, node.end, hidden):
            value = " ".join(["••"] * len(node.value))
        elif not node.constructed and len(node.value) >= 3 and all(0x20 <= b < 0x7F for b in node.value):
            value += f'  "{node.value.decode("ascii")}"'

        item = QTreeWidgetItem([node.tag_hex, node.name, str(node.length), value])
        item.setToolTip(3, value)
        item.setData(0, TLV_SPAN_ROLE, (node.offset, node.end))
        if parent is None:
            tree.addTopLevelItem(item)
        else:
            parent.addChild(item)
        stack.extend((c, item) for c in reversed(node.children))
    if result.error is not None:
        bad = QTreeWidgetItem(["!", f"offset {result.error.offset}: {result.error.message}", "", ""])
        bad.setForeground(1, QColor(_ERROR))
        tree.addTopLevelItem(bad)
    tree.expandAll()
    for column in range(3):
        tree.resizeColumnToContents(column)
    return True
