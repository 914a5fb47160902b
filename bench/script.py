"""The script runner against raw pyscard and pcsc-tools' scriptor, on the same virtual card.

Each card is served over vpcd by a child process of its own (so its Python does not share a GIL
with what is measured) and stamps, on the system's monotonic clock, when it received its first
command and when it answered its last: that span is "the runner's part" of every side below,
measured the same way for each, from outside it. In one run, in rotating order so that any
drift of the stack hits each side alike:

1. runner: `card-explorer run --reader R` (the real CLI, a subprocess, its stdout a pipe) on a
   script of N commands (ECHO and SELECT, each with its expected data and status word) against
   a raw pyscard loop in a subprocess sending the same commands and checking the same answers.
   Compared: the card's span. Also given: the CLI's wall time, its start-up (the same CLI on a
   one-command script) and so its marginal cost per command. Goal: ratio <= 1.10.
2. window: the same script run by a live MainWindow (offscreen, qasync loop) as one job on the
   reader's worker (CardConnection.run_job, runner.run), each StepResult forwarded to the GUI
   thread by a queued Qt signal, every exchange into the window's trace store and journal.
   Compared: the card's span against raw; a 20 ms QTimer measures the longest event-loop gap
   meanwhile (as the console's 30 s card test does). Goals: ratio <= 1.15, gap < 50 ms.
3. parallel: the runner on 4 readers at once in one process (one CardConnection and worker
   each, as `card-explorer run` with several readers) against 4 raw loops in 4 processes, all
   started together. Compared: commands per second over all 4 cards (first command on any card
   to last answer on any). Goal: ratio >= 0.90.
4. scriptor: `card-explorer run` against `scriptor -r R FILE` on a plain scriptor file of M
   commands, wall time with process start included; `card-explorer send -` on the same lines
   for reference. Goal: ratio <= 1.0. Skipped, with a note, when scriptor is not installed.

Usage: python bench/script.py [--commands N] [--scriptor-commands M] [--rounds R] [--small]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from smartcard import scard  # noqa: E402

from tests.testbed import PcscBed, bench_bed, empty_readers  # noqa: E402

GOAL_RATIO_CLI = 1.10
GOAL_RATIO_WINDOW = 1.15
GOAL_GAP_MS = 50.0
GOAL_PARALLEL = 0.90
GOAL_SCRIPTOR = 1.0
GAP_TIMER_MS = 20
AID = bytes.fromhex("A0000000041010")


# The children run as a user's shell starts them: a harness may set these two, and they would make
# every start compile every module (no byte-code cache) and every printed line a write of its own.
CHILD_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")}


def now() -> float:
    """CLOCK_MONOTONIC: one clock for every process on the machine (the cards stamp with it)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


# The card, in a child process: ECHO (80 EE) answers its data, SELECT 90 00. Inserted until its
# stdin closes; `mark` forgets the stamps, `report` prints count, first and last.
CARD_SERVER = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from explorer.virtual.card import VirtualCard
from explorer.virtual.vpcd import VpcdLink

clock = time.CLOCK_MONOTONIC
stamps = {"count": 0, "first": None, "last": None}

def answer(apdu):
    at = time.clock_gettime(clock)
    if stamps["first"] is None:
        stamps["first"] = at
    stamps["count"] += 1
    if apdu[:2] == b"\\x80\\xee" and len(apdu) > 5:
        reply = apdu[5:5 + apdu[4]] + b"\\x90\\x00"
    elif apdu[:2] == b"\\x00\\xa4":
        reply = b"\\x90\\x00"
    else:
        reply = b"\\x6d\\x00"
    stamps["last"] = time.clock_gettime(clock)
    return reply

link = VpcdLink(VirtualCard(handler=answer), int(sys.argv[1]))
link.insert()
print("inserted", flush=True)
for line in sys.stdin:
    if line.strip() == "mark":
        stamps.update(count=0, first=None, last=None)
    print(json.dumps(stamps), flush=True)
