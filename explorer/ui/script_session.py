"""What the script panel runs: the jobs of one run (a job per reader, in parallel), their
results taken into the results model in batches, the line marks and the progress they make,
pause/step/run to a line for every job at once, and the run on every card inserted.

No widgets: the panel shows what this holds. GUI thread only; the jobs' work happens on the
readers' workers (ui/script_run.py).

Results are taken on a 30 ms timer while a run is on: however fast the card answers, the
window does one model insert per tick (a 5,000-command run on the demo card takes about
as many ticks as it takes 30 ms slices, not 5,000 updates).
"""

from __future__ import annotations

import enum
import gc
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from explorer.core.hexfmt import HexError, parse_hex
from explorer.core.reader_events import CardInserted, CardRemoved, MonitorEvent, ReaderRemoved
from explorer.link.manager import ConnectionManager
from explorer.script import outline
from explorer.script.model import Script
from explorer.script.runner import Verdict
from explorer.script.runs import ScriptRun
from explorer.trace.records import Records
from explorer.ui.script_results import RANK, ScriptResultsModel, TraceLinks
from explorer.ui.script_run import JobEnd, ScriptJob

TICK_MS = 30
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# NAME=HEX, the hex running to a comma, a semicolon, the next NAME= or the end.
_VARIABLE = re.compile(rf"\s*({_NAME})\s*=\s*(.*?)\s*(?=[,;]|\s{_NAME}\s*=|$)[,;]?")


def parse_variables(text: str) -> dict[str, bytes]:
    """`PIN=31 32 33 34, AID=F0434152` (commas, semicolons or spaces between): the values given
    to `${NAME}`. ValueError names the item and the column (from 1) where it goes wrong."""
    values: dict[str, bytes] = {}
    at = 0
    while at < len(text) and text[at:].strip():
        found = _VARIABLE.match(text, at)
        if found is None or found.end() == at:
            raise ValueError(f"column {at + 1 + len(text[at:]) - len(text[at:].lstrip())}: NAME=HEX expected")
        try:
            values[found.group(1)] = parse_hex(found.group(2))
        except HexError as exc:
            raise ValueError(f"{found.group(1)} (column {found.start(2) + 1}): {exc}") from None
        at = found.end()
    return values


def summary(runs: list[ScriptRun]) -> tuple[str, str]:
    """(one line for the status, one line per run for its tooltip)."""
    def counts(results: list[ScriptRun]) -> str:
        passed, failed, errors = (sum(run.result.count(v) for run in results)
                                  for v in (Verdict.PASSED, Verdict.FAILED, Verdict.ERROR))
        return f"{passed} passed, {failed} failed, {errors} error{'s' * (errors != 1)}"

    def how(run: ScriptRun) -> str:
        return "stopped" if run.result.stopped else run.result.verdict.value

    full = "\n".join(f"{run.title}: {counts([run])} — {how(run)}" for run in runs)
    if len(runs) == 1:
        return f"{counts(runs)} — {how(runs[0])}", full
    what = "cards" if any(run.card for run in runs) else "readers"
    bad = sum(run.result.verdict is not Verdict.PASSED for run in runs)
    verdict = f"not passed on {bad}" if bad else "passed on every one"
    return f"{len(runs)} {what}: {counts(runs)} — {verdict}", full


