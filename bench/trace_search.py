"""Searching a big trace in the window: how long the event loop stalls while
a search runs, against how long the same search takes when run in one go.

A trace panel holds N records (full size a million, --small 400,000) of a
test run's mix (SELECT answered 61xx, its GET RESPONSE, READ BINARY, an
UPDATE answered 67 00). The search field gets "wrong length" typed a key
every 20 ms, then "select" pasted; the panel searches on a thread after the
typing pauses. A 10 ms timer on the GUI thread records the longest wait
between two of its ticks from the first key until the last search's rows
are shown: the longest the window stood still.

The baseline, measured in the same run on the same records, is the same two
searches done the straightforward way, on the GUI thread in one go
(matching_rows): the freeze a window without a search thread would show.

Goal: longest stall / one-go search time <= 0.1 (judged at full size; at
--small the one-go search is short enough that a single scheduler slice of
a loaded machine weighs on the ratio).

Usage: python bench/trace_search.py [--records N] [--small]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from explorer.trace.filter import TraceFilter, matching_rows  # noqa: E402
from explorer.trace.records import Kind, TraceRecord  # noqa: E402
from explorer.trace.store import TraceStore  # noqa: E402
from explorer.ui.trace_panel import TracePanel  # noqa: E402

GOALS = {"stall_ratio_max": 0.1}
READER = "Virtual PCD 00 00"
SHAPES = (  # command, response, origin, an automatic step of the record before
    ("00A4040007A0000000041010", "611C", "console", False),
    ("00C000001C", "6F1A8407A0000000041010A50F500A4D617374657243617264870101" "9000", "get response", True),
    ("00B0000010", "00112233445566778899AABBCCDDEEFF" "9000", "script", False),
    ("00D6000003010203", "6700", "script", False),  # "Wrong length"
)


def records(n: int) -> list[TraceRecord]:
    shapes = [(bytes.fromhex(c), bytes.fromhex(r), o, step) for c, r, o, step in SHAPES]
    return [TraceRecord(seq, Kind.EXCHANGE, 1_700_000_000.0 + seq * 1e-3, READER, origin, 3e-4, "T=0",
                        "shared", command, response, None, "", seq - 1 if step else None)
            for seq, (command, response, origin, step) in zip(range(1, n + 1), itertools.cycle(shapes),
                                                                strict=False)]


class Gaps:
    """The longest wait between two ticks of a 10 ms timer."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.ticks = 0
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self.ticks += 1
        self._last = now


def wait_until(app: QCoreApplication, done: Callable[[], bool], timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the search did not finish")
        app.processEvents()
        time.sleep(0.001)


def measure(n: int) -> dict[str, Any]:
    app = QApplication.instance() or QApplication([])
    store = TraceStore(records=records(n))
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.Format.IniFormat)
        panel = TracePanel(store, settings, live=False)
        panel.resize(1000, 600)
        panel.show()
        QTest.qWaitForWindowExposed(panel)
        app.processEvents()
        gaps = Gaps()
        start = time.perf_counter()
        QTest.keyClicks(panel.search, "wrong length", delay=20)
        wait_until(app, lambda: not panel.busy)
        panel.search.setText("select")
        wait_until(app, lambda: not panel.busy)
        window_s = time.perf_counter() - start
        gaps.timer.stop()
        shown = panel.model.rowCount()
        panel.deleteLater()
        app.processEvents()
    every = store.records()
    start = time.perf_counter()
    matching_rows(every, TraceFilter(text="wrong length"))
    one_go = matching_rows(every, TraceFilter(text="select"))
    one_go_s = time.perf_counter() - start
    if shown != len(one_go):
        raise AssertionError(f"the panel showed {shown} rows, the one-go search found {len(one_go)}")
    return {"records": n, "rows": shown, "stall_ms": round(gaps.longest * 1000, 1), "ticks": gaps.ticks,
            "window_s": round(window_s, 3), "one_go_s": round(one_go_s, 3),
            "stall_ratio": round(gaps.longest / one_go_s, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--small", action="store_true", help="400,000 records (make test)")
    args = parser.parse_args()
    n = 400_000 if args.small else args.records
    figures: dict[str, Any]
    try:
        figures = measure(n)
        ok = figures["stall_ratio"] <= GOALS["stall_ratio_max"]
        print(f"{n:,} records, {figures['rows']:,} shown: the window stalled at most "
              f"{figures['stall_ms']} ms; the same searches in one go take "
              f"{figures['one_go_s'] * 1000:.0f} ms (ratio {figures['stall_ratio']})")
    except Exception as exc:  # reported in the JSON line
        figures, ok = {"records": n, "error": f"{type(exc).__name__}: {exc}"}, False
    print(json.dumps({"bench": "trace_search", **figures, "goals": GOALS, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