link.remove()
"""

# A raw pyscard loop, as the issue names it: readers(), createConnection(), connect(), transmit.
RAW_LOOP = """
import json, sys
from smartcard.scard import SCARD_LEAVE_CARD
from smartcard.System import readers
reader, path = sys.argv[1], sys.argv[2]
commands = [(list(bytes.fromhex(c)), list(bytes.fromhex(d))) for c, d in json.load(open(path))]
connection = next(r for r in readers() if str(r) == reader).createConnection()
connection.connect(disposition=SCARD_LEAVE_CARD)  # pyscard's own default unpowers the card at the end
print("ready", flush=True)
sys.stdin.readline()
bad = 0
for command, expected in commands:
    data, sw1, sw2 = connection.transmit(command)
    if data != expected or sw1 != 0x90 or sw2 != 0x00:
        bad += 1
connection.disconnect()
print(json.dumps({"sent": len(commands), "bad": bad}), flush=True)
"""

# The runner on several readers in one process, one CardConnection (one worker) each, printing a
# line per result as the CLI does: what `card-explorer run --reader A --reader B ...` does.
MULTI_RUNNER = """
import json, sys, threading
sys.path.insert(0, sys.argv[1])
from explorer.core.link_modes import Protocol, ShareMode
from explorer.link.connection import CardConnection
from explorer.pcsc.connection import PcscLink
from explorer.script.parser import parse_script
from explorer.script.runner import Verdict, run

path, names = sys.argv[2], sys.argv[3:]
script = parse_script(open(path, encoding="utf-8").read(), path)
assert script.ok, script.diagnostics
conns = [CardConnection(name, PcscLink(name)) for name in names]
for conn in conns:
    conn.connect(Protocol.ANY, ShareMode.SHARED).result(10)
print("ready", flush=True)
sys.stdin.readline()
write = sys.stdout.write
# A text stream is not safe for writers on several threads (lines come out cut and mixed).
printing = threading.Lock()

def printer(reader):
    def show(result):
        reply = result.reply
        sw = f"{reply.sw >> 8:02X} {reply.sw & 0xFF:02X}" if reply is not None else ""
        line = (f"{reader} {result.place.file}:{result.place.line}  > {result.shown}  < {sw}  "
                f"{result.verdict.value}\\n")
        with printing:
            write(line)
    return show

futures = [conn.run_job(lambda session, r=conn.reader: run(script, session, on_result=printer(r)))
           for conn in conns]
results = [future.result() for future in futures]
for conn in conns:
    conn.close()
sys.stdout.flush()
print(json.dumps({"passed": sum(r.count(Verdict.PASSED) for r in results),
                  "verdicts": [r.verdict.value for r in results]}), flush=True)
