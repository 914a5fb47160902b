"""Shared fixtures: the real PC/SC test bed, virtual cards, event waits, leak checks."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import qasync
from PySide6.QtCore import QSettings
from smartcard import scard

from explorer.core.reader_events import MonitorEvent
from explorer.virtual.card import DEFAULT_ATR, Handler, VirtualCard
from explorer.virtual.vpcd import VpcdLink
from tests.app_helpers import Bench
from tests.testbed import BedError, PcscBed, machine_lock

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A shell starts background jobs with SIGINT ignored, and an ignored signal stays
# ignored across exec: the CLI children that tests stop with SIGINT (`monitor`)
# would never see it. Handled here, it is reset to the default in every child.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# Session journals of the windows tests open go to a scratch data directory, not the user's.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="card-explorer-tests-")
# And the GUI's log file (platformdirs' user log dir is under XDG_STATE_HOME on Linux).
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="card-explorer-tests-state-")


# -- the test bed -------------------------------------------------------------

_bed: PcscBed | None = None


@pytest.fixture(scope="session")
def pcsc_bed() -> Iterator[PcscBed]:
    """One private pcscd with four vpcd readers for the whole session, stopped by PID."""
    global _bed
    with contextlib.ExitStack() as held:
        bed = PcscBed()
        try:
            held.enter_context(machine_lock())
            bed.start()
        except BedError as exc:
            pytest.exit(f"PC/SC test bed: {exc}", returncode=3)
        _bed = bed
        yield bed
        bed.stop()
        _bed = None


@pytest.fixture
def bed(pcsc_bed: PcscBed) -> Iterator[PcscBed]:
    """The session bed, made whole again if a test killed pcscd."""
    yield pcsc_bed
    if pcsc_bed.process is None or pcsc_bed.process.poll() is not None:
        pcsc_bed.start()


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The PyInstaller bundle, built once per session into a scratch directory
    (packaging/build.py), so the checkout stays clean; removed at the end."""
    if os.environ.get("CARD_EXPLORER_SKIP_BUNDLE") == "1":
        pytest.skip("CARD_EXPLORER_SKIP_BUNDLE=1")
    out = tmp_path_factory.mktemp("bundle")
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build.py"),
         "--distpath", str(out / "dist"), "--workpath", str(out / "build")],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield out / "dist" / "card-explorer"
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture
def readers(bed: PcscBed) -> list[str]:
    return bed.reader_names


CardFactory = Callable[..., VpcdLink]


@pytest.fixture
def insert_card(bed: PcscBed) -> Iterator[CardFactory]:
    """insert_card(reader, atr=..., handler=..., reconnect=False) -> VpcdLink, removed at teardown."""
    links: list[tuple[str, VpcdLink]] = []

    def insert(
        reader: str,
        atr: bytes = DEFAULT_ATR,
        handler: Handler | None = None,
        *,
        reconnect: bool = False,
        wait: bool = True,
    ) -> VpcdLink:
        link = VpcdLink(VirtualCard(atr, handler), bed.port_of(reader), reconnect=reconnect)
        links.append((reader, link))
        link.insert()
        if wait:
            wait_reader(reader, present=True)
        return link

    yield insert
    for _, link in links:
        link.remove()
    # The next test must not see this test's cards: wait until pcscd has noticed.
    if bed.process is not None and bed.process.poll() is None:
        for reader in {reader for reader, _ in links}:
            wait_reader(reader, present=False)


@pytest.fixture
def bridge(qtbot: Any) -> Iterator[Any]:
    """A monitor bridge, not started; stopped (and checked stopped) at teardown."""
    from explorer.pcsc.qt_monitor import MonitorBridge

    b = MonitorBridge()
    yield b
    assert b.stop()


@pytest.fixture
def live_window(qtbot: Any, bridge: Any, settings: QSettings, readers: list[str]) -> Any:
    """The main window, shown, its monitor started and every bed reader in its tree."""
    from explorer.ui.main_window import MainWindow

    window = MainWindow(bridge, settings)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(bridge.reader_added, timeout=5000,
                          check_params_cb=lambda e: e.reader == readers[-1]):
        bridge.start()
    return window


@pytest.fixture
def virtual_window(qtbot: Any, settings: QSettings) -> Iterator[tuple[Any, Any]]:
    """The main window without PC/SC (an EventBridge, as when pyscard cannot load), shown:
    `offer_virtual_reader()` then starts the embedded reader with the demo card. Closed at teardown."""
    from explorer.link.bridge import EventBridge
    from explorer.ui.main_window import MainWindow

    bridge = EventBridge()
    window = MainWindow(bridge, settings)
    qtbot.addWidget(window)
    window.show()
    yield window, bridge
    window.close()


# -- waiting on state, never sleeping -------------------------------------------


