"""Live validation of the script being typed: parsed once typing pauses, small scripts at once
on the GUI thread, large ones (or any that includes files) on a background thread with stale
results dropped; and the line under the editor that says what is wrong, and where.

The parser reads 20,000 lines in about a third of a second and a 4 MiB script in seconds: on
the GUI thread that would freeze the window at every pause in typing. A large script's tree
is also dropped on that thread, with the collector held: kept, its million objects made each
full collection (on whatever thread) hold the GIL, and the window, for 100-400 ms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QWidget

from explorer.core.sw_tables import Severity
from explorer.script.model import Case, Command, Diagnostic, Level, Repeat, Script, Step
from explorer.script.parser import Loader, parse_script
from explorer.ui.background import Background
from explorer.ui.console_transcript import MUTED, SEVERITY_COLOURS
from explorer.ui.message_line import MessageLine

DELAY_MS = 300
INLINE_LIMIT = 32 * 1024  # characters: parsed in ~15 ms, less than a frame or two
_INCLUDE = re.compile(r"^[ \t]*include\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class CheckRequest:
    """What one check reads: the text as it was, its file's name (for places), the variables
    given from outside, and how includes are read."""

    text: str
    file: str
    known: frozenset[str]
    load: Loader | None

    def parse(self) -> Script:
        return parse_script(self.text, self.file, known=self.known, load=self.load)

    @property
    def inline(self) -> bool:
        """Small and self-contained: quick enough for the GUI thread (no file is read)."""
        return len(self.text) <= INLINE_LIMIT and not _INCLUDE.search(self.text)


@dataclass(frozen=True)
class Check:
    """What one check found: the diagnostics and what the script holds. `script`, the tree, is
    kept for a small script only."""

    request: CheckRequest
    diagnostics: tuple[Diagnostic, ...]
    commands: int
    cases: int
    includes: tuple[str, ...]
    script: Script | None

    @property
    def ok(self) -> bool:
        return not any(d.level is Level.ERROR for d in self.diagnostics)


def check(request: CheckRequest, keep: bool) -> Check:
    script = request.parse()
    commands, cases = count_steps(script.steps)
    return Check(request, script.diagnostics, commands, cases, script.includes, script if keep else None)


class ScriptChecker(QObject):
    """`schedule()` after each edit; `checked(Check)` when the newest text is read."""

    checked = Signal(object)  # Check
    failed = Signal(str)

    def __init__(self, make_request: Callable[[], CheckRequest], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.make_request = make_request
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self.check_now)
        self._background = Background(self)
        self._generation = 0  # bumped by every edit: a result for an older one is stale
        self._running: int | None = None  # the generation a background parse reads

    @property
    def busy(self) -> bool:
        """A check is due or under way."""
        return self._timer.isActive() or self._running is not None

    def schedule(self) -> None:
        self._generation += 1
        self._timer.start()

    def check_now(self) -> None:
        self._timer.stop()
        generation = self._generation
        request = self.make_request()
        if request.inline:
            self.checked.emit(check(request, keep=True))
            return
        if self._running is not None:
            return  # started again with the newest text when the running one ends
        self._running = generation
        self._background.run("script-check", lambda: check(request, keep=False),
                             lambda found: self._done(generation, found), self._failed, large=True)

    def _done(self, generation: int, found: Check) -> None:
        self._running = None
        if generation == self._generation:
            self.checked.emit(found)
        elif not self._timer.isActive():
            self.check_now()  # edits came while it ran, and their pause is over

    def _failed(self, error: BaseException) -> None:
        self._running = None
        self.failed.emit(f"the script could not be checked: {error}")


def count_steps(steps: tuple[Step, ...]) -> tuple[int, int]:
    """(commands, test cases) in `steps`, repeats counted once."""
    commands = cases = 0
    for step in steps:
        if isinstance(step, Command):
            commands += 1
        elif isinstance(step, Case | Repeat):
            inner = count_steps(step.body)
            commands += inner[0]
            cases += inner[1] + isinstance(step, Case)
    return commands, cases


def summary(found: Check) -> str:
    """The verdict of a check in a few words: counts of errors and warnings, or what the script holds."""
    errors = sum(d.level is Level.ERROR for d in found.diagnostics)
    warnings = len(found.diagnostics) - errors
    parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    if parts:
        return ", ".join(parts)
    commands, cases = found.commands, found.cases
    held = f"{commands} command{'s' * (commands != 1)}"
    if cases:
        held += f" in {cases} test case{'s' * (cases != 1)}"
    return f"no errors: {held}"


def placed(diagnostic: Diagnostic, own_file: str) -> str:
    where = f"line {diagnostic.place.line}, column {diagnostic.place.column}"
    if diagnostic.place.file != own_file:
        where = f"{diagnostic.place.file} {where}"
    return f"{where}: {diagnostic.message}"


def placements(found: Check) -> list[tuple[int, int, Diagnostic, str]]:
    """(line, column, diagnostic, message) for each diagnostic that has a place in the text
    checked: its own, or for a problem inside an included file, the `include` line."""
    request = found.request
    includes = _include_lines(request.text) if found.includes else {}
    out = []
    for diagnostic in found.diagnostics:
        place = diagnostic.place
        if place.file == request.file:
            out.append((place.line, place.column, diagnostic, diagnostic.message))
        elif place.file in includes:
            out.append((includes[place.file], 1, diagnostic, placed(diagnostic, request.file)))
    return out


def _include_lines(text: str) -> dict[str, int]:
    """The line of each `include NAME` in `text`."""
    found: dict[str, int] = {}
    for match in re.finditer(r"^[ \t]*include[ \t]+(.+?)[ \t]*$", text, re.IGNORECASE | re.MULTILINE):
        found.setdefault(match.group(1), text.count("\n", 0, match.start()) + 1)
    return found


class DiagnosticLine(MessageLine):
    """The message under the editor; a click (or Enter/Space when focused) on a placed message
    emits `activated`, and the pane takes the cursor there."""

    activated = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(1, parent)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setIndent(4)
        self.target = False

    def show_message(self, text: str, level: Level | None, target: bool) -> None:
        colour = MUTED if level is None else SEVERITY_COLOURS[
            Severity.ERROR if level is Level.ERROR else Severity.WARNING]
        self.setStyleSheet(f"color:{colour};")
        self.target = target
        self.setCursor(Qt.CursorShape.PointingHandCursor if target else Qt.CursorShape.ArrowCursor)
        self.setText(text)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.target and event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit()
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.target and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.activated.emit()
            return
        super().keyPressEvent(event)
