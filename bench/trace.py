"""Trace store speed and size: a million records appended (journal on disk),
then a text filter over them and a JSON Lines export of them.

Each record is appended as the app appends it: `TraceStore.add_exchange` of
an Exchange (record built, sequence number, parent for automatic steps, one
journal line written with os.write, secrets masked as in the window's session
journal). The baseline, measured in the same run on the same exchanges, is
what a straightforward logger does: json.dumps of a dict and a buffered file
write per exchange (which a SIGKILL would cut short by up to a buffer's
worth, where ours loses at most one record).

Goals: appending at most 1.6 times the straightforward logger's time (ours
writes each record whole with its own os.write and checks it for secrets to
mask), at most 600 MB of resident memory for a million, a text filter under
1 s, the JSON Lines export under 10 s.
At --small (50,000 records), memory and times are scaled to a million.

Usage: python bench/trace.py [--records N] [--small]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explorer.core.exchange import Exchange, Origin  # noqa: E402
from explorer.core.link_modes import Protocol, ShareMode  # noqa: E402
from explorer.trace.export import journal_encoder  # noqa: E402
from explorer.trace.filter import TraceFilter, matching_rows  # noqa: E402
from explorer.trace.journal import Journal  # noqa: E402
from explorer.trace.store import TraceStore  # noqa: E402

GOALS = {"ratio_vs_naive_max": 1.6, "rss_mb_per_million": 600, "filter_s_per_million": 1.0,
         "export_s_per_million": 10.0}
MILLION = 1_000_000


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def exchanges(n: int) -> list[Exchange]:
    """A test run's mix: SELECTs answered 61xx and their GET RESPONSE, reads,
    now and then a 6A 82; each command carries its counter."""
    readers = ("Virtual PCD 00 00", "Virtual PCD 00 01")
    fci = bytes.fromhex("6F1A8407A0000000041010A50F500A4D617374657243617264870101")
    now = time.time()
    out = []
    for i in range(n):
        reader = readers[i % 2]
        counter = i.to_bytes(4, "big")
        if i % 20 == 0:
            out.append(Exchange(reader, b"\x00\xa4\x04\x00\x04" + counter, b"\x61\x1c", now + i * 1e-4,
                                1.2e-4, Origin.SCRIPT, Protocol.T0, ShareMode.SHARED))
        elif i % 20 == 1:
            out.append(Exchange(reader, b"\x00\xc0\x00\x00\x1c", fci + b"\x90\x00", now + i * 1e-4, 1.1e-4,
                                Origin.GET_RESPONSE, Protocol.T0, ShareMode.SHARED))
        else:
            sw = b"\x6a\x82" if i % 50 == 7 else b"\x90\x00"
            out.append(Exchange(reader, b"\x00\xb0" + counter[2:] + b"\x10", counter * 4 + sw, now + i * 1e-4,
                                9e-5, Origin.SCRIPT, Protocol.T0, ShareMode.SHARED))
    return out


def naive_logger(items: list[Exchange], path: Path) -> float:
    start = time.perf_counter()
    with path.open("w") as f:
        for seq, e in enumerate(items, 1):
            f.write(json.dumps({"seq": seq, "time": e.started, "reader": e.reader, "origin": e.origin.value,
                                "duration": e.duration, "command": e.command.hex(),
                                "response": e.response.hex(), "error": e.error}) + "\n")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=MILLION)
    parser.add_argument("--small", action="store_true", help="50,000 records (make test)")
    args = parser.parse_args()
    n = 50_000 if args.small else args.records
    scale = MILLION / n
    figures: dict[str, object] = {"records": n}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # Memory counts the commands and responses too: in the app each
            # exchange's bytes are new, and the record keeps them.
            gc.collect()
            before = rss_mb()
            items = exchanges(n)
            store = TraceStore(Journal.new_session(Path(tmp), journal_encoder(keep_secrets=False)))
            add = store.add_exchange
            start = time.perf_counter()
            for e in items:
                add(e)
            append_s = time.perf_counter() - start
            store.close()
            naive_s = naive_logger(items, Path(tmp) / "naive.jsonl")
            del items
            gc.collect()
            grown = rss_mb() - before
            start = time.perf_counter()
            hits = matching_rows(store.records(), TraceFilter(text="6A 82"))
            filter_s = time.perf_counter() - start
            from explorer.trace import jsonl

            start = time.perf_counter()
            with open(Path(tmp) / "export.jsonl", "w", encoding="utf-8") as f:
                f.write(jsonl.header(records=n))
                f.writelines(jsonl.encode(r) for r in store.records())
            export_s = time.perf_counter() - start
            figures.update(
                records_per_s=round(n / append_s), append_s=round(append_s, 3),
                naive_records_per_s=round(n / naive_s), ratio_vs_naive=round(append_s / naive_s, 2),
                rss_growth_mb=round(grown, 1), rss_mb_per_million=round(grown * scale, 1),
                filter_s=round(filter_s, 3), filter_hits=len(hits), export_s=round(export_s, 3),
                journal_mb=round(os.path.getsize(store.journal.path) / 2**20, 1),  # type: ignore[union-attr]
            )
            ok = (append_s / naive_s <= GOALS["ratio_vs_naive_max"]
                  and grown * scale <= GOALS["rss_mb_per_million"]
                  and filter_s * scale < GOALS["filter_s_per_million"]
                  and export_s * scale < GOALS["export_s_per_million"])
    except Exception as exc:  # reported in the JSON line
        figures["error"] = f"{type(exc).__name__}: {exc}"
        ok = False
    if "error" not in figures:
        print(f"{n} records appended: {figures['records_per_s']} records/s "
              f"(a json.dumps logger: {figures['naive_records_per_s']}/s, ratio {figures['ratio_vs_naive']})")
        print(f"memory: +{figures['rss_growth_mb']} MB ({figures['rss_mb_per_million']} MB per million); "
              f"journal {figures['journal_mb']} MB")
        print(f"filter '6A 82': {figures['filter_s']} s, {figures['filter_hits']} hits; "
              f"JSON Lines export: {figures['export_s']} s")
    print(json.dumps({"bench": "trace", **figures, "goals": GOALS, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
