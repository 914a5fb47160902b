"""Running scripts (pure): on the demo card in-process, through the same 61xx/6Cxx pipeline the
connections use. Expectations pass and fail where they should, captures feed later commands,
test cases stop or go on, and a stop between commands is honoured."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from explorer.core import card_errors as ce
from explorer.core.exchange import Exchange, Origin, Reply, TransmitOptions, run_pipeline
from explorer.script.model import Command
from explorer.script.parser import parse_script
from explorer.script.runner import Control, ScriptResult, StepResult, Verdict, run
from explorer.script.runs import ScriptRun
from explorer.virtual.card import VirtualCard
from explorer.virtual.card_sources import CardSource, SourceKind, load_card

APP = "F0 43 41 52 44 45 58 50"  # the demo card's application


class DemoCard:
    """The demo profile's card behind run_pipeline, as a connection's worker would drive it."""

    def __init__(self, pull_after: int | None = None) -> None:
        self.card: VirtualCard = load_card(CardSource(SourceKind.DEMO)).card
        self.card.power_on()
        self.sent: list[bytes] = []
        self.pull_after = pull_after

    def _transmit(self, apdu: bytes, origin: Origin) -> Exchange:
        if self.pull_after is not None and len(self.sent) >= self.pull_after:
            raise ce.CardRemoved("Demo reader")
        self.sent.append(apdu)
        return Exchange("Demo reader", apdu, self.card.process(apdu), 0.0, 0.0, origin)

    def send(self, apdu: bytes, options: TransmitOptions, as_is: bool, place: object,
             secret: bool = False) -> Reply:
        if as_is:
            exchange = self._transmit(apdu, Origin.SCRIPT)
            return Reply((exchange,), exchange.data, exchange.sw or 0)
        return run_pipeline(apdu, self._transmit, Origin.SCRIPT, options)

    def reset(self, cold: bool) -> bytes:
        self.card.reset()
        return self.card.atr


def run_text(text: str, card: DemoCard | None = None, **kwargs: object) -> tuple[ScriptResult, DemoCard]:
    script = parse_script(text, "t.apdu", known=kwargs.pop("known", ()))  # type: ignore[arg-type]
    assert script.ok, [str(d) for d in script.diagnostics]
    card = card or DemoCard()
    return run(script, card, **kwargs), card  # type: ignore[arg-type]


def test_expectations_pass_and_fail_where_they_should() -> None:
    result, _ = run_text(f"""\
test "select" continue
  00 A4 04 00 08 {APP} 00
  expect 90 00
  expect tlv 6F/84 = {APP}
  expect data 6F *
  00 A4 04 00 08 {APP} 00
  expect 6A 82
  00 A4 04 00 08 {APP} 00
  expect length >= 200
end
""")
    verdicts = [r.verdict for r in result.results]
    assert verdicts == [Verdict.PASSED, Verdict.FAILED, Verdict.FAILED]
    assert result.results[1].failures == ("expected SW 6A 82, got 90 00",)
    assert "expected at least 200 data bytes" in result.results[2].failures[0]
    assert result.verdict is Verdict.FAILED and result.cases[0].verdict is Verdict.FAILED


def test_a_capture_feeds_a_later_command() -> None:
    result, card = run_text(f"""\
00 A4 04 00 08 {APP} 00
capture AID tlv 6F/84
00 A4 04 00 08 ${{AID}}
expect 61 xx | 90 00
""")
    assert result.verdict is Verdict.PASSED, [r.failures for r in result.results]
    assert card.sent[-2:][0] == bytes.fromhex("00A4040008") + bytes.fromhex(APP.replace(" ", ""))


def test_a_failing_case_stops_itself_and_the_script_goes_on() -> None:
    result, _ = run_text(f"""\
test "stops at its first failure"
  00 A4 04 00 08 {APP} 00
  expect 6A 82
  00 B0 00 00 00
end
test "runs"
  00 A4 04 00 08 {APP} 00
  expect 90 00
