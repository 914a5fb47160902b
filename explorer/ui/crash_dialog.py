"""The crash dialog: what happened in one sentence, the report to copy, and the app goes on.

Imported by explorer.ui.crash on the first unhandled error only.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QTextOption
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

MAX_REPORTS_SHOWN = 10
SEPARATOR = "-" * 72


class CrashDialog(QDialog):
    """Not modal: the window stays usable. Later errors are appended (up to ten) and counted."""

    def __init__(self, report: str, log_path: str, log_problem: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CrashDialog")
        self.setWindowTitle("Card Explorer: unexpected error")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.count = 1
        self._log_path = log_path
        self._log_problem = log_problem

        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(self.message, 1)

        self.text = QPlainTextEdit(report)
        self.text.setObjectName("report")
        self.text.setReadOnly(True)
        # Wrapped on screen so that nothing hides behind a scroll bar; copied as it was written.
        self.text.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy report")
        self.copy_button.setToolTip("Copy the whole report to the clipboard, for a bug report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_report)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self._update_message()
        self._fit_screen(760, 500)

    def _fit_screen(self, width: int, height: int) -> None:
        parent = self.parentWidget()
        screen = parent.screen() if parent is not None else QGuiApplication.primaryScreen()
        if screen is not None:
            room = screen.availableGeometry()
            width, height = min(width, room.width() - 40), min(height, room.height() - 60)
        self.resize(width, height)

    def _update_message(self) -> None:
        what = ("Card Explorer ran into an error it did not expect." if self.count == 1
                else f"Card Explorer ran into {self.count} errors it did not expect"
                     + (f" (the first {MAX_REPORTS_SHOWN} are below)." if self.count > MAX_REPORTS_SHOWN
                        else "."))
        if self._log_path:
            where = f"The report below is also in the log file<br><code>{html.escape(self._log_path)}</code>"
        else:
            where = f"The report could not be written to a log file ({html.escape(self._log_problem)})."
        self.message.setText(
            f"<b>{html.escape(what)}</b><br>The app is still running, but what you were doing may not "
            f"have finished. Please copy the report into your bug report.<br>{where}")

    def add_report(self, report: str) -> None:
        """Another error while this dialog is open: appended (the first ten), always counted."""
        self.count += 1
        if self.count <= MAX_REPORTS_SHOWN:
            self.text.appendPlainText(f"\n{SEPARATOR}\n\n{report}")
        self._update_message()

    def report_text(self) -> str:
        return self.text.toPlainText()

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report_text())
        self.copy_button.setText("Copied")
