"""Where `card-explorer run` runs: the readers (or an in-process virtual reader), and how a
reader's scripts go (once, in rounds, or on every card inserted). One thread per reader drives
that reader's connection; the connection's worker does the card work."""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from explorer.core import card_errors as ce
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.core.printable import printable
from explorer.link.connection import Link, WorkerSession
from explorer.script.model import Script
from explorer.script.runner import Control, ScriptResult, StepResult, Verdict, run
from explorer.script.runs import ScriptRun
from explorer.services.card_access import CardAccess

if TYPE_CHECKING:
    from explorer.pcsc.card_wait import CardWaiter


class Usage(Exception):
    """A bad command line or environment: exit 2 with this message."""


class NoService(Exception):
    """No PC/SC service: exit 3."""


class Outcome:
    """How a reader's work ended, worst last: the exit status is the worst of all readers'."""

    OK, FAILED, CARD_ERROR, NO_SERVICE = range(4)


@dataclass
class Target:
    """One reader to run on, through `access` (a new connection per card for --each-card)."""

    reader: str
    access: CardAccess
    pcsc: bool = True
    control: Control = field(default_factory=Control)
    card: int = 0  # the card and round being run (0: not counted), for the results' lines
    round: int = 0
    _waiter: CardWaiter | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stop(self) -> None:
        """Any thread: the running script stops before its next command; a wait for a card ends."""
        self.control.stop()
        with self._lock:
            waiter = self._waiter
        if waiter is not None:
            waiter.cancel()

    def wait_card(self, new_only: bool) -> bytes | None:
        """Block until a card is in this reader (with `new_only`, a card inserted after the wait
        started): its ATR; None when stopped."""
        from explorer.pcsc.card_wait import CardWaiter

        waiter = CardWaiter(readers=[self.reader], new_only=new_only)
        with self._lock:
            if self.control.stopped:
                return None
            self._waiter = waiter
        try:
            return waiter.wait()[1]
        except ce.Cancelled:
            return None
        finally:
            with self._lock:
                self._waiter = None


def command_line_access() -> CardAccess:
    """PC/SC readers (pyscard imported only when one is opened) and in-process virtual ones; no
    monitor, and no trace kept in memory (the exchanges go to a trace file or nowhere)."""

    def pcsc_link(reader: str) -> Link:
        from explorer.pcsc.connection import PcscLink

        return PcscLink(reader)

    return CardAccess(pcsc_link)


def targets(args: argparse.Namespace, access: CardAccess) -> list[Target]:
    """The readers named on the command line, checked now (before anything is sent)."""
    if args.profile:
        if args.reader or args.all_readers or args.each_card:
            raise Usage("--profile runs on its own virtual reader: no --reader, --all-readers or --each-card")
        return [virtual_target(args.profile, access)]
    from explorer.cli.run_send import choose_reader
    from explorer.pcsc.snapshot import read_readers

    with _reader_errors():
        if args.all_readers:
            if args.reader:
                raise Usage("--all-readers or --reader, not both")
            snapshots = read_readers()
            names = [s.name for s in snapshots if args.each_card or s.card_present]
            if not names:
                raise Usage("no reader is connected" if not snapshots else
                            f"no reader has a card (readers: {', '.join(s.name for s in snapshots)})")
        elif args.each_card and not args.reader:
            names = [_only_reader([s.name for s in read_readers()])]
        else:
            names = [choose_reader(name) for name in (args.reader or [None])]
    if len(set(names)) < len(names):
        raise Usage("a reader is named twice: " + ", ".join(printable(n) for n in names))
    return [Target(name, access) for name in names]


def pcsc_target(wanted: str | None, access: CardAccess) -> Target:
    """The PC/SC reader named (an exact name or a unique part of one), or the one with a card."""
    from explorer.cli.run_send import choose_reader

    with _reader_errors():
        return Target(choose_reader(wanted), access)


@contextlib.contextmanager
def _reader_errors() -> Iterator[None]:
    """Looking readers up: a wrong name or no card is usage (exit 2), no service exit 3."""
    from explorer.cli.bad_input import BadInput
    from explorer.pcsc.context import ServiceUnavailable

    try:
        yield
    except BadInput as exc:  # no such reader, or no single one with a card
        raise Usage(str(exc)) from None
    except ServiceUnavailable as exc:
        raise NoService(str(exc)) from None


