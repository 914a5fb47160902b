"""ATR decoding and identification speed, against pyscard's ATR parser.

Every concrete ATR of smartcard_list.txt (the system's pcsc-tools copy, else
the bundled one; ~3800 ATRs) goes through, in one process and on the same
list:

- ours: `decode_atr(raw)` then `db.lookup(raw)`, what `card-explorer atr`
  does per ATR (the database is loaded once, before timing);
- pyscard: `smartcard.ATR.ATR(list(raw))`, the baseline a script would use.
  It parses only the interface bytes and TCK (no historical bytes, no names),
  so it is expected to be faster; it raises on some broken ATRs, counted as
  failures;
- our decode alone and our lookup alone, and every lookup timed on its own
  (best of the passes per ATR, so a stray interrupt does not make the max).

Each figure is the best of 3 passes. No reader or pcscd is needed.

Goals: all ATRs decoded and identified in under 1 s (at --small, judged on
the time scaled to the whole list), every lookup under 1000 µs.

Usage: python bench/atr.py [--small]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smartcard.ATR import ATR as PyscardAtr  # noqa: E402

from explorer.core.atr import decode_atr  # noqa: E402
from explorer.core.atrdb import AtrDatabase, default_database  # noqa: E402

GOAL_ALL_ATRS_S = 1.0
GOAL_LOOKUP_US = 1000
PASSES = 3
SMALL = 300


def best_of(passes: int, once: Callable[[], object]) -> float:
    clock = time.perf_counter
    best = float("inf")
    for _ in range(passes):
        start = clock()
        once()
        best = min(best, clock() - start)
    return best


def measure(db: AtrDatabase, atrs: list[bytes]) -> dict[str, object]:
    lookup = db.lookup

    def ours() -> None:
        for raw in atrs:
            decode_atr(raw)
            lookup(raw)

    def decode_only() -> None:
        for raw in atrs:
            decode_atr(raw)

    def lookup_only() -> None:
        for raw in atrs:
            lookup(raw)

    failures = 0

    def pyscard() -> None:
        nonlocal failures
        failures = 0
        for raw in atrs:
            try:
                PyscardAtr(list(raw))
            except Exception:  # its failures are a result, not a fault
                failures += 1

    # One untimed pass each: compiled regexes, imports and caches warm up alike.
    ours()
    pyscard()
    ours_s = best_of(PASSES, ours)
    pyscard_s = best_of(PASSES, pyscard)
    decode_s = best_of(PASSES, decode_only)
    lookup_s = best_of(PASSES, lookup_only)

    clock = time.perf_counter
    per_atr = [float("inf")] * len(atrs)
    for _ in range(PASSES):
        for i, raw in enumerate(atrs):
            t0 = clock()
            lookup(raw)
            per_atr[i] = min(per_atr[i], clock() - t0)

    n = len(atrs)
    return {
        "atrs": n,
        "ours_s": round(ours_s, 4),
        "ours_atrs_per_s": round(n / ours_s),
        "decode_s": round(decode_s, 4),
        "lookup_s": round(lookup_s, 4),
        "lookup_median_us": round(statistics.median(per_atr) * 1e6, 1),
        "lookup_max_us": round(max(per_atr) * 1e6, 1),
        "pyscard_s": round(pyscard_s, 4),
        "pyscard_atrs_per_s": round(n / pyscard_s),
        "pyscard_failures": failures,
        "ratio_vs_pyscard": round(ours_s / pyscard_s, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help=f"the first {SMALL} ATRs only (make test)")
    args = parser.parse_args()
    goals = {"all_atrs_s": GOAL_ALL_ATRS_S, "lookup_max_us": GOAL_LOOKUP_US}
    ok = False
    try:
        db = default_database()
        if db is None:
            raise RuntimeError("no smartcard_list.txt: neither the system's nor the bundled copy")
        every = db.concrete_atrs()
        atrs = every[:SMALL] if args.small else every
        figures = {"db": db.source, **measure(db, atrs)}
    except Exception as exc:  # reported in the JSON line
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    if "error" not in figures:
        ours_s, median, worst = figures["ours_s"], figures["lookup_median_us"], figures["lookup_max_us"]
        assert isinstance(ours_s, float) and isinstance(median, float) and isinstance(worst, float)
        # A --small run times a slice; the goal is about the whole list.
        full_s = ours_s * len(every) / len(atrs)
        # "One lookup under 1 ms": every lookup, so the slowest one is judged.
        ok = full_s < GOAL_ALL_ATRS_S and worst < GOAL_LOOKUP_US
        n = figures["atrs"]
        print(f"{n} concrete ATRs from {figures['db']}, best of {PASSES} passes")
        print(f"{'path':<22} {'total s':>9} {'ATRs/s':>9}")
        rows = (("ours (decode+lookup)", ours_s, figures["ours_atrs_per_s"]),
                ("  decode only", figures["decode_s"], None),
                ("  lookup only", figures["lookup_s"], None),
                ("pyscard ATR()", figures["pyscard_s"], figures["pyscard_atrs_per_s"]))
        for name, seconds, rate in rows:
            print(f"{name:<22} {seconds:>9.4f} {'' if rate is None else rate:>9}")
        print(f"lookup per ATR: median {median} µs, max {worst} µs  goal max < {GOAL_LOOKUP_US} µs")
        print(f"pyscard failures: {figures['pyscard_failures']}; "
              f"ratio ours/pyscard: {figures['ratio_vs_pyscard']}")
        scaled = f" (scaled to {len(every)}: {full_s:.3f} s)" if args.small else ""
        print(f"all ATRs: {ours_s} s{scaled}  goal < {GOAL_ALL_ATRS_S} s")
    print(json.dumps({"bench": "atr", **figures, "goals": goals, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