"""


# -- the work --------------------------------------------------------------------------


def commands(n: int) -> list[tuple[bytes, bytes]]:
    """(command, expected data): ECHO of 1 to 32 bytes, every tenth a SELECT by AID."""
    out = []
    for i in range(n):
        if i % 10 == 9:
            out.append((bytes([0x00, 0xA4, 0x04, 0x00, len(AID)]) + AID, b""))
        else:
            payload = bytes((i + j) & 0xFF for j in range(1 + i % 32))
            out.append((bytes([0x80, 0xEE, 0x00, 0x00, len(payload)]) + payload, payload))
    return out


def script_text(cmds: Sequence[tuple[bytes, bytes]], expectations: bool) -> str:
    """The commands as a script: with `expect` lines, or plain scriptor (a comment, then hex)."""
    lines = ["# bench/script.py: ECHO and SELECT on the bench's virtual card"]
    for command, data in cmds:
        lines.append(command.hex(" ").upper())
        if expectations:
            if data:
                lines.append("expect data " + data.hex(" ").upper())
            lines.append("expect 90 00")
    return "\n".join(lines) + "\n"


class Card:
    """A card served over vpcd by a child process, in `reader` until closed."""

    def __init__(self, bed: PcscBed, reader: str) -> None:
        self.reader = reader
        self.proc = subprocess.Popen([sys.executable, "-c", CARD_SERVER, str(bed.port_of(reader)), str(ROOT)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "inserted":
            raise RuntimeError(f"{reader}: the card process did not insert its card")

    def _ask(self, what: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(what + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return answer

    def mark(self) -> None:
        self._ask("mark")

    def stamps(self) -> dict[str, Any]:
        return self._ask("report")

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_cards(readers: Sequence[str], present: bool, timeout: float = 10.0) -> None:
    """Block in SCardGetStatusChange until every reader has (or has not) a card."""
    _, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        deadline = now() + timeout
        states = [(r, scard.SCARD_STATE_UNAWARE) for r in readers]
        while (left := deadline - now()) > 0:
            hresult, seen = scard.SCardGetStatusChange(ctx, int(left * 1000), states)
            if hresult not in (scard.SCARD_S_SUCCESS, scard.SCARD_E_TIMEOUT):
                raise RuntimeError(scard.SCardGetErrorMessage(hresult))
            states = [(name, state & ~scard.SCARD_STATE_CHANGED) for name, state, _ in seen]
            if all(bool(state & scard.SCARD_STATE_PRESENT) == present for _, state in states):
                return
        raise RuntimeError(f"cards {'never came' if present else 'never left'} within {timeout} s")
    finally:
        scard.SCardReleaseContext(ctx)


@contextmanager
def served_cards(bed: PcscBed, readers: Sequence[str]) -> Iterator[dict[str, Card]]:
    cards: dict[str, Card] = {}
    try:
        for reader in readers:
            cards[reader] = Card(bed, reader)
        wait_cards(readers, present=True)
        yield cards
    finally:
        for card in cards.values():
            card.close()
    wait_cards(readers, present=False)


def span(stamps: Sequence[dict[str, Any]], expected: int) -> float:
    """First command on any card to last answer on any, checking each card got `expected`."""
    for s in stamps:
        if s["count"] != expected or s["first"] is None:
            raise RuntimeError(f"a card received {s['count']} commands, not {expected}")
    return float(max(s["last"] for s in stamps) - min(s["first"] for s in stamps))


def cli(*args: str, stdin: str | None = None) -> tuple[float, str]:
    """`card-explorer ARGS` from this checkout: its wall time (process start included), its stdout."""
    argv = [sys.executable, "-m", "explorer", *args]
    t0 = now()
    done = subprocess.run(argv, cwd=ROOT, env=CHILD_ENV, input=stdin, capture_output=True, text=True,
                          timeout=600)
    took = now() - t0
    if done.returncode != 0:
        raise RuntimeError(f"card-explorer {' '.join(args[:1])} exited {done.returncode}: "
                           f"{done.stderr.strip()[-400:]}")
    return took, done.stdout


def start(argv: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(argv, cwd=ROOT, env=CHILD_ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{argv[:3]} did not get ready")
    return proc


def go(procs: Sequence[subprocess.Popen[str]]) -> list[str]:
    """Release every ready child at once; their last lines once they end."""
    try:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        lasts = []
        for proc in procs:
            out, _ = proc.communicate(timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"a child exited {proc.returncode}")
            lasts.append(out.strip().splitlines()[-1])
        return lasts
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def raw_side(cards: Sequence[Card], table: Path, n: int) -> float:
    """4 (or 1) raw loops in as many processes, released together; the cards' span."""
    procs = [start([sys.executable, "-c", RAW_LOOP, card.reader, str(table)]) for card in cards]
    for card in cards:
        card.mark()
    for last in go(procs):
        report = json.loads(last)
        if report["bad"]:
            raise RuntimeError(f"raw: {report['bad']} unexpected answers")
    return span([card.stamps() for card in cards], n)


def cli_side(card: Card, script: Path, n: int) -> tuple[float, float]:
    """card-explorer run on `script`: (the card's span, the CLI's wall time)."""
    card.mark()
    wall, out = cli("run", "--reader", card.reader, str(script))
    if f"{n} passed, 0 failed" not in out:
        raise RuntimeError(f"card-explorer run: {out.strip().splitlines()[-1:]}")
    return span([card.stamps()], n), wall


def multi_side(cards: Sequence[Card], script: Path, n: int) -> float:
    proc = start([sys.executable, "-c", MULTI_RUNNER, str(ROOT), str(script), *[c.reader for c in cards]])
    for card in cards:
        card.mark()
    report = json.loads(go([proc])[0])
    if report["passed"] != n * len(cards):
        raise RuntimeError(f"runner on {len(cards)} readers: {report}")
    return span([card.stamps() for card in cards], n)