def _only_reader(names: list[str]) -> str:
    if len(names) != 1:
        raise Usage("no reader is connected" if not names else
                    f"{len(names)} readers: choose one with --reader, or --all-readers")
    return names[0]


def virtual_target(profile: str, access: CardAccess) -> Target:
    """An in-process virtual reader with the card of `profile` ("demo" or a profile file)."""
    from explorer.virtual.card_sources import CardSource, CardSourceError, SourceKind, load_card

    source = CardSource(SourceKind.DEMO) if profile == "demo" else CardSource(SourceKind.PROFILE, profile)
    try:
        loaded = load_card(source)
    except CardSourceError as exc:
        raise Usage(str(exc)) from None
    return Target(access.add_card(loaded.card, loaded.label), access, pcsc=False)


@dataclass
class Plan:
    """What every reader runs: the scripts, `rounds` times, on one card or on each card."""

    scripts: Sequence[Script]
    variables: dict[str, bytes]
    keep_going: bool
    rounds: int
    each_card: bool
    cards: int | None  # with each_card: stop after this many cards (None: until interrupted)
    on_result: Callable[[Target, StepResult], None]
    on_run: Callable[[ScriptRun], None]
    on_note: Callable[[Target, str], None]


def drive(target: Target, plan: Plan) -> int:
    """Run the plan on one reader (on the calling thread): the worst Outcome."""
    if not plan.each_card:
        return _card(target, plan, card=0, atr=b"")
    outcome, count = Outcome.OK, 0
    while plan.cards is None or count < plan.cards:
        plan.on_note(target, "waiting for a card" if not count else "remove the card; waiting for the next")
        try:
            atr = target.wait_card(new_only=count > 0)
        except ce.CardError as exc:
            plan.on_note(target, str(exc))
            return max(outcome, Outcome.NO_SERVICE if isinstance(exc, ce.ServiceGone) else Outcome.CARD_ERROR)
        if atr is None:
            break
        count += 1
        plan.on_note(target, f"card {count}: ATR {atr.hex(' ').upper()}")
        outcome = max(outcome, _card(target, plan, card=count, atr=atr))
        if outcome == Outcome.NO_SERVICE:
            break
    return outcome


def _card(target: Target, plan: Plan, card: int, atr: bytes) -> int:
    """Every round of every script on the card in the reader now."""
    conn = target.access.manager.open(target.reader)
    outcome = Outcome.OK
    try:
        state = conn.connect(Protocol.ANY, ShareMode.SHARED).result()
        atr = state.atr or atr
        for round_ in range(1, plan.rounds + 1):
            target.card, target.round = card, round_ if plan.rounds > 1 else 0
            for script in plan.scripts:
                if target.control.stopped:
                    return outcome
                result = conn.run_job(_job(script, target, plan)).result()
                plan.on_run(ScriptRun(result, target.reader, atr, target.card, target.round))
                if result.verdict is Verdict.ERROR:
                    return Outcome.CARD_ERROR
                if result.verdict is Verdict.FAILED:
                    outcome = Outcome.FAILED
        return outcome
    except ce.CardError as exc:
        plan.on_note(target, str(exc))
        return Outcome.NO_SERVICE if isinstance(exc, ce.ServiceGone) else Outcome.CARD_ERROR
    finally:
        target.access.manager.close(target.reader, Disposition.LEAVE, timeout=1.0)


def _job(script: Script, target: Target, plan: Plan) -> Callable[[WorkerSession], ScriptResult]:
    def job(session: WorkerSession) -> ScriptResult:
        return run(script, session, variables=plan.variables, keep_going=plan.keep_going,
                   control=target.control, on_result=lambda r: plan.on_result(target, r))
    return job


def drive_all(all_targets: Sequence[Target], plan: Plan) -> int:
    """Every reader in parallel, one thread each (even one reader: the main thread only waits,
    so Ctrl-C reaches it and stops the scripts before their connections close). Ctrl-C is
    re-raised once every reader has ended, so the results so far are reported."""
    outcomes = [Outcome.OK] * len(all_targets)

    def work(i: int) -> None:
        outcomes[i] = drive(all_targets[i], plan)

    threads = [threading.Thread(target=work, args=(i,), name=f"run-{i}", daemon=True)
               for i in range(len(all_targets))]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        for target in all_targets:
            target.stop()
        for thread in threads:
            with contextlib.suppress(KeyboardInterrupt):
                thread.join()
        raise
    return max(outcomes)
