"""Start-up time: spawn to the first painted window, the app against a bare PySide6 window.

Three kinds of child process, run in turn in the same run (the order rotates
each round), N of each (full size 15, --small 3), after one untimed warm-up
of each so that the .pyc files are written and warm (PYTHONDONTWRITEBYTECODE
is dropped from the children's environment: an installed app has its .pyc
files):

- app: `python -m explorer`, the way a user starts it (explorer/__main__.py
  -> explorer.cli.main -> the GUI), offscreen (QT_QPA_PLATFORM=offscreen),
  with a scratch XDG_CONFIG_HOME, XDG_DATA_HOME and XDG_STATE_HOME per run
  (no saved layout: a first run; the journal and the log go there), and
  PCSCLITE_CSOCK_NAME pointing at a socket that does not exist, so that
  pcsc-lite finds no service at once, whatever pcscd runs on the machine:
  the app then opens its embedded virtual reader with the demo card, the
  first-run experience without a reader (the PC/SC probe runs after the
  window is shown, as always; its answer and the demo card may land before
  or after the first frame). The window is the real one, built as a user
  gets it. The hidden variable CARD_EXPLORER_EXIT_WHEN_SHOWN=1
  (explorer/ui/first_frame.py) makes it print `shown <time.monotonic()>
  <CPU seconds>` once its first frame is painted, then close as File > Quit
  would;
- bare: a script that creates a QApplication and a QMainWindow of the same
  size (1200x800, as MainWindow resizes itself), shows it and reports its
  first painted frame the same way. The goal is judged against this one;
- widgets: for reference, the same kinds of widgets in the same four docks,
  status bar and menus, in plain PySide6 with empty models and no app code:
  what this window costs PySide6 itself (building Python enums for every Qt
  class taken from its module, the widgets, the first paint). The app cannot
  come up faster than this;
- preloaded: the app again, started the same way (explorer.cli.main), in a
  child that has imported PySide6 and then every module the app imports on
  the way to its window (explorer.ui.app, explorer.pcsc.qt_monitor and what
  they pull in) before it starts; the time it spent importing those modules
  is taken off its time. What is left is what no import on use can save: Qt
  building and painting the real window, the app's start-up code (log,
  journal, settings, PC/SC threads). If this is above the goal, the goal
  cannot be met by importing less.

"First painted frame": at the window's first paint event a 0 ms timer is
started; it fires once Qt has painted the whole frame, and the child prints
CLOCK_MONOTONIC (system-wide on Linux) then. The time of a run is that stamp
minus the parent's `time.monotonic()` just before it spawns the child, so it
includes the interpreter's start. Anything the app does before that frame
counts; what it does afterwards does not. The CPU seconds the child used by
then are reported too: they move less than wall time on a busy machine.

Goal: median app / median bare <= 1.5 (judged at full size; --small runs the
same measurement with 3 runs each, too few to judge).

Usage: python bench/startup.py [--runs N] [--small]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GOAL_RATIO = 1.5
RUNS = 15
SMALL_RUNS = 3
TIMEOUT_S = 60.0
KINDS = ("app", "bare", "widgets", "preloaded")

FIRST_FRAME = """\
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer


class FirstFrame(QObject):
    def __init__(self, window):
        super().__init__(window)
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched, event):
        if watched is self._window and event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            QTimer.singleShot(0, self._shown)
        return False

    def _shown(self):
        sys.stdout.write(f"shown {time.monotonic():.6f} {time.process_time():.6f}\\n")
        sys.stdout.flush()
        self._window.close()
"""

BARE = FIRST_FRAME + """
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv)
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(1200, 800)
FirstFrame(window)
window.show()
sys.exit(app.exec())
"""

WIDGETS = FIRST_FRAME + """
from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QCheckBox, QComboBox, QDockWidget, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QMainWindow, QMenu, QPlainTextEdit, QPushButton, QSplitter, QTableView, QTextBrowser, QToolButton,
    QTreeView, QTreeWidget, QVBoxLayout, QWidget,
)

DISPLAY, HORIZONTAL = Qt.ItemDataRole.DisplayRole, Qt.Orientation.Horizontal


class Empty:
    # No rows; numbered headers.

    def rowCount(self, parent=QModelIndex()):
        return 0

    def data(self, index, role=DISPLAY):
        return None

    def headerData(self, section, orientation, role=DISPLAY):
        return f"column {section}" if role == DISPLAY and orientation == HORIZONTAL else None


class Tree(Empty, QAbstractItemModel):
    def index(self, row, column, parent=QModelIndex()):
        return QModelIndex()

    def parent(self, index):
        return QModelIndex()

    def columnCount(self, parent=QModelIndex()):
        return 3