# -- the window ----------------------------------------------------------------------


class WindowSide:
    """A live MainWindow whose Script panel runs the script, as a tester's click on Run does:
    the panel's own job on the reader's worker, its results batched into the table, the gutter
    and the progress line."""

    def __init__(self, workdir: Path) -> None:
        # The window writes a journal and settings: into the bench's directory, not the user's.
        os.environ["XDG_DATA_HOME"] = str(workdir / "data")
        import qasync
        from PySide6.QtCore import QSettings, QTimer
        from PySide6.QtWidgets import QApplication

        from explorer.pcsc.qt_monitor import MonitorBridge
        from explorer.ui.main_window import MainWindow

        self.app = QApplication.instance() or QApplication([])
        self.loop = qasync.QEventLoop(self.app)
        asyncio.set_event_loop(self.loop)
        self.bridge = MonitorBridge()
        self.window = MainWindow(self.bridge, QSettings(str(workdir / "settings.ini"),
                                                        QSettings.Format.IniFormat))
        self.window.show()
        self.window.docks["script"].raise_()
        self.bridge.start()
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(GAP_TIMER_MS)
        self.timer.timeout.connect(lambda: self.ticks.append(now()))

    def run(self, card: Card, text: str, n: int) -> tuple[float, float, float]:
        """(the card's span, the longest event-loop gap from Run to the last result shown, when
        the panel had the last result after the card's last answer), all in seconds."""
        from explorer.script.runner import Verdict

        panel = self.window.script
        if panel.pane.text() != text:
            # As a tester does: the script is opened (laid out, painted and checked), then Run.
            panel.pane.set_text(text)
            self.loop.run_until_complete(asyncio.sleep(1.0))
        panel.choose_readers([card.reader])

        async def scenario() -> float:
            if card.reader not in panel.targets():  # the monitor has not seen the card yet
                await asyncio.sleep(0.05)
                return 0.0
            done = asyncio.get_running_loop().create_future()

            def finished() -> None:
                if not done.done():
                    done.set_result(now())

            panel.session.finished.connect(finished)
            self.ticks.clear()
            self.timer.start()
            card.mark()
            try:
                if not panel.run():
                    raise RuntimeError(f"window: not run: {panel.status.text()}")
                last = await asyncio.wait_for(done, 120)
            finally:
                self.timer.stop()
                panel.session.finished.disconnect(finished)
            outcome = panel.session.runs[-1].result
            if outcome.count(Verdict.PASSED) != n:
                failed = next((r for r in outcome.results if r.verdict is not Verdict.PASSED), None)
                raise RuntimeError(f"window: {outcome.verdict.value}: {failed}")
            return last

        deadline = time.monotonic() + 10
        while not (last := self.loop.run_until_complete(scenario())):
            if time.monotonic() > deadline:
                raise RuntimeError(f"window: {card.reader} shows no card")
        stamps = card.stamps()
        ticks = self.ticks
        gap = max((b - a for a, b in itertools.pairwise(ticks)), default=0.0)
        return span([stamps], n), gap, last - float(stamps["last"])

    def close(self) -> None:
        self.window.close()
        self.bridge.stop()
        self.app.processEvents()
        self.loop.close()
        asyncio.set_event_loop(None)


# -- measuring -----------------------------------------------------------------------


