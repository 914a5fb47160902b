"""The cards of a run on every card inserted: number, ATR, verdict and time, one row each.
GUI thread only."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from explorer.core.hexfmt import to_hex
from explorer.ui.script_results import VERDICT_COLOURS
from explorer.ui.script_session import CardOutcome


class CardsList(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Card", "ATR", "Verdict", "Time"])
        self.setRootIsDecorated(False)
        self.setMaximumHeight(self.fontMetrics().height() * 7)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the ATR
        for section, sample in ((0, "Card 000"), (2, "passed  "), (3, "00:00:00  ")):
            header.resizeSection(section, self.fontMetrics().horizontalAdvance(sample) + 16)

    def add(self, card: CardOutcome) -> None:
        verdict = card.verdict.value if card.verdict is not None else f"not run: {card.note}"
        item = QTreeWidgetItem([str(card.number), to_hex(card.atr) or "(no ATR)", verdict,
                                datetime.fromtimestamp(card.at).strftime("%H:%M:%S")])
        if card.verdict is not None:
            item.setForeground(2, QColor(VERDICT_COLOURS[card.verdict]))
        item.setToolTip(1, to_hex(card.atr))
        self.addTopLevelItem(item)
        self.scrollToItem(item)
