"""The console's structured view of the typed command: one row per field, with its
meaning; CLA, INS, P1, P2, Data and Le can be typed in, Lc and the encoding follow."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from explorer.core.apdu import CommandApdu
from explorer.core.apdu_edit import EDITABLE, FieldError, edit_field
from explorer.core.apdu_text import CommandCheck
from explorer.core.hexfmt import to_hex
from explorer.core.status_words import Severity
from explorer.ui.console_transcript import MUTED, SEVERITY_COLOURS

_ERROR = SEVERITY_COLOURS[Severity.ERROR]


class ApduStructure(QTreeWidget):
    """GUI thread only. `edited(text)`: the whole command as hex after a field was typed;
    `refused(message)`: the typed value cannot be used (the message names the field)."""

    edited = Signal(str)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Field", "Bytes", "Meaning"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.setColumnWidth(1, 220)
        self.setToolTip("Double-click CLA, INS, P1, P2, Data or Le to edit it: Lc and the encoding follow")
        self.setEditTriggers(QTreeWidget.EditTrigger.DoubleClicked | QTreeWidget.EditTrigger.EditKeyPressed)
        self._command: CommandApdu | None = None
        self._filling = False
        self.itemChanged.connect(self._item_changed)

    def show_check(self, check: CommandCheck) -> None:
        self._command = check.command
        self._filling = True  # itemChanged fires for every row put in
        try:
            self.clear()
            for name, value, meaning in structure_rows(check):
                editable = check.command is not None and name in EDITABLE
                if editable or len(value) <= 24:
                    shown = to_hex(value)  # an editable value whole: it is what the editor starts from
                else:
                    shown = f"{to_hex(value[:24])} … ({len(value)} bytes)"
                item = QTreeWidgetItem(self, [name, shown, meaning])
                if editable:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                if name == "?":
                    item.setForeground(2, QColor(_ERROR))
                elif not value:
                    item.setForeground(2, QColor(MUTED))
        finally:
            self._filling = False

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        command = self._command
        if self._filling or column != 1 or command is None:
            return
        try:
            edited = edit_field(command, item.text(0), item.text(1))
        except FieldError as exc:
            error = str(exc)
            # Not from inside the editor's commit: the rows are rebuilt, which deletes this item.
            QTimer.singleShot(0, lambda: self.refused.emit(error))
            return
        QTimer.singleShot(0, lambda: self.edited.emit(to_hex(edited.to_bytes())))


def structure_rows(check: CommandCheck) -> list[tuple[str, bytes, str]]:
    """(field, bytes, meaning) rows; for a faulty command the header still, then the fault.
    A command without data or Le has empty rows for them, to be typed into."""
    if check.command is not None:
        rows = [(f.name, f.value, f.meaning) for f in check.command.fields()]
        if not check.command.data:
            rows.insert(4, ("Data", b"", "none: double-click to add data (Lc follows)"))
        if check.command.le is None:
            rows.append(("Le", b"", "none: double-click to ask for response bytes (00 = 256)"))
        return rows
    raw = check.apdu or b""
    if len(raw) < 4:
        return []
    try:
        header = [(f.name, f.value, f.meaning) for f in CommandApdu(*raw[:4]).fields()]
    except ValueError:  # INS 6X/9X: the fault is in the header itself
        header = []
    return [*header, ("?", raw[len(header):], check.message)]
