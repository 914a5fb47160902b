"""Start-up time: spawn to the first painted window, the app against a bare PySide6 window.

Two kinds of child process, run alternately in the same run, N of each
(full size 15, --small 3), after one untimed warm-up of each so that the
.pyc files are written and warm (PYTHONDONTWRITEBYTECODE is dropped from the
children's environment: an installed app has its .pyc files):

- app: `python -m explorer`, the way a user starts it (explorer/__main__.py
  -> explorer.cli.main -> the GUI), offscreen (QT_QPA_PLATFORM=offscreen),
  with a scratch XDG_CONFIG_HOME and XDG_DATA_HOME per run (no saved layout:
  a first run), and PCSCLITE_CSOCK_NAME pointing at a socket that does not
  exist, so that pcsc-lite finds no service at once, whatever pcscd runs on
  the machine: the app then opens its embedded virtual reader with the demo
  card, the first-run experience without a reader. The window is the real
  one, built as a user gets it. The hidden variable
  CARD_EXPLORER_EXIT_WHEN_SHOWN=1 (explorer/ui/first_frame.py) makes it
  print `shown <time.monotonic()>` once its first frame is painted, then
  close as File > Quit would;
- bare: a script that creates a QApplication and a QMainWindow of the same
  size (1200x800, as MainWindow resizes itself), shows it and reports its
  first painted frame the same way.

"First painted frame": at the window's first paint event a 0 ms timer is
started; it fires once Qt has painted the whole frame, and the child prints
CLOCK_MONOTONIC (system-wide on Linux) then. The time of a run is that stamp
minus the parent's `time.monotonic()` just before it spawns the child, so it
includes the interpreter's start. Anything the app does before that frame
(imports, building the window, the PC/SC probe's answer if it lands first)
counts; what it does afterwards does not.

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

BARE = """\
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


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


app = QApplication(sys.argv)
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(1200, 800)
FirstFrame(window)
window.show()
sys.exit(app.exec())
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
               PCSCLITE_CSOCK_NAME=str(scratch / "no-pcscd.comm"))
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
    if child.returncode != 0 or len(stamps) != 1:
        raise RuntimeError(f"{command[1:]} exited {child.returncode} with {len(stamps)} 'shown' "
                           f"line(s): {err.strip()[-500:]}")
    return float(stamps[0][0]) - start, float(stamps[0][1])


def measure(runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="card-explorer-startup-") as tmp:
        scratch = Path(tmp)
        bare_script = scratch / "bare.py"
        bare_script.write_text(BARE)
        commands = {"app": [sys.executable, "-m", "explorer"],
                    "bare": [sys.executable, str(bare_script)]}
        n = 0
        for command in commands.values():  # warm-up: .pyc files written, disk cache warm
            one_run(command, scratch, n := n + 1)
        times: dict[str, list[float]] = {"app": [], "bare": []}
        cpu: dict[str, list[float]] = {"app": [], "bare": []}
        for i in range(runs):
            # Alternate which goes first, so neither always follows the other.
            for kind in ("app", "bare") if i % 2 == 0 else ("bare", "app"):
                wall, used = one_run(commands[kind], scratch, n := n + 1)
                times[kind].append(wall)
                cpu[kind].append(used)
    app, bare = (statistics.median(times[k]) for k in ("app", "bare"))
    app_cpu, bare_cpu = (statistics.median(cpu[k]) for k in ("app", "bare"))
    return {
        "runs": runs,
        "app_median_ms": round(1000 * app, 1),
        "bare_median_ms": round(1000 * bare, 1),
        "ratio": round(app / bare, 2),
        "app_min_ms": round(1000 * min(times["app"]), 1),
        "app_max_ms": round(1000 * max(times["app"]), 1),
        "bare_min_ms": round(1000 * min(times["bare"]), 1),
        "bare_max_ms": round(1000 * max(times["bare"]), 1),
        "app_cpu_median_ms": round(1000 * app_cpu, 1),
        "bare_cpu_median_ms": round(1000 * bare_cpu, 1),
        "cpu_ratio": round(app_cpu / bare_cpu, 2),
    }


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
        print(f"  app  (python -m explorer)     {figures['app_median_ms']:>7} ms  "
              f"(min {figures['app_min_ms']}, max {figures['app_max_ms']})")
        print(f"  bare (QApplication + window)  {figures['bare_median_ms']:>7} ms  "
              f"(min {figures['bare_min_ms']}, max {figures['bare_max_ms']})")
        print(f"  ratio {ratio}  goal <= {GOAL_RATIO}")
        print(f"  CPU used by then: app {figures['app_cpu_median_ms']} ms, "
              f"bare {figures['bare_cpu_median_ms']} ms, ratio {figures['cpu_ratio']} "
              "(less sensitive to a busy machine; the goal is on wall time)")
    print(json.dumps({"bench": "startup", **figures, "goals": {"ratio_max": GOAL_RATIO}, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
