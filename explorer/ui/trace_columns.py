"""The trace table's column widths: measured from the fonts, and fitted to
the view so that the command, its response and the SW show even in the main
window's narrow trace dock (about 530 px wide at 1024x700).

The two hex columns are elastic: they share what the viewport leaves after
the number, time, command name and SW, within a floor and a ceiling; the
columns after the SW keep their width and are reached by scrolling. Once the
user drags a column's edge, the widths are theirs and fitting stops.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFontDatabase, QFontMetrics
from PySide6.QtWidgets import QTableView

from explorer.ui.trace_model import Col

_PAD = 14  # cell margins and a little air
_BEFORE_HEX = (Col.SEQ, Col.TIME, Col.COMMAND)


def natural_widths(view: QTableView) -> dict[Col, int]:
    text = QFontMetrics(view.font())
    mono = QFontMetrics(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

    def w(sample: str, metrics: QFontMetrics = text) -> int:
        return metrics.horizontalAdvance(sample) + _PAD

    return {
        Col.SEQ: w("↳ 00000"), Col.TIME: w("00:00:00.000000"), Col.COMMAND: w("  GET RESPONSE"),
        Col.APDU: w("00 " * 12, mono), Col.RESPONSE: w("00 " * 12, mono),  # leaves room for the meaning
        Col.SW: max(w("90 00", mono), w("SW")), Col.MEANING: w("x" * 44), Col.MS: w("0000.000"),
        Col.READER: w("Virtual PCD 00 00"), Col.ORIGIN: w("get response"), Col.DELTA: w("00000.000"),
    }


class ColumnFitter(QObject):
    """Keeps a trace view's columns fitted to its viewport until the user resizes one."""

    def __init__(self, view: QTableView) -> None:
        super().__init__(view)
        self._view = view
        self._widths = natural_widths(view)
        mono = QFontMetrics(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.floor = mono.horizontalAdvance("00 00 00 0") + _PAD  # the header bytes, nearly
        self._fitting = False
        self.user_sized = False
        header = view.horizontalHeader()
        header.sectionResized.connect(self._resized)
        self._fitting = True
        for column, width in self._widths.items():
            header.resizeSection(column, width)
        self._fitting = False
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and not self.user_sized:
            self.fit()
        return False

    def fit(self) -> None:
        view = self._view
        left = view.viewport().width() - sum(self._widths[c] for c in (*_BEFORE_HEX, Col.SW))
        share = max(self.floor, min(self._widths[Col.APDU], left // 2))
        self._fitting = True
        header = view.horizontalHeader()
        header.resizeSection(Col.APDU, share)
        header.resizeSection(Col.RESPONSE, share)
        self._fitting = False

    def _resized(self, section: int, old: int, new: int) -> None:
        if not self._fitting:
            self.user_sized = True