end
""")
    assert [c.verdict for c in result.cases] == [Verdict.FAILED, Verdict.PASSED]
    assert len(result.cases[0].results) == 1  # the READ BINARY after the failure was not sent


def test_without_an_expectation_the_sw_chain_decides() -> None:
    result, card = run_text("00 A4 04 00 02 3F 99\n00 B0 00 00 00\n")
    assert result.results[0].verdict is Verdict.FAILED and "stops" in result.results[0].failures[0]
    assert len(card.sent) == 1  # the error SW ended the script
    kept, card = run_text("00 A4 04 00 02 3F 99\n00 A4 00 00 02 3F 00\n", keep_going=True)
    assert len(card.sent) >= 2 and kept.verdict is Verdict.FAILED


def test_a_pulled_card_is_an_error_with_the_results_so_far() -> None:
    result, _ = run_text(f"00 A4 04 00 08 {APP} 00\nrepeat 5\n  00 84 00 00 08\nend\n",
                         DemoCard(pull_after=3))
    assert [r.verdict for r in result.results][-1] is Verdict.ERROR
    assert "removed" in result.results[-1].failures[0] and result.verdict is Verdict.ERROR
    assert len(result.results) == 3  # SELECT (and its GET RESPONSE), one GET CHALLENGE, then the error


def test_reset_with_an_expected_atr_and_secrets_masked() -> None:
    seen: list[StepResult] = []
    result, _ = run_text("reset cold atr 3B 8E 80 01 *\nset PIN = 31 32 33 34 FF FF FF FF\n"
                         "00 20 00 81 08 ${PIN}\nexpect 90 00\nsecret 80 D8 00 00 02 AB CD\n"
                         "expect sw xx xx\n", on_result=seen.append)
    assert [r.verdict for r in seen[:2]] == [Verdict.PASSED, Verdict.PASSED]
    assert seen[1].shown == "00 20 00 81 08 •• •• •• •• •• •• •• ••"
    assert seen[2].shown == "80 D8 00 00 02 •• ••"
    assert result.verdict is Verdict.PASSED


def test_stop_and_step_between_commands() -> None:
    control = Control()
    control.pause()
    seen: list[StepResult] = []
    one = threading.Event()
    done = threading.Event()
    outcome: list[ScriptResult] = []

    def note(result: StepResult) -> None:
        seen.append(result)
        one.set()

    def go() -> None:
        outcome.append(run_text("repeat 100\n  00 84 00 00 08\nend\n", control=control, on_result=note)[0])
        done.set()

    worker = threading.Thread(target=go)
    worker.start()
    control.step()
    assert one.wait(5)
    assert not done.wait(0.2)  # paused again after the one step
    assert len(seen) == 1
    control.stop()
    assert done.wait(5)
    worker.join()
    assert outcome[0].stopped and len(outcome[0].results) == 1


def test_on_a_connection_a_script_is_one_job_and_its_exchanges_say_where_they_come_from() -> None:
    from explorer.core.exchange import SENT_AS_IS, Exchange
    from explorer.core.link_modes import Protocol, ShareMode
    from explorer.link.connection import CardConnection
    from explorer.virtual.embedded import EmbeddedReaders

    readers = EmbeddedReaders(lambda event: None)
    reader = readers.add_reader()
    readers.insert(reader, load_card(CardSource(SourceKind.DEMO)).card)
    traced: list[object] = []
    conn = CardConnection(reader, readers.link(reader), traced.append)
    try:
        conn.connect(Protocol.ANY, ShareMode.SHARED).result(5)
        script = parse_script(f"00 A4 04 00 08 {APP} 00\nraw 00 A4 04\n", "t.apdu")
        threads: list[str] = []
        result = conn.run_job(lambda session: (threads.append(threading.current_thread().name),
                                               run(script, session, keep_going=True))[1]).result(5)
    finally:
        assert conn.close()
    assert threads[0] != threading.current_thread().name  # on the reader's worker
    assert result.results[0].verdict is Verdict.PASSED
    exchanges = [e for e in traced if isinstance(e, Exchange)]
    assert [e.origin for e in exchanges] == [Origin.SCRIPT, Origin.GET_RESPONSE, Origin.SCRIPT]
    assert [e.note for e in exchanges] == ["t.apdu:1:1", "t.apdu:1:1", f"t.apdu:2:1; {SENT_AS_IS}"]


def test_junit_names_a_card_error_as_an_error() -> None:
    from junitparser import Error, JUnitXml

    from explorer.script.junit import junit_xml

    text = f'test "pulled"\n  00 A4 04 00 08 {APP} 00\n  repeat 5\n    00 84 00 00 08\n  end\nend\n'
    result, _ = run_text(text, DemoCard(pull_after=3))
    xml = JUnitXml.fromstring(junit_xml([ScriptRun(result, "Demo reader")]))
    (suite,) = list(xml)
    assert (suite.tests, suite.failures, suite.errors) == (1, 0, 1)
    (case,) = list(suite)
    (error,) = case.result
    assert isinstance(error, Error) and "the card was removed" in (error.message or "")


def _until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait (with a deadline) for a state another thread reaches."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the state never came"
        threading.Event().wait(0.001)


def test_run_to_a_line_pauses_before_the_first_command_at_or_after_it() -> None:
    text = ("00 84 00 00 08\n00 84 00 00 08\nrepeat 2\n  00 84 00 00 08\nend\n"
            "00 84 00 00 08\n")
    control = Control()
    control.run_to(4, "t.apdu")  # before the run: lines 1 and 2 run, line 4 waits
    seen: list[int] = []
    outcome: list[ScriptResult] = []
    worker = threading.Thread(target=lambda: outcome.append(
        run_text(text, control=control, on_result=lambda r: seen.append(r.place.line))[0]))
    worker.start()
    try:
        _until(lambda: control.waiting is not None)
        assert control.waiting is not None and control.waiting.line == 4 and seen == [1, 2]
        assert control.at == control.waiting
        control.run_to(4, "t.apdu")  # the waiting command goes first; the repeat's second turn waits
        _until(lambda: len(seen) == 3 and control.waiting is not None)
        assert seen == [1, 2, 4] and control.waiting is not None and control.waiting.line == 4
        control.run_to(2, "other.apdu")  # no command of that file: runs to the end
        worker.join(5)
    finally:
        control.stop()
        worker.join(5)
    assert seen == [1, 2, 4, 4, 6] and not outcome[0].stopped


def test_pause_forgets_a_run_to_and_a_run_to_past_the_end_runs_through() -> None:
    control = Control()
    control.run_to(99)
    control.pause()  # any other order drops the one-off stop: it now pauses before line 1
    outcome: list[ScriptResult] = []
    worker = threading.Thread(target=lambda: outcome.append(run_text("00 84 00 00 08\n00 84 00 00 08\n",
                                                                     control=control)[0]))
    worker.start()
    try:
        _until(lambda: control.waiting is not None)
        assert control.waiting is not None and control.waiting.line == 1
        control.run_to(99)
        worker.join(5)
    finally:
        control.stop()
        worker.join(5)
    assert [r.place.line for r in outcome[0].results] == [1, 2]


def test_a_card_error_keeps_what_crossed_the_wire() -> None:
    class Pulled(DemoCard):
        def _transmit(self, apdu: bytes, origin: Origin) -> Exchange:
            if origin is Origin.GET_RESPONSE:  # the card goes between the command and its GET RESPONSE
                error = ce.CardRemoved("Demo reader")
                error.exchanges = (Exchange("Demo reader", apdu, b"", 1.0, 0.0, origin, error=str(error)),)
                raise error
            return super()._transmit(apdu, origin)

    result, _ = run_text(f"00 A4 04 00 08 {APP} 00\n", Pulled())
    (step,) = result.results
    assert step.verdict is Verdict.ERROR and step.reply is None
    assert [e.origin for e in step.exchanges] == [Origin.SCRIPT, Origin.GET_RESPONSE]
    assert step.exchanges[0].command == bytes.fromhex(f"00A4040008{APP.replace(' ', '')}00")


def test_the_outline_counts_repeats_and_expectations_are_spelt_as_written() -> None:
    from explorer.script import outline

    script = parse_script(f"""\