class Table(Empty, QAbstractTableModel):
    def columnCount(self, parent=QModelIndex()):
        return 10


def stacked(top, bottom):
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.addWidget(top)
    splitter.addWidget(bottom)
    return splitter


def tree(owner):
    view = QTreeView()
    view.setModel(Tree(owner))
    view.setUniformRowHeights(True)
    view.setAlternatingRowColors(True)
    view.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
    view.header().setStretchLastSection(True)
    return view


def row(layout, *widgets):
    line = QHBoxLayout()
    for widget in widgets:
        line.addWidget(widget)
    layout.addLayout(line)


def combo(*items):
    box = QComboBox()
    box.addItems(items)
    return box


def panel(kind):
    mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    widget = QWidget()
    layout = QVBoxLayout(widget)
    if kind == "readers":
        layout.addWidget(tree(widget))
    elif kind == "console":
        row(layout, combo("T=0|T=1", "T=0", "T=1", "raw"), combo("shared", "exclusive", "direct"),
            QPushButton("Connect"), QPushButton("Disconnect"), QPushButton("Reset"),
            QCheckBox("GET RESPONSE"), QCheckBox("6Cxx re-send"))
        editor = QPlainTextEdit()
        editor.setFont(mono)
        layout.addWidget(editor)
        layout.addWidget(QLabel("Type a command APDU"))
        structure = QTreeWidget()
        structure.setHeaderLabels(["Field", "Value", "Meaning"])
        transcript = QTextBrowser()
        transcript.setFont(mono)
        layout.addWidget(stacked(structure, transcript), 1)
        row(layout, QPushButton("Send"), QPushButton("Stop waiting"), QPushButton("History"))
    elif kind == "atr":
        layout.addWidget(QLabel("No card selected"))
        edit = QLineEdit()
        edit.setFont(mono)
        edit.setClearButtonEnabled(True)
        copy = QToolButton()
        copy.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        as_text = QAction("Copy as text", widget)
        copy.setDefaultAction(as_text)
        menu = QMenu(copy)
        menu.addActions([as_text, QAction("Copy as JSON", widget)])
        copy.setMenu(menu)
        row(layout, edit, copy, QToolButton())
        for _ in range(4):
            layout.addWidget(QLabel())
        info = QTextBrowser()
        info.setHtml("<h4>Identification</h4><p>Reading the ATR list</p>")
        layout.addWidget(stacked(tree(widget), info), 1)
    else:
        row(layout, combo("All readers"), combo("All origins", "console", "script"),
            combo("All results", "failures", "warnings", "successes", "events"), QLineEdit(),
            QPushButton("Clear view"), QPushButton("Export"))
        table = QTableView()
        table.setModel(Table(widget))
        table.horizontalHeader().setStretchLastSection(True)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.addWidget(QTextBrowser())
        tlv = QTreeWidget()
        tlv.setHeaderLabels(["Tag", "Name", "Value"])
        detail_layout.addWidget(tlv)
        layout.addWidget(stacked(table, detail), 1)
    return widget


app = QApplication(sys.argv)
window = QMainWindow()
window.setWindowTitle("widgets")
window.setDockNestingEnabled(True)
docks = {}
for kind in ("readers", "console", "atr", "trace"):
    dock = QDockWidget(kind, window)
    dock.setObjectName(kind)
    dock.setWidget(panel(kind))
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    docks[kind] = dock
window.splitDockWidget(docks["readers"], docks["console"], Qt.Orientation.Horizontal)
window.splitDockWidget(docks["readers"], docks["atr"], Qt.Orientation.Vertical)
window.splitDockWidget(docks["console"], docks["trace"], Qt.Orientation.Vertical)
window.resize(1200, 800)
window.resizeDocks([docks["readers"], docks["console"]], [560, 640], Qt.Orientation.Horizontal)
window.statusBar().addWidget(QLabel("PC/SC service: connecting"), 1)
window.statusBar().addPermanentWidget(QLabel("0 readers, 0 cards"))
for title in ("&File", "&Virtual", "&View", "&Help"):
    menu = window.menuBar().addMenu(title)
    for i in range(5):
        action = QAction(f"{title} {i}", window)
        action.setShortcut(QKeySequence.StandardKey.Open)
        menu.addAction(action)
FirstFrame(window)
window.show()
sys.exit(app.exec())
"""


PRELOADED = """\
import sys
import time

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

start = time.monotonic()
import explorer.cli
import explorer.pcsc.qt_monitor
import explorer.ui.app
import explorer.ui.first_frame

