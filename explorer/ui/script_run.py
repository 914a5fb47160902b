"""A script run from the window on one reader: connect if need be (shared, as the console
does), then the whole script as ONE job on the reader's worker (CardConnection.run_job), its
results handed to the GUI thread in batches.

Thread rules: a `ScriptJob` lives on the GUI thread. On the reader's worker, each frozen
StepResult goes into a list under a lock (with a nap now and then on a virtual card, see
ui/gil_naps.py); the GUI thread `take`s what has come, on a timer
(ui/script_session.py), so a fast card costs the window one model update per tick, not one
queued event per result (thousands a second, which Qt delivers in one go: the window would
stall for the whole burst). `finished` is a queued signal carrying a frozen `JobEnd`, emitted
after the last result. Nothing on the worker touches a widget or a model.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal

from explorer.core.card_errors import CardError
from explorer.link.connection import CardConnection, LinkState, WorkerSession
from explorer.link.manager import ConnectionManager
from explorer.script.model import Script
from explorer.script.runner import Control, ScriptResult, StepResult, run
from explorer.script.runs import ScriptRun
from explorer.ui.gil_naps import GilNaps
from explorer.ui.reader_job import open_connected


@dataclass(frozen=True)
class JobEnd:
    """How a job ended: its run (None when it never started: no card, no connection), the
    card error that stopped it from starting, or a bug (`crash`, re-raised on the GUI thread so
    the crash dialog reports it)."""

    reader: str
    run: ScriptRun | None
    error: str = ""
    crash: BaseException | None = None


class ScriptJob(QObject):
    finished = Signal(object)  # JobEnd

    def __init__(self, manager: ConnectionManager, reader: str, script: Script,
                 variables: Mapping[str, bytes], *, card: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.script = script
        self.card = card
        self.control = Control()
        self.done = False
        self._manager = manager
        self._variables = dict(variables)
        self._lock = threading.Lock()
        self._pending: list[StepResult] = []
        self._atr = b""
        self._nap = GilNaps(False)
        self.finished.connect(self._note_done, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        """GUI thread: returns at once; the connect and the run happen on the reader's worker."""
        open_connected(self._manager, self.reader, self._submit,
                       lambda message, crash: self._end(JobEnd(self.reader, None, message, crash)))

    def take(self) -> list[StepResult]:
        """GUI thread: the results that came since the last take, in order."""
        with self._lock:
            taken, self._pending = self._pending, []
        return taken

    # -- on the reader's worker ----------------------------------------------------------

    def _submit(self, conn: CardConnection, state: LinkState) -> None:
        self._atr = state.atr
        self._nap = GilNaps(conn.embedded)
        conn.run_job(self._job).add_done_callback(self._job_done)

    def _job(self, session: WorkerSession) -> ScriptResult:
        return run(self.script, session, variables=self._variables, on_result=self._note,
                   control=self.control)

    def _note(self, result: StepResult) -> None:
        with self._lock:
            self._pending.append(result)
        self._nap()

    def _job_done(self, future: Future[ScriptResult]) -> None:
        try:
            result = future.result()
        except CardError as exc:  # the connection closed before the job began (reader removed)
            self._end(JobEnd(self.reader, None, str(exc)))
        except Exception as exc:
            self._end(JobEnd(self.reader, None, "internal error", exc))
        else:
            self._end(JobEnd(self.reader, ScriptRun(result, self.reader, self._atr, self.card)))

    def _end(self, end: JobEnd) -> None:
        with contextlib.suppress(RuntimeError):  # the panel went away meanwhile
            self.finished.emit(end)

    def _note_done(self, end: object) -> None:
        self.done = True
