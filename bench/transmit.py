"""Transmit latency and throughput of the connection manager against raw pyscard.

Two manager paths, each with the APDU check, the 61xx/6Cxx pipeline and the
Exchange record: `Session.send` (blocking, runs on the calling thread: what
scripts and the CLI without --timeout use) and `PcscConnection.send(apdu)
.result()` through the reader's worker thread (what the GUI awaits, and
sessions with a timeout). The baseline is what the issue names, raw pyscard:
`smartcard.System.readers()` -> `reader.createConnection()`, `.connect()`,
`connection.transmit(list(apdu))`. All talk to the same virtual card (served
over vpcd by a child process, so the card's Python does not share this
process's GIL) in the same run, in rotating blocks so that any drift of the
stack hits each alike.

Goals: the session path within 10 % of raw; the worker path may add the two
thread hand-offs (measured ~25 µs here) and no more than 60 µs in all.

Usage: python bench/transmit.py [--samples N] [--block B] [--small]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smartcard import scard  # noqa: E402
from smartcard.System import readers as pyscard_readers  # noqa: E402

from explorer.core.exchange import Reply  # noqa: E402
from explorer.core.link_modes import Protocol, ShareMode  # noqa: E402
from explorer.pcsc.connection import PcscConnection  # noqa: E402
from explorer.pcsc.session import Session  # noqa: E402
from tests.testbed import PcscBed, bench_bed, empty_readers  # noqa: E402

GOAL_RATIO = 1.10
GOAL_WORKER_EXTRA_US = 60.0
PAYLOAD = bytes(range(0x10, 0x20))
#: ECHO (CLA 80, INS EE), case 3 with 16 data bytes: the card answers data + 90 00.
APDU = bytes([0x80, 0xEE, 0x00, 0x00, len(PAYLOAD)]) + PAYLOAD
WARMUP = 50

# The card, in a child process: inserted until its stdin closes.
CARD_SERVER = """
import sys
sys.path.insert(0, sys.argv[2])
from explorer.virtual.card import VirtualCard
from explorer.virtual.vpcd import VpcdLink

def echo(apdu):
    if apdu[:2] == b"\\x80\\xee" and len(apdu) > 5:
        return apdu[5:5 + apdu[4]] + b"\\x90\\x00"
    return b"\\x6d\\x00"

link = VpcdLink(VirtualCard(handler=echo), int(sys.argv[1]))
link.insert()
print("inserted", flush=True)
sys.stdin.read()
link.remove()
"""


def wait_card(reader: str, present: bool, timeout: float = 10.0) -> None:
    """Block in SCardGetStatusChange until the card is in (or out of) `reader`."""
    _, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        while (left := deadline - time.monotonic()) > 0:
            hresult, states = scard.SCardGetStatusChange(ctx, int(left * 1000), [(reader, state)])
            if hresult == scard.SCARD_E_TIMEOUT:
                continue
            if hresult != scard.SCARD_S_SUCCESS:
                raise RuntimeError(scard.SCardGetErrorMessage(hresult))
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if bool(state & scard.SCARD_STATE_PRESENT) == present:
                return
        raise RuntimeError(f"{reader}: card {'never came' if present else 'never left'} within {timeout} s")
    finally:
        scard.SCardReleaseContext(ctx)


@contextmanager
def served_card(bed: PcscBed, reader: str) -> Iterator[None]:
    proc = subprocess.Popen([sys.executable, "-c", CARD_SERVER, str(bed.port_of(reader)), str(ROOT)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        if proc.stdout.readline().strip() != "inserted":
            raise RuntimeError("the card process did not insert its card")
        wait_card(reader, present=True)
        yield
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    wait_card(reader, present=False)


def manager_sender(send: Callable[[bytes], Reply], name: str) -> Callable[[], None]:
    def once() -> None:
        reply = send(APDU)
        if reply.sw != 0x9000 or reply.data != PAYLOAD:
            raise RuntimeError(f"{name}: unexpected answer {reply.data.hex()} {reply.sw:04X}")
    return once


def raw_sender(connection: object) -> Callable[[], None]:
    transmit = connection.transmit  # type: ignore[attr-defined]
    command = list(APDU)
    expected = list(PAYLOAD)

    def once() -> None:
        data, sw1, sw2 = transmit(command)
        if (sw1, sw2) != (0x90, 0x00) or data != expected:
            raise RuntimeError(f"raw: unexpected answer {bytes(data).hex()} {sw1:02X}{sw2:02X}")
    return once


def run_block(send: Callable[[], None], count: int, out: list[float]) -> float:
    """`count` exchanges, each timed; returns the block's wall time."""
    clock = time.perf_counter
    start = clock()
    for _ in range(count):
        t0 = clock()
        send()
        out.append(clock() - t0)
    return clock() - start