sys.stdout.write(f"imported {time.monotonic() - start:.6f}\\n")
sys.stdout.flush()
sys.exit(explorer.cli.main([]))
"""


def one_run(command: list[str], scratch: Path, n: int) -> tuple[float, float]:
    """Seconds from spawning `command` to the first painted frame it reports, and the CPU
    seconds the child had used by then."""
    run_dir = scratch / f"run-{n}"
    run_dir.mkdir()
    # PYTHONDONTWRITEBYTECODE dropped: the warm-up writes the .pyc files, as an install does.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CARD_EXPLORER_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(QT_QPA_PLATFORM="offscreen", CARD_EXPLORER_EXIT_WHEN_SHOWN="1",
               XDG_CONFIG_HOME=str(run_dir / "config"), XDG_DATA_HOME=str(run_dir / "data"),
               XDG_STATE_HOME=str(run_dir / "state"), PCSCLITE_CSOCK_NAME=str(scratch / "no-pcscd.comm"))
    start = time.monotonic()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        out, err = child.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise RuntimeError(f"{command[1:]} did not exit within {TIMEOUT_S} s") from None
    stamps = [line.split()[1:3] for line in out.splitlines() if line.startswith("shown ")]
    # The preloaded app's own imports do not count (see the module's docstring).
    imported = sum(float(line.split()[1]) for line in out.splitlines() if line.startswith("imported "))
    if child.returncode != 0 or len(stamps) != 1:
        raise RuntimeError(f"{command[1:]} exited {child.returncode} with {len(stamps)} 'shown' "
                           f"line(s): {err.strip()[-500:]}")
    return float(stamps[0][0]) - start - imported, float(stamps[0][1]) - imported


def measure(runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="card-explorer-startup-") as tmp:
        scratch = Path(tmp)
        commands = {"app": [sys.executable, "-m", "explorer"]}
        for kind, source in (("bare", BARE), ("widgets", WIDGETS), ("preloaded", PRELOADED)):
            script = scratch / f"{kind}.py"
            script.write_text(source)
            commands[kind] = [sys.executable, str(script)]
        n = 0
        for command in commands.values():  # warm-up: .pyc files written, disk cache warm
            one_run(command, scratch, n := n + 1)
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for i in range(runs):
            # Rotate the order, so that no kind always follows the same one.
            for kind in KINDS[i % len(KINDS):] + KINDS[:i % len(KINDS)]:
                wall, used = one_run(commands[kind], scratch, n := n + 1)
                times[kind].append(wall)
                cpu[kind].append(used)
    wall_ms = {k: 1000 * statistics.median(times[k]) for k in KINDS}
    cpu_ms = {k: 1000 * statistics.median(cpu[k]) for k in KINDS}
    figures: dict[str, object] = {"runs": runs}
    for k in KINDS:
        figures[f"{k}_median_ms"] = round(wall_ms[k], 1)
    figures["ratio"] = round(wall_ms["app"] / wall_ms["bare"], 2)
    figures["widgets_ratio"] = round(wall_ms["widgets"] / wall_ms["bare"], 2)
    figures["preloaded_ratio"] = round(wall_ms["preloaded"] / wall_ms["bare"], 2)
    for k in KINDS:
        figures[f"{k}_min_ms"] = round(1000 * min(times[k]), 1)
        figures[f"{k}_max_ms"] = round(1000 * max(times[k]), 1)
    for k in KINDS:
        figures[f"{k}_cpu_median_ms"] = round(cpu_ms[k], 1)
    figures["cpu_ratio"] = round(cpu_ms["app"] / cpu_ms["bare"], 2)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs of each (default {RUNS})")
    parser.add_argument("--small", action="store_true", help=f"{SMALL_RUNS} runs of each (make test)")
    args = parser.parse_args()
    runs = SMALL_RUNS if args.small else args.runs
    ok = False
    try:
        figures = measure(runs)
    except Exception as exc:  # reported in the JSON line
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    if "error" not in figures:
        ratio = figures["ratio"]
        assert isinstance(ratio, float)
        ok = ratio <= GOAL_RATIO
        print(f"spawn to first painted window, offscreen, median of {runs} runs each:")
        for kind, what in (("app", "python -m explorer"), ("bare", "QApplication + empty window"),
                           ("widgets", "same widgets, no app code"),
                           ("preloaded", "app, its imports not counted")):
            print(f"  {kind:<9} ({what:<29}) {figures[f'{kind}_median_ms']:>7} ms  "
                  f"(min {figures[f'{kind}_min_ms']}, max {figures[f'{kind}_max_ms']}; "
                  f"CPU {figures[f'{kind}_cpu_median_ms']} ms)")
        print(f"  app / bare {ratio}  goal <= {GOAL_RATIO}  (CPU {figures['cpu_ratio']}); "
              f"widgets / bare {figures['widgets_ratio']}; preloaded / bare {figures['preloaded_ratio']}")
    print(json.dumps({"bench": "startup", **figures, "goals": {"ratio_max": GOAL_RATIO}, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