class Phase(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    WAITING_CARD = "waiting for a card"
    WAITING_REMOVAL = "waiting for the card to be removed"


@dataclass(frozen=True)
class CardOutcome:
    """One card of a run on every card inserted."""

    number: int
    atr: bytes
    verdict: Verdict | None  # None: the run never started on it (no connection)
    at: float  # when its run ended (epoch seconds)
    note: str = ""


class ScriptSession(QObject):
    changed = Signal()  # the phase or the pause state: the buttons follow
    progressed = Signal()  # results came (model, marks, counts)
    finished = Signal()  # a run ended on every reader (a run on every card then waits for the next)
    card_done = Signal(object)  # CardOutcome
    message = Signal(str)

    def __init__(self, manager: ConnectionManager, records: Records,
                 cards: Callable[[], Mapping[str, bytes]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._records = records
        self._cards = cards
        self.model = ScriptResultsModel(self)
        self.links = TraceLinks(records)
        self.phase = Phase.IDLE
        self.paused = False
        self.jobs: list[ScriptJob] = []
        self.runs: list[ScriptRun] = []  # every run since Run was pressed (exports are made of these)
        self.marks: dict[int, Verdict] = {}  # line of the script's own file -> its worst verdict so far
        self.changed_lines: set[int] = set()
        self.running_lines: set[int] = set()
        self.done = self.total = 0
        self.seconds = 0.0
        self.cards_seen = 0
        self._script: Script | None = None
        self._variables: dict[str, bytes] = {}
        self._each_reader: str | None = None
        self._readers: list[str] = []
        self._frozen = False  # gc.freeze() while running
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    # -- starting --------------------------------------------------------------------

    def start(self, script: Script, readers: list[str], variables: Mapping[str, bytes], *,
              each_card: bool = False, run_to: int | None = None, step: bool = False) -> None:
        """Run `script` (which parsed without errors) on `readers` in parallel, or, `each_card`,
        on every card inserted in the first of them until `stop`."""
        self._script, self._variables = script, dict(variables)
        self.runs, self.cards_seen = [], 0
        self._readers = readers[:1] if each_card else list(readers)
        self._each_reader = readers[0] if each_card else None
        if each_card and readers[0] not in self._cards():
            self._set_phase(Phase.WAITING_CARD)
            self.message.emit(f"Waiting for a card in {readers[0]}…")
            return
        self._launch(run_to, step)

    def _launch(self, run_to: int | None = None, step: bool = False) -> None:
        script = self._script
        assert script is not None
        self.links = TraceLinks(self._records, len(self._records))
        self.model.start(script.file, self._readers)
        self.marks, self.changed_lines, self.running_lines = {}, set(), set()
        self.done, self.seconds = 0, 0.0
        self.total = outline.planned(script.steps) * len(self._readers)
        card = 0
        if self._each_reader is not None:
            self.cards_seen += 1
            card = self.cards_seen
        self.jobs = [ScriptJob(self._manager, reader, script, self._variables, card=card, parent=self)
                     for reader in self._readers]
        self.paused = step
        for job in self.jobs:
            if step:
                job.control.pause()
                job.control.step()
            elif run_to is not None:
                job.control.run_to(run_to, script.file)
            job.finished.connect(self._job_finished, Qt.ConnectionType.QueuedConnection)
        self._set_phase(Phase.RUNNING)
        self._timer.start()
        for job in self.jobs:
            job.start()

    # -- controls (every job at once) --------------------------------------------------

    def stop(self) -> None:
        for job in self.jobs:
            job.control.stop()
        if self.phase in (Phase.WAITING_CARD, Phase.WAITING_REMOVAL):
            self._set_phase(Phase.IDLE)
            self.finished.emit()
        self._each_reader = None  # a job still running ends the run when it stops
        self.paused = False
        self.changed.emit()

    def pause(self) -> None:
        self._each_control(lambda job: job.control.pause())
        self.paused = True
        self.changed.emit()

    def resume(self) -> None:
        self._each_control(lambda job: job.control.resume())
        self.paused = False
        self.changed.emit()

    def step(self) -> None:
        self._each_control(lambda job: job.control.step())
        self.paused = True
        self.changed.emit()

    def run_to(self, line: int) -> None:
        file = self._script.file if self._script is not None else None
        self._each_control(lambda job: job.control.run_to(line, file))
        self.paused = False
        self.changed.emit()

    def _each_control(self, act: Callable[[ScriptJob], None]) -> None:
        for job in self.jobs:
            if not job.done:
                act(job)

    @property
    def running(self) -> bool:
        return self.phase is not Phase.IDLE

    @property
    def waiting_at(self) -> int | None:
        """The line every running job is paused before (the first job's), None while one runs."""
        places = [job.control.waiting for job in self.jobs if not job.done]
        if not places or any(place is None for place in places):
            return None
        return places[0].line if places[0] is not None else None

    # -- results ----------------------------------------------------------------------

    def _tick(self) -> None:
        script = self._script
        if script is None:
            return
        came = False
        marks, changed, file = self.marks, self.changed_lines, script.file
        for column, job in enumerate(self.jobs):
            results = job.take()
            if not results:
                continue
            came = True
            self.model.add(column, results)
            self.done += len(results)
            seconds = 0.0
            for result in results:  # flat: thousands a tick on a fast card
                seconds += result.seconds
                place = result.place
                if place.file == file:
                    verdict, old = result.verdict, marks.get(place.line)
                    if old is None or (old is not verdict and RANK[verdict] > RANK[old]):
                        marks[place.line] = verdict
                        changed.add(place.line)
            self.seconds += seconds
        running = {job.control.at.line for job in self.jobs
                   if not job.done and job.control.at is not None and job.control.at.file == script.file}
        if running != self.running_lines:
            self.changed_lines |= running ^ self.running_lines
            self.running_lines = running
            came = True
        if not self.paused and self.waiting_at is not None:
            self.paused = True  # a run to a line got there
            self.changed.emit()
        if came:
            self.progressed.emit()

    def take_changed_lines(self) -> set[int]:
        lines, self.changed_lines = self.changed_lines, set()
        return lines

    def skipped_lines(self) -> set[int]:
        """Lines of the script's own file with a command that never ran in this run."""
        script = self._script
        if script is None:
            return set()
        return {c.place.line for c in outline.commands(script.steps)
                if c.place.file == script.file and c.place.line not in self.marks}

    def time_left(self) -> float | None:
        """Seconds, from the mean time per command so far (readers run side by side)."""
        if not self.done:
            return None
        return self.seconds / self.done * max(0, self.total - self.done) / max(1, len(self._readers))

    def _job_finished(self, end: JobEnd) -> None:
        self._tick()  # the results that came before the end
        if end.run is not None:
            self.runs.append(end.run)
        elif end.error:
            self.message.emit(f"{end.reader}: {end.error}")
        if any(not job.done for job in self.jobs):
            if end.crash is not None:
                raise end.crash
            return
        self._timer.stop()
        self.running_lines, self.changed_lines = set(), self.changed_lines | self.running_lines
        self.paused = False
        if self._each_reader is not None and end.crash is None:
            self._card_finished(end)
        else:
            self._set_phase(Phase.IDLE)
            self.finished.emit()
        if end.crash is not None:
            raise end.crash  # a bug: the crash dialog reports it

    def _card_finished(self, end: JobEnd) -> None:
        reader = self._each_reader
        assert reader is not None
        run = end.run
        atr = run.atr if run is not None else self._cards().get(reader, b"")
        self.card_done.emit(CardOutcome(self.cards_seen, atr, run.result.verdict if run else None,
                                        time.time(), end.error))
        if reader in self._cards():
            self._set_phase(Phase.WAITING_REMOVAL)
            self.message.emit(f"Card {self.cards_seen} done: remove it, then insert the next one")
        else:
            self._set_phase(Phase.WAITING_CARD)
            self.message.emit(f"Card {self.cards_seen} done: insert the next card in {reader}")

    # -- the readers' events -------------------------------------------------------------

    def on_monitor_event(self, event: MonitorEvent) -> None:
        """After the connection manager saw it. A card removed from a reader whose job is paused
        ends that job (nothing would wake it); a running job sees the card gone by itself."""
        if isinstance(event, CardRemoved | ReaderRemoved):
            for job in self.jobs:
                if job.reader == event.reader and not job.done and job.control.waiting is not None:
                    job.control.stop()
            if isinstance(event, ReaderRemoved) and event.reader == self._each_reader:
                self.message.emit(f"{event.reader} was removed: the run on every card ends")
                self._each_reader = None  # a job still running ends the run when it ends
                if self.phase is not Phase.RUNNING:
                    self._set_phase(Phase.IDLE)
                    self.finished.emit()
            elif event.reader == self._each_reader and self.phase is Phase.WAITING_REMOVAL:
                self._set_phase(Phase.WAITING_CARD)
                self.message.emit(f"Insert the next card in {event.reader}")
        elif isinstance(event, CardInserted) and event.reader == self._each_reader \
                and self.phase is Phase.WAITING_CARD:
            self._launch()

    def shutdown(self) -> None:
        """The window closes: every job told to stop, so no worker waits on a pause forever."""
        self._each_reader = None
        for job in self.jobs:
            job.control.stop()
        self._timer.stop()
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    def _set_phase(self, phase: Phase) -> None:
        self.phase = phase
        # While a run's results pour in (thousands a second, each with its trace records), a full
        # collection would walk everything the window holds with the GIL held: 30-80 ms of frozen
        # window in a 5,000-command run. What exists when the run starts (the trace so far, the
        # parsed script) is frozen out of the collector's sight until the run ends; the run's own
        # objects are collected as usual.
        if phase is Phase.RUNNING and not self._frozen:
            gc.freeze()
            self._frozen = True
        elif phase is not Phase.RUNNING and self._frozen:
            gc.unfreeze()
            self._frozen = False
        self.changed.emit()