reset cold atr 3B 8E *
test "t"
  repeat 3
    00 84 00 00 08
    expect length 8
    repeat 2
      00 A4 04 00 08 {APP} 00
      expect 61 xx | 90 00
      expect data 6F *
      expect tlv 6F/84 = {APP}
      expect length >= 4
    end
  end
end
00 B0 00 00 00
""", "t.apdu")
    assert script.ok
    assert outline.planned(script.steps) == 1 + 3 * (1 + 2) + 1
    assert [c.place.line for c in outline.commands(script.steps)] == [1, 4, 7, 15]
    commands = outline.commands(script.steps)
    assert [c.expect.text for c in commands if isinstance(c, Command)] == [
        "length 8", f"sw 61 xx | 90 00; data 6F *; length >= 4; tlv 6F/84 = {APP}", ""]


def test_a_command_after_the_card_went_says_why_not_only_not_connected() -> None:
    """The monitor may end a session (the card pulled) before a running script's next command:
    that command's error names the loss, as the card error would have."""
    from explorer.core.link_modes import Disposition
    from explorer.link.connection import CardConnection
    from explorer.virtual.embedded import EmbeddedReaders

    readers = EmbeddedReaders(lambda event: None)
    reader = readers.add_reader()
    readers.insert(reader, load_card(CardSource(SourceKind.DEMO)).card)
    conn = CardConnection(reader, readers.link(reader))
    try:
        conn.connect().result(5)
        assert conn.lose("card removed")
        with pytest.raises(ce.NotConnected, match="not connected: card removed"):
            conn.transmit(bytes.fromhex("0084000008")).result(5)
        conn.connect().result(5)  # a new session: its own story
        conn.disconnect(Disposition.LEAVE).result(5)
        with pytest.raises(ce.NotConnected) as plain:
            conn.transmit(bytes.fromhex("0084000008")).result(5)
        assert str(plain.value).endswith("not connected to the card")
    finally:
        assert conn.close()