def rotations(names: Sequence[str], rounds: int) -> Iterator[list[str]]:
    for i in range(rounds):
        k = i % len(names)
        yield [*names[k:], *names[:k]]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def single_reader(bed: PcscBed, reader: str, work: Path, n: int, rounds: int) -> dict[str, object]:
    from explorer.script.parser import parse_script

    cmds = commands(n)
    script = work / "echo.apdu"
    script.write_text(script_text(cmds, expectations=True))
    one = work / "one.apdu"
    one.write_text(script_text(cmds[:1], expectations=True))
    table = work / "echo.json"
    table.write_text(json.dumps([(c.hex(), d.hex()) for c, d in cmds]))
    text = script.read_text()
    assert parse_script(text, str(script)).ok
    spans: dict[str, list[float]] = {"cli": [], "window": [], "raw": []}
    walls: list[float] = []
    starts: list[float] = []
    gaps: list[float] = []
    lags: list[float] = []
    window = WindowSide(work)
    try:
        with served_cards(bed, [reader]) as cards:
            card = cards[reader]
            cli("run", "--reader", reader, str(one))  # warm: byte code and page cache
            for order in rotations(list(spans), rounds):
                for side in order:
                    if side == "cli":
                        s, wall = cli_side(card, script, n)
                        walls.append(wall)
                        card.mark()
                        starts.append(cli("run", "--reader", reader, str(one))[0])
                    elif side == "window":
                        s, gap, lag = window.run(card, text, n)
                        gaps.append(gap)
                        lags.append(lag)
                    else:
                        s = raw_side([card], table, n)
                    spans[side].append(s)
    finally:
        window.close()
    per = {side: round(median(v) / n * 1e6, 1) for side, v in spans.items()}
    return {
        "us_per_command": per,
        "ratio_cli": round(median(spans["cli"]) / median(spans["raw"]), 3),
        "ratio_window": round(median(spans["window"]) / median(spans["raw"]), 3),
        "gap_ms": round(max(gaps) * 1000, 1),
        "window_lag_ms": round(max(lags) * 1000, 1),
        "cli_wall_s": round(median(walls), 3),
        "cli_start_s": round(median(starts), 3),
        "cli_marginal_us": round((median(walls) - median(starts)) / (n - 1) * 1e6, 1),
    }


def parallel(bed: PcscBed, readers: Sequence[str], work: Path, n: int, rounds: int) -> dict[str, object]:
    cmds = commands(n)
    script = work / "echo.apdu"
    script.write_text(script_text(cmds, expectations=True))
    table = work / "echo.json"
    table.write_text(json.dumps([(c.hex(), d.hex()) for c, d in cmds]))
    spans: dict[str, list[float]] = {"runner": [], "raw": []}
    with served_cards(bed, readers) as cards:
        group = [cards[r] for r in readers]
        for order in rotations(list(spans), rounds):
            for side in order:
                s = multi_side(group, script, n) if side == "runner" else raw_side(group, table, n)
                spans[side].append(s)
    per_s = {side: round(n * len(readers) / median(v), 1) for side, v in spans.items()}
    return {"readers": len(readers), "per_second": per_s,
            "ratio_parallel": round(per_s["runner"] / per_s["raw"], 3)}


def against_scriptor(bed: PcscBed, reader: str, work: Path, n: int, rounds: int) -> dict[str, object]:
    scriptor = shutil.which("scriptor")
    if scriptor is None:
        return {"scriptor_skipped": "scriptor (pcsc-tools) is not installed"}
    cmds = commands(n)
    text = script_text(cmds, expectations=False)
    script = work / "plain.apdu"
    script.write_text(text)
    walls: dict[str, list[float]] = {"run": [], "scriptor": [], "send": []}

    def run_scriptor(card: Card) -> float:
        card.mark()
        t0 = now()
        done = subprocess.run([scriptor, "-r", reader, str(script)], env=CHILD_ENV, capture_output=True,
                              text=True, timeout=600)
        took = now() - t0
        if done.returncode != 0 or card.stamps()["count"] != n:
            raise _Skip(f"scriptor exited {done.returncode}: {done.stderr.strip()[-300:]}")
        return took

    def run_cli(card: Card, *args: str, stdin: str | None = None) -> float:
        card.mark()
        took, _ = cli(*args, stdin=stdin)
        if card.stamps()["count"] != n:
            raise RuntimeError(f"card-explorer {args[0]} did not send {n} commands")
        return took

    with served_cards(bed, [reader]) as cards:
        card = cards[reader]
        try:
            run_scriptor(card)  # warm, and whether scriptor works here at all
        except _Skip as exc:
            return {"scriptor_skipped": str(exc)}
        run_cli(card, "run", "--reader", reader, str(script))
        for order in rotations(list(walls), rounds):
            for side in order:
                if side == "scriptor":
                    walls[side].append(run_scriptor(card))
                elif side == "run":
                    walls[side].append(run_cli(card, "run", "--reader", reader, str(script)))
                else:
                    walls[side].append(run_cli(card, "send", "--reader", reader, "-", stdin=text))
    wall = {side: round(median(v), 3) for side, v in walls.items()}
    return {"scriptor_commands": n, "wall_s": wall,
            "ratio_scriptor": round(wall["run"] / wall["scriptor"], 3),
            "ratio_send_scriptor": round(wall["send"] / wall["scriptor"], 3)}


