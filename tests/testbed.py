"""The real PC/SC test bed: a private pcscd with vpcd readers.

Used by the pytest fixtures and by the bench scripts. Only one pcscd can run
per machine (it owns /run/pcscd/pcscd.comm), so this refuses to start when
another one answers there, and says which process it is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from smartcard import scard

PCSCD = "/usr/sbin/pcscd"
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
# Each vpcd channel gives two readers on consecutive TCP ports. pcsc-lite numbers
# readers per conf file, so two files with one FRIENDLYNAME give duplicate names.
CHANNELS = (0x8C7B, 0x8C7D)
FRIENDLY_NAMES = ("Virtual PCD", "Virtual PCD B", "Virtual PCD C", "Virtual PCD D")
MARKER = "card-explorer-testbed"
# Several checkouts (worktrees, helpers) share one machine and so one pcscd: whoever
# runs the bed holds this lock, and the others wait for it instead of failing.
LOCK_FILE = Path(tempfile.gettempdir()) / (MARKER + ".lock")
# Set while this process holds the lock, and so inherited by its children (the benches that
# `make test` runs): they use the bed their parent holds instead of waiting for it.
HELD_ENV = "CARD_EXPLORER_BED_HELD"


class BedError(RuntimeError):
    """The test bed cannot be set up; the message says why and what to do."""


def _socket_answers(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True


def _other_pcscd() -> str:
    out = subprocess.run(["pgrep", "-a", "-x", "pcscd"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown process"


def list_readers(timeout: float = 0.0) -> list[str] | None:
    """Readers pcscd knows, or None when the service does not answer."""
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, readers = scard.SCardListReaders(ctx, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hresult != scard.SCARD_S_SUCCESS:
            return None
        return list(readers)
    finally:
        scard.SCardReleaseContext(ctx)


@dataclass
class PcscBed:
    """A pcscd run in the foreground on a private reader.conf.d."""

    channels: tuple[int, ...] = CHANNELS
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix=MARKER + "-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def conf_dir(self) -> Path:
        return self.workdir / "reader.conf.d"

    @property
    def ports(self) -> list[int]:
        return [ch + slot for ch in self.channels for slot in (0, 1)]

    @property
    def reader_names(self) -> list[str]:
        return self.reader_names_for(self.channels)

    @staticmethod
    def reader_names_for(channels: tuple[int, ...]) -> list[str]:
        return [f"{FRIENDLY_NAMES[i]} 00 {slot:02d}" for i in range(len(channels)) for slot in (0, 1)]

    def port_of(self, reader: str) -> int:
        return self.ports[self.reader_names.index(reader)]

    def write_conf(self) -> None:
        if self.conf_dir.exists():
            for old in self.conf_dir.iterdir():
                old.unlink()
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        # One file for every channel, in order: pcscd adds readers in the order it
        # reads them, and the order of files in a directory is the file system's
        # (a tmpfs /tmp lists the newest first), so several files would list the
        # readers in a different order on another machine.
        entries = []
        for i, channel in enumerate(self.channels):
            # The vpcd driver keeps its per-slot sockets in static variables and
            # pcscd loads a LIBPATH once: a second channel on the same file would
            # take over the first one's slots. A copy per channel is its own library.
            driver = self.workdir / f"libifdvpcd-{i}.so"
            if not driver.exists():
                shutil.copyfile(VPCD_DRIVER, driver)
            entries.append(
                f'FRIENDLYNAME "{FRIENDLY_NAMES[i]}"\n'
                f"DEVICENAME   /dev/null:0x{channel:04X}\n"
                f"LIBPATH      {driver}\n"
                f"CHANNELID    0x{channel:04X}\n"
            )
        (self.conf_dir / "vpcd").write_text("\n".join(entries))

    def start(self, deadline: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        if _socket_answers(PCSCD_SOCKET):
            raise BedError(
                f"another pcscd already holds {PCSCD_SOCKET} ({_other_pcscd()}); "
                "stop it (e.g. systemctl stop pcscd.socket pcscd) and run the tests again"
            )
        if not Path(PCSCD).exists() or not Path(VPCD_DRIVER).exists():
            raise BedError("pcscd or the vpcd driver is missing: run `make test`, which installs them")
        self.write_conf()
        log = open(self.workdir / "pcscd.log", "ab")  # noqa: SIM115 - handed to the child
        # The marker in argv lets `make test` find a pcscd a killed run left behind.
        self.process = subprocess.Popen(
            [PCSCD, "--foreground", "--config", str(self.conf_dir), "--debug"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self.wait_ready(deadline)

    def wait_ready(self, deadline: float = 15.0) -> None:
        """Block until pcscd lists every vpcd reader; there is no event for that, so poll."""
        end = time.monotonic() + deadline
        want = set(self.reader_names)
        while time.monotonic() < end:
            if self.process is not None and self.process.poll() is not None:
                raise BedError(f"pcscd exited with {self.process.returncode}: {self.log_tail()}")
            readers = list_readers()
            if readers is not None and want <= set(readers):
                return
            time.sleep(0.02)
        raise BedError(f"pcscd did not list {sorted(want)} within {deadline} s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL, as a crash would: clients see the service vanish."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = (self.workdir / "pcscd.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def empty_readers(bed: PcscBed) -> list[str]:
    """The bed's readers without a card (another user of the bed may hold some)."""
    _, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        names = bed.reader_names
        hresult, states = scard.SCardGetStatusChange(ctx, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in names])
        if hresult != scard.SCARD_S_SUCCESS:
            raise RuntimeError(scard.SCardGetErrorMessage(hresult))
        return [str(name) for name, state, _ in states if not state & scard.SCARD_STATE_PRESENT]
    finally:
        scard.SCardReleaseContext(ctx)


@contextlib.contextmanager
def machine_lock(deadline: float = 1800.0) -> Iterator[None]:
    """Hold the machine's test-bed lock; waits up to `deadline` seconds for another run."""
    fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        end = time.monotonic() + deadline
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > end:
                    raise BedError(f"another test run held {LOCK_FILE} for {deadline:.0f} s") from None
                time.sleep(0.5)  # a lock file has no wake-up to wait on across processes
        os.environ[HELD_ENV] = str(os.getpid())
        yield
    finally:
        os.environ.pop(HELD_ENV, None)
        os.close(fd)  # releases the lock


def running_bed() -> PcscBed | None:
    """A bed for code (the benches) that may run under `make test`'s pcscd or alone."""
    if _socket_answers(PCSCD_SOCKET):
        readers = list_readers() or []
        if all(name in readers for name in PcscBed.reader_names_for(CHANNELS)):
            return PcscBed(workdir=Path(tempfile.gettempdir()))  # someone else's: use, do not stop
        raise BedError(f"another pcscd holds {PCSCD_SOCKET} without the vpcd readers ({_other_pcscd()})")
    return None


@contextlib.contextmanager
def bench_bed() -> Iterator[PcscBed]:
    """The bed a bench runs on: the one its parent holds (`make test`), or, once no other run
    holds the machine's lock, the one left running (`python -m tests.testbed`) or its own."""
    if os.environ.get(HELD_ENV) and (bed := running_bed()) is not None:
        yield bed
        return
    with machine_lock():
        bed = running_bed()
        if bed is not None:
            yield bed
            return
        bed = PcscBed()
        bed.start()
        try:
            yield bed
        finally:
            bed.stop()


if __name__ == "__main__":  # manual use: python -m tests.testbed
    bed = PcscBed()
    bed.start()
    print(f"pcscd {bed.pid} up with {bed.reader_names}; Ctrl-C stops it")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        bed.stop()
