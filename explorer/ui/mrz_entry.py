"""The passport MRZ field of the Analysis dock: document number, birth and expiry dates (or the
whole MRZ pasted), which Basic Access Control derives its keys from.

Personal data: never saved (not in the settings, not in a history), cleared when the window
closes, and shown as dots until the user looks (the eye action). Checked as typed: a wrong
check digit or date is named at once, before anything is sent. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLineEdit, QWidget

from explorer.core.status_words import Severity
from explorer.ui.console_transcript import SEVERITY_COLOURS

_ERROR = SEVERITY_COLOURS[Severity.ERROR]
HINT = "Passport MRZ: number, birth, expiry (L898902C<, 690806, 940623) or the MRZ pasted"
TIP = f"{HINT}.\nFor the eMRTD analyzer's Basic Access Control; never saved."


class MrzEntry(QLineEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(HINT)
        self.setToolTip(TIP)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self.setClearButtonEnabled(True)
        self.show_action = QAction("Show", self)
        self.show_action.setCheckable(True)
        self.show_action.setToolTip("Show what is typed")
        self.show_action.toggled.connect(lambda on: self.setEchoMode(
            QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        self.addAction(self.show_action, QLineEdit.ActionPosition.TrailingPosition)
        self.textChanged.connect(self._check)
        self.problem = ""

    def information(self) -> str | None:
        """The MRZ information BAC needs (None when the field is empty); ValueError saying what is
        wrong with what was typed."""
        text = self.text().strip()
        if not text:
            return None
        from explorer.apps.emrtd.entry import mrz_information_from

        return mrz_information_from(text)

    def _check(self) -> None:
        try:
            self.information()
        except ValueError as exc:
            self.problem = str(exc)
        else:
            self.problem = ""
        self.setStyleSheet(f"QLineEdit {{ border: 1px solid {_ERROR}; }}" if self.problem else "")
        self.setToolTip(self.problem or TIP)