class _Skip(Exception):
    pass


def measure(bed: PcscBed, n: int, m: int, rounds: int) -> dict[str, object]:
    free = empty_readers(bed)
    if len(free) < 4:
        raise RuntimeError(f"the parallel part needs 4 empty readers; the bed has {free}")
    figures: dict[str, object] = {"commands": n, "rounds": rounds}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-script-")))
        figures.update(single_reader(bed, free[0], work, n, rounds))
        figures.update(parallel(bed, free[:4], work, n, rounds))
        figures.update(against_scriptor(bed, free[0], work, m, rounds + 2))
    return figures


def verdict(figures: dict[str, object]) -> tuple[bool, dict[str, float]]:
    goals = {"ratio_cli_max": GOAL_RATIO_CLI, "ratio_window_max": GOAL_RATIO_WINDOW,
             "gap_ms_max": GOAL_GAP_MS, "ratio_parallel_min": GOAL_PARALLEL,
             "ratio_scriptor_max": GOAL_SCRIPTOR}
    if "error" in figures:
        return False, goals
    checks: list[tuple[str, Callable[[float], bool]]] = [
        ("ratio_cli", lambda v: v <= GOAL_RATIO_CLI), ("ratio_window", lambda v: v <= GOAL_RATIO_WINDOW),
        ("gap_ms", lambda v: v < GOAL_GAP_MS), ("ratio_parallel", lambda v: v >= GOAL_PARALLEL)]
    if "scriptor_skipped" not in figures:
        checks.append(("ratio_scriptor", lambda v: v <= GOAL_SCRIPTOR))
    ok = all(isinstance(value := figures.get(k), float) and test(value) for k, test in checks)
    return ok, goals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=5000, help="commands of the runner's script (5000)")
    parser.add_argument("--scriptor-commands", type=int, default=2000, help="commands of the scriptor file")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each comparison, rotating the order")
    parser.add_argument("--small", action="store_true", help="a quick run (make test)")
    args = parser.parse_args()
    if args.small:
        args.commands, args.scriptor_commands, args.rounds = 200, 100, 1
    try:
        with bench_bed() as bed:
            figures = measure(bed, args.commands, args.scriptor_commands, args.rounds)
    except Exception as exc:  # reported in the JSON line
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    ok, goals = verdict(figures)
    if "error" not in figures:
        print(f"{args.commands} commands (ECHO, SELECT, each with expectations), {args.rounds} rounds; "
              f"µs per command, the card's span: {figures['us_per_command']}")
        print(f"card-explorer run / raw: {figures['ratio_cli']} (goal <= {GOAL_RATIO_CLI}); wall "
              f"{figures['cli_wall_s']} s, start-up {figures['cli_start_s']} s, "
              f"{figures['cli_marginal_us']} µs per command")
        print(f"window / raw: {figures['ratio_window']} (goal <= {GOAL_RATIO_WINDOW}); longest gap "
              f"{figures['gap_ms']} ms (goal < {GOAL_GAP_MS}); GUI had the last result "
              f"{figures['window_lag_ms']} ms after the card's last answer")
        print(f"{figures['readers']} readers, commands/s: {figures['per_second']}; ratio "
              f"{figures['ratio_parallel']} (goal >= {GOAL_PARALLEL})")
        if "scriptor_skipped" in figures:
            print(f"scriptor: skipped ({figures['scriptor_skipped']})")
        else:
            print(f"{figures['scriptor_commands']} commands, wall s: {figures['wall_s']}; run / scriptor "
                  f"{figures['ratio_scriptor']} (goal <= {GOAL_SCRIPTOR}), send - / scriptor "
                  f"{figures['ratio_send_scriptor']}")
    print(json.dumps({"bench": "script", **figures, "goals": goals, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
