"""An analysis run from the window on one reader: connect if need be (shared, as the console and
the Script dock do), then every chosen analyzer as ONE job on the reader's worker
(CardConnection.run_job, origin "analyzer"), as `card-explorer analyze` runs it.

Thread rules: an `AnalysisJob` lives on the GUI thread. On the reader's worker the analyzers
report progress as often as they like: only the latest is kept, under a lock, and one queued
event at most is on its way to the GUI thread at a time (`progressed`), so a FID scan of
thousands of steps costs the window a handful of updates. `finished` is a queued signal
carrying a frozen `AnalysisEnd`. `cancel` may be called at any time, even before the job has
started: the session is made here, and its first command then raises Cancelled.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal

from explorer.apps.analysis import Analysis, run_analyzers
from explorer.apps.analyzer import Analyzer
from explorer.apps.findings import Finding
from explorer.apps.session import AnalysisSession
from explorer.core.card_errors import CardError
from explorer.core.exchange import Origin, Reply, TransmitOptions
from explorer.core.processors import Channel
from explorer.link.connection import CardConnection, LinkState, WorkerSession
from explorer.link.manager import ConnectionManager
from explorer.ui.gil_naps import GilNaps
from explorer.ui.reader_job import open_connected


@dataclass(frozen=True)
class Progress:
    """Where an analysis is: analyzer `number` of `count` (from 1), what it is doing, and how far
    it is through its own work (0 to 1)."""

    title: str
    number: int
    count: int
    what: str
    done: float

    @property
    def overall(self) -> float:
        return (self.number - 1 + min(max(self.done, 0.0), 1.0)) / max(1, self.count)


@dataclass(frozen=True)
class AnalysisEnd:
    """How a job ended: its analysis (None when it never started: no card, no connection), the
    card error that stopped it from starting, or a bug (`crash`, re-raised on the GUI thread so
    the crash dialog reports it)."""

    reader: str
    analysis: Analysis | None
    error: str = ""
    crash: BaseException | None = None


class _Told:
    """An analyzer that tells the job when it starts: the trace notes which analyzer sent a
    command, and the progress line which one is running."""

    def __init__(self, job: AnalysisJob, inner: Analyzer, number: int) -> None:
        self.key, self.title = inner.key, inner.title
        self._job, self._inner, self._number = job, inner, number

    def likely(self, atr: bytes) -> bool:
        return self._inner.likely(atr)

    def analyze(self, session: AnalysisSession) -> Finding:
        self._job._begin(self, self._number)
        return self._inner.analyze(session)


class AnalysisJob(QObject):
    progressed = Signal(object)  # Progress, the latest
    finished = Signal(object)  # AnalysisEnd
    _poke = Signal()  # from the worker: a progress is waiting

    def __init__(self, manager: ConnectionManager, reader: str, analyzers: Sequence[Analyzer], *,
                 allow_changes: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.done = False
        self._manager = manager
        self._analyzers = [_Told(self, a, i) for i, a in enumerate(analyzers, 1)]
        self.session = AnalysisSession(self._transmit, allow_changes=allow_changes, progress=self._progress,
                                       secure_transmit=self._transmit)
        self._lock = threading.Lock()
        self._latest: Progress | None = None
        self._posted = False
        self._current = ("", "", 0)  # key, title, number: written on the worker only
        self._worker: WorkerSession | None = None
        self._nap = GilNaps(False)
        self._poke.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.finished.connect(self._note_done, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        """GUI thread: returns at once; the connect and the analysis happen on the reader's worker."""
        open_connected(self._manager, self.reader, self._submit,
                       lambda message, crash: self._end(AnalysisEnd(self.reader, None, message, crash)))

    def cancel(self) -> None:
        """Any thread: the analysis stops before its next command, keeping what it found."""
        self.session.cancel()

    # -- on the reader's worker ----------------------------------------------------------

    def _submit(self, conn: CardConnection, state: LinkState) -> None:
        self._nap = GilNaps(conn.embedded)
        atr = state.atr

        def job(worker: WorkerSession) -> Analysis:
            self._worker = worker
            try:
                return run_analyzers(self.session, self._analyzers, self.reader, atr)
            finally:
                self._worker = None

        conn.run_job(job, Origin.ANALYZER).add_done_callback(self._job_done)

    def _transmit(self, apdu: bytes, channel: Channel | None = None) -> Reply:
        worker = self._worker
        assert worker is not None, "an analyzer sent a command outside its job"
        try:
            return worker.send(apdu, TransmitOptions(), False, f"analyze {self._current[0]}", channel=channel)
        finally:
            self._nap()

    def _begin(self, analyzer: _Told, number: int) -> None:
        self._current = (analyzer.key, analyzer.title, number)
        self._progress("started", 0.0)

    def _progress(self, what: str, done: float) -> None:
        _, title, number = self._current
        with self._lock:
            self._latest = Progress(title, number, len(self._analyzers), what, done)
            posted, self._posted = self._posted, True
        if not posted:
            with contextlib.suppress(RuntimeError):  # the panel went away meanwhile
                self._poke.emit()

    def _job_done(self, future: Future[Analysis]) -> None:
        try:
            analysis = future.result()
        except CardError as exc:  # the connection closed before the job began (reader removed)
            self._end(AnalysisEnd(self.reader, None, str(exc)))
        except Exception as exc:
            self._end(AnalysisEnd(self.reader, None, "internal error", exc))
        else:
            self._end(AnalysisEnd(self.reader, analysis))

    def _end(self, end: AnalysisEnd) -> None:
        with contextlib.suppress(RuntimeError):  # the panel went away meanwhile
            self.finished.emit(end)

    # -- on the GUI thread ----------------------------------------------------------------

    def _deliver(self) -> None:
        with self._lock:
            latest, self._latest, self._posted = self._latest, None, False
        if latest is not None and not self.done:
            self.progressed.emit(latest)

    def _note_done(self, end: object) -> None:
        self.done = True
