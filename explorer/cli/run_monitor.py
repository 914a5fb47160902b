"""What `card-explorer monitor` does; its arguments are in explorer.cli.monitor, which every
start imports (the window's too)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import queue
import signal
import sys
from datetime import datetime
from types import FrameType

from explorer.core.hexfmt import to_hex
from explorer.core.printable import printable
from explorer.core.reader_events import MonitorEvent, describe


def event_json(event: MonitorEvent) -> dict[str, object]:
    kind, reader, text = describe(event)
    out: dict[str, object] = {
        "time": datetime.fromtimestamp(event.at).astimezone().isoformat(timespec="microseconds"),
        "event": type(event).__name__,
        "kind": kind,
        "text": text,
    }
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if f.name == "at":
            continue
        out[f.name] = to_hex(value) if isinstance(value, bytes) else (
            int(value) if isinstance(value, int) and not isinstance(value, bool) else value)
    if reader:
        out["reader"] = reader
    return out


def event_line(event: MonitorEvent) -> str:
    kind, reader, text = describe(event)
    stamp = datetime.fromtimestamp(event.at).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{stamp}  {kind:<8} {reader + '  ' if reader else ''}{text}"


class _Terminated(Exception):
    """SIGTERM: a request to stop (a service manager, `kill`), which is not an interruption."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def run_monitor(args: argparse.Namespace) -> int:
    from explorer.cli import EXIT_INTERRUPTED, EXIT_OK
    from explorer.pcsc.monitor import ReaderMonitor

    events: queue.Queue[MonitorEvent] = queue.Queue()
    monitor = ReaderMonitor(events.put)
    signal.signal(signal.SIGTERM, _terminate)
    status = EXIT_OK
    try:
        monitor.start()
        while True:
            try:
                event = events.get(timeout=0.5)  # a timeout so Ctrl-C is seen promptly
            except queue.Empty:
                continue
            # A reader name comes from a driver: no control character reaches the terminal.
            line = json.dumps(event_json(event)) if args.json else printable(event_line(event))
            print(line, flush=True)
    except KeyboardInterrupt:
        # Ctrl-C ends `monitor` as it ends every command: 130, as the README says.
        status = EXIT_INTERRUPTED
    except _Terminated:
        pass
    finally:
        monitor.stop()
        sys.stdout.flush()
    return status