def wait_reader(reader: str, *, present: bool, timeout: float = 5.0) -> bytes:
    """Block in SCardGetStatusChange until the card is (or is not) in `reader`.

    Returns the ATR (b"" when waiting for absence). Fails the test at the deadline.
    """
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
    try:
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{reader}: card {'never came' if present else 'never left'} "
                            f"within {timeout} s")
            hresult, states = scard.SCardGetStatusChange(ctx, int(left * 1000), [(reader, state)])
            if hresult == scard.SCARD_E_TIMEOUT:
                continue
            assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
            _, state, atr = states[0]
            state &= ~scard.SCARD_STATE_CHANGED
            is_present = bool(state & scard.SCARD_STATE_PRESENT)
            if is_present == present and (not present or atr):
                return bytes(atr)
    finally:
        scard.SCardReleaseContext(ctx)


class EventLog:
    """A thread-safe sink that tests wait on: `expect` blocks until a matching event."""

    def __init__(self) -> None:
        self._queue: queue.Queue[MonitorEvent] = queue.Queue()
        self.seen: list[MonitorEvent] = []

    def __call__(self, event: MonitorEvent) -> None:
        self._queue.put(event)

    def expect(self, match: Callable[[MonitorEvent], bool], timeout: float = 5.0,
               what: str = "event") -> MonitorEvent:
        deadline = time.monotonic() + timeout
        for event in self.seen:
            if match(event):
                self.seen.remove(event)
                return event
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {what} within {timeout} s; unclaimed: {self.seen}")
            try:
                event = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if match(event):
                return event
            self.seen.append(event)

    def drain(self) -> list[MonitorEvent]:
        """Everything received and not yet claimed, without waiting."""
        while True:
            try:
                self.seen.append(self._queue.get_nowait())
            except queue.Empty:
                out, self.seen = self.seen, []
                return out


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Settings in a private file: a test never reads or writes the user's."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def aloop(qapp: object) -> Iterator[qasync.QEventLoop]:
    """The qasync loop the GUI awaits card work on; run a scenario with `aloop.run_until_complete`."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()  # an unclosed qasync loop makes pytest exit 134 after reporting success
    asyncio.set_event_loop(None)


async def until(signal: Any, timeout: float = 5.0, what: str = "signal") -> tuple[Any, ...]:
    """Await one emission of a Qt signal (inside a running qasync loop), or fail at the deadline."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def fire(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    signal.connect(fire)
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError:
        pytest.fail(f"no {what} within {timeout} s")
    finally:
        signal.disconnect(fire)


async def connect_demo_card(window: Any, bridge: Any) -> None:
    """On a `virtual_window`: the embedded reader with the demo card, the console connected to it."""
    window.offer_virtual_reader()
    await until(bridge.card_inserted, what="the demo card")
    window.console.connect_button.click()
    await until(window.console.idle, what="connect")


@contextlib.contextmanager
def running(args: list[str]) -> Iterator[subprocess.Popen[str]]:
    """A child process (text pipes) that is killed and reaped however the test ends."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


# -- nothing left behind ----------------------------------------------------------


@pytest.fixture(autouse=True)
def no_leftovers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a thread or a child process running.

    Threads get a short grace to finish (joined, not slept on); the session
    pcscd is the one child allowed to outlive a test.
    """
    threads_before = set(threading.enumerate())
    me = psutil.Process()
    children_before = {p.pid for p in me.children(recursive=True)}
    yield
    # Free this test's dropped windows and panels now, on the GUI thread. Left to
    # a later cyclic collection, they may be deleted on whatever thread allocates
    # then (a card worker): Qt cannot unregister a QObject's timers from another
    # thread, and the GUI thread's next timer event lands on freed memory.
    if {"qtbot", "qapp"} & set(request.fixturenames):
        gc.collect()
    allowed = {_bed.pid} if _bed is not None and _bed.pid is not None else set()
    deadline = time.monotonic() + 2.0
    new_threads = [t for t in threading.enumerate() if t not in threads_before]
    for t in new_threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in new_threads if t.is_alive()]
    children = [p for p in me.children(recursive=True)
                if p.pid not in children_before and p.pid not in allowed and p.is_running()
                and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"test left threads running: {alive}"
    assert not children, f"test left processes running: {[c.cmdline() for c in children]}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show each bench's JSON line above pytest's summary line."""
    lines = [
        line
        for report in terminalreporter.stats.get("passed", [])
        if "test_bench" in report.nodeid
        for line in report.capstdout.splitlines()
        if line.startswith('{"bench"')
    ]
    if lines:
        terminalreporter.section("bench figures (small size)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def bench() -> Iterator[Callable[[VirtualCard], Bench]]:
    """Analysis sessions on embedded readers (tests/app_helpers.Bench), each closed at the end."""
    made: list[Bench] = []

    def make(card: VirtualCard) -> Bench:
        made.append(Bench(card))
        return made[-1]
    yield make
    for one in made:
        assert one.conn.close(timeout=5)
