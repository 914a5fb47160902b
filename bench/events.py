"""Insert/remove -> Qt signal latency of the reader monitor, against a raw
SCardGetStatusChange loop watching the same reader in the same run, and the
monitor thread's CPU use while idle.

Both watchers see the same vpcd insert and removal, so each sample is a pair
and the ratio isolates what the monitor adds (the driver's ~400 ms presence
poll dominates both). Usage: python bench/events.py [--samples N] [--idle S] [--small]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal  # noqa: E402
from smartcard import scard  # noqa: E402

from explorer.core.reader_events import CardInserted, CardRemoved, MonitorEvent  # noqa: E402
from explorer.pcsc.qt_monitor import MonitorBridge  # noqa: E402
from explorer.virtual.card import VirtualCard  # noqa: E402
from explorer.virtual.vpcd import VpcdLink  # noqa: E402
from tests.testbed import PcscBed, bench_bed  # noqa: E402

GOAL_RATIO = 1.10
GOAL_CPU_PERCENT = 0.5


class RawWatcher(threading.Thread):
    """The baseline: the plainest loop over SCardGetStatusChange on one reader."""

    def __init__(self, reader: str, on_change: threading.Event, stamps: list[float]) -> None:
        super().__init__(name="raw-watcher", daemon=True)
        self.reader, self.on_change, self.stamps = reader, on_change, stamps
        self.stopping = threading.Event()
        _, self.ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)

    def run(self) -> None:
        _, states = scard.SCardGetStatusChange(self.ctx, 0, [(self.reader, 0)])
        state = states[0][1] & ~scard.SCARD_STATE_CHANGED
        while not self.stopping.is_set():
            hresult, states = scard.SCardGetStatusChange(self.ctx, scard.INFINITE, [(self.reader, state)])
            now = time.perf_counter()
            if hresult != scard.SCARD_S_SUCCESS:
                continue
            new = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if (new ^ state) & scard.SCARD_STATE_PRESENT:
                self.stamps.append(now)
                self.on_change.set()
            state = new

    def stop(self) -> None:
        self.stopping.set()
        while self.is_alive():
            scard.SCardCancel(self.ctx)
            self.join(0.005)
        scard.SCardReleaseContext(self.ctx)


class Done(QObject):
    finished = Signal()


def measure(bed: PcscBed, samples: int, idle: float) -> dict[str, object]:
    app = QCoreApplication.instance() or QCoreApplication([])
    reader = bed.reader_names[0]
    monitor_seen, raw_seen = threading.Event(), threading.Event()
    monitor_stamps: list[float] = []
    raw_stamps: list[float] = []
    bridge = MonitorBridge()

    def on_event(event: MonitorEvent) -> None:
        if isinstance(event, CardInserted | CardRemoved) and event.reader == reader:
            monitor_stamps.append(time.perf_counter())
            monitor_seen.set()

    bridge.monitor_event.connect(on_event)
    raw = RawWatcher(reader, raw_seen, raw_stamps)
    starts: list[float] = []
    result: dict[str, object] = {}
    done = Done()
    done.finished.connect(app.quit)

    def drive() -> None:
        try:
            link = VpcdLink(VirtualCard(), bed.port_of(reader))
            for _ in range(samples):
                for action in (link.insert, link.remove):
                    monitor_seen.clear()
                    raw_seen.clear()
                    starts.append(time.perf_counter())
                    action()
                    if not (monitor_seen.wait(5) and raw_seen.wait(5)):
                        raise RuntimeError("an insert or removal was not seen within 5 s")
            # Idle: nothing changes; the monitor thread should not run at all.
            thread = bridge._monitor._thread
            assert thread is not None and thread.ident is not None
            clock = time.pthread_getcpuclockid(thread.ident)
            cpu0, wall0 = time.clock_gettime(clock), time.perf_counter()
            time.sleep(idle)
            cpu = time.clock_gettime(clock) - cpu0
            result["monitor_cpu_percent"] = round(100 * cpu / (time.perf_counter() - wall0), 4)
        except Exception as exc:  # reported in the JSON line
            result["error"] = str(exc)
        finally:
            done.finished.emit()

    bridge.start()
    raw.start()
    driver = threading.Thread(target=drive, name="bench-driver")
    QTimer.singleShot(300, driver.start)  # let the start-up report settle first
    app.exec()
    driver.join()
    raw.stop()
    bridge.stop()
    app.processEvents()

    def latencies(stamps: list[float], parity: int) -> list[float]:
        return [1000 * (stamps[i] - starts[i]) for i in range(parity, min(len(stamps), len(starts)), 2)]

    figures: dict[str, object] = {"samples": samples, "idle_seconds": idle}
    for name, parity in (("insert", 0), ("remove", 1)):
        mon = statistics.median(latencies(monitor_stamps, parity) or [float("nan")])
        base = statistics.median(latencies(raw_stamps, parity) or [float("nan")])
        figures[f"{name}_ms_monitor"] = round(mon, 2)
        figures[f"{name}_ms_raw"] = round(base, 2)
        figures[f"{name}_ratio"] = round(mon / base, 3) if base else None
    figures.update(result)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--small", action="store_true", help="a quick run (make test)")
    args = parser.parse_args()
    if args.small:
        args.samples, args.idle = 3, 2.0
    with bench_bed() as bed:
        figures = measure(bed, args.samples, args.idle)
    ok = (
        "error" not in figures
        and all(isinstance(figures.get(k), float) and figures[k] <= GOAL_RATIO  # type: ignore[operator]
                for k in ("insert_ratio", "remove_ratio"))
        and float(figures.get("monitor_cpu_percent", 100.0)) < GOAL_CPU_PERCENT  # type: ignore[arg-type]
    )
    print(f"insert: monitor {figures['insert_ms_monitor']} ms, raw {figures['insert_ms_raw']} ms, "
          f"ratio {figures['insert_ratio']}")
    print(f"remove: monitor {figures['remove_ms_monitor']} ms, raw {figures['remove_ms_raw']} ms, "
          f"ratio {figures['remove_ratio']}")
    print(f"monitor thread CPU over {figures['idle_seconds']} s idle: "
          f"{figures.get('monitor_cpu_percent')} % of a core")
    print(json.dumps({"bench": "events", **figures,
                      "goals": {"ratio_max": GOAL_RATIO, "cpu_percent_max": GOAL_CPU_PERCENT},
                      "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