def free_reader(bed: PcscBed) -> str:
    """The first test-bed reader without a card (another user of the bed may hold one)."""
    readers = empty_readers(bed)
    if not readers:
        raise RuntimeError("every test-bed reader has a card in it")
    return readers[0]


def measure(bed: PcscBed, samples: int, block: int) -> dict[str, object]:
    reader = free_reader(bed)
    with served_card(bed, reader):
        worker = PcscConnection(reader)
        session = raw = None
        try:
            worker.connect(Protocol.ANY, ShareMode.SHARED).result(10)
            session = Session(reader)
            raw = next(r for r in pyscard_readers() if str(r) == reader).createConnection()
            raw.connect()
            sides = {"session": manager_sender(session.send, "session"),
                     "worker": manager_sender(lambda apdu: worker.send(apdu).result(10), "worker"),
                     "raw": raw_sender(raw)}
            names = list(sides)
            latencies: dict[str, list[float]] = {name: [] for name in sides}
            wall = dict.fromkeys(sides, 0.0)
            for send in sides.values():
                run_block(send, WARMUP, [])
            rounds = max(1, samples // block)
            for i in range(rounds):
                for name in names[i % 3:] + names[: i % 3]:
                    wall[name] += run_block(sides[name], block, latencies[name])
        finally:
            if raw is not None:
                raw.disconnect()
            if session is not None:
                session.close()
            worker.close()
    median_us = {k: round(statistics.median(v) * 1e6, 1) for k, v in latencies.items()}
    p90_us = {k: round(statistics.quantiles(v, n=10)[-1] * 1e6, 1) for k, v in latencies.items()}
    throughput = {k: round(len(latencies[k]) / wall[k], 1) for k in sides}
    return {
        "reader": reader,
        "samples": len(latencies["session"]),
        "block": block,
        "median_us": median_us,
        "p90_us": p90_us,
        "throughput_per_s": throughput,
        "ratio": round(median_us["session"] / median_us["raw"], 3),
        "worker_ratio": round(median_us["worker"] / median_us["raw"], 3),
        "worker_extra_us": round(median_us["worker"] - median_us["raw"], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=2000, help="exchanges per side (default 2000)")
    parser.add_argument("--block", type=int, default=100, help="exchanges per alternating block")
    parser.add_argument("--small", action="store_true", help="a quick run (make test)")
    args = parser.parse_args()
    if args.small:
        args.samples, args.block = 200, 50
    try:
        with bench_bed() as bed:
            figures = measure(bed, args.samples, args.block)
    except Exception as exc:  # reported in the JSON line
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    ratio, extra = figures.get("ratio"), figures.get("worker_extra_us")
    ok = ("error" not in figures and isinstance(ratio, float) and ratio <= GOAL_RATIO
          and isinstance(extra, float) and extra <= GOAL_WORKER_EXTRA_US)
    if "error" not in figures:
        med, p90, tput = figures["median_us"], figures["p90_us"], figures["throughput_per_s"]
        assert isinstance(med, dict) and isinstance(p90, dict) and isinstance(tput, dict)
        print(f"{figures['samples']} exchanges each, {APDU.hex(' ').upper()} (echo of 16 bytes), "
              f"blocks of {figures['block']}")
        print(f"{'path':<10} {'median µs':>10} {'p90 µs':>10} {'exchanges/s':>12}")
        for name in ("session", "worker", "raw"):
            print(f"{name:<10} {med[name]:>10} {p90[name]:>10} {tput[name]:>12}")
        print(f"ratio session/raw (median latency): {ratio}  goal <= {GOAL_RATIO}")
        print(f"worker path: ratio {figures['worker_ratio']}, {extra} µs over raw  "
              f"goal <= {GOAL_WORKER_EXTRA_US} µs")
    goals = {"ratio_max": GOAL_RATIO, "worker_extra_us_max": GOAL_WORKER_EXTRA_US}
    print(json.dumps({"bench": "transmit", **figures, "goals": goals, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
