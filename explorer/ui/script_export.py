"""Reports of the script panel's runs, written off the GUI thread (BackgroundWrite).

JUnit XML, the self-contained HTML report and JSON Lines, the same as `card-explorer run`
writes them (explorer/script/). GUI thread only; the report is made and written on the
writing thread, from the frozen ScriptRuns handed over.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from explorer.script.runs import ScriptRun
from explorer.ui.background_write import BackgroundWrite, write_private_text


def _junit(runs: Sequence[ScriptRun]) -> str:
    from explorer.script.junit import junit_xml

    return junit_xml(runs)


def _html(runs: Sequence[ScriptRun]) -> str:
    from explorer.script.report_html import html_report

    return html_report(runs)


def _jsonl(runs: Sequence[ScriptRun]) -> str:
    import io

    from explorer.script.results_jsonl import write_results

    out = io.StringIO()
    write_results(runs, out)
    return out.getvalue()


#: kind -> (what the menu and the file dialog call it, file suffix, the report's text)
REPORTS: dict[str, tuple[str, str, Callable[[Sequence[ScriptRun]], str]]] = {
    "junit": ("JUnit XML", ".xml", _junit),
    "html": ("HTML report", ".html", _html),
    "jsonl": ("JSON Lines", ".jsonl", _jsonl),
}


class ResultsExport(QObject):
    exported = Signal(str, str)  # path, error ("" when written)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._writer = BackgroundWrite(self)
        self._writer.finished.connect(self.exported)

    def start(self, kind: str, path: str, runs: Sequence[ScriptRun]) -> str:
        """Start writing; "" when it started, else why not."""
        if kind not in REPORTS:
            return f"no {kind} report yet (there are: {', '.join(REPORTS)})"
        if not runs:
            return "run a script first: nothing to export"
        make = REPORTS[kind][2]
        frozen = tuple(runs)
        self._writer.start(path, lambda target: write_private_text(target, make(frozen)),
                           name="script-export")
        return ""


_TIPS = {"junit": "for CI servers", "html": "to read or hand on: every exchange, secrets masked",
         "jsonl": "one object per command result, for scripts and jq"}


def export_menu(button: QToolButton, choose: Callable[[str], None]) -> list[QAction]:
    """The button's menu, an entry per report (`choose(kind)` when picked); its actions."""
    menu = QMenu(button)
    actions = []
    for kind, (what, _, _) in REPORTS.items():
        action = menu.addAction(f"{what}…", functools.partial(choose, kind))
        action.setToolTip(f"The results of the last run (every reader, every card) as {what}, {_TIPS[kind]}")
        actions.append(action)
    button.setMenu(menu)
    return actions


def ask_export_path(parent: QWidget, kind: str, stem: str) -> str:
    """Where to write a `kind` report, asked in a file dialog ("" when cancelled)."""
    from PySide6.QtWidgets import QFileDialog  # dialogs are imported when opened

    what, suffix, _ = REPORTS[kind]
    path, _ = QFileDialog.getSaveFileName(parent, "Export the results", str(Path.home() / f"{stem}{suffix}"),
                                          f"{what} (*{suffix});;All files (*)")
    return path
