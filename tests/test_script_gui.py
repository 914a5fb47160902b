"""The Script dock on the embedded virtual readers (no pcscd): a script typed and run, its gutter
marks and results, a result's trace record, stop, pause, step, run to cursor, several readers at
once, a run on every card inserted, a card pulled mid-script, and the window kept live while
thousands of results a second come in."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from explorer.core.exchange import Origin
from explorer.link.bridge import EventBridge
from explorer.trace.records import Kind
from explorer.ui.main_window import MainWindow
from explorer.ui.script_check import INLINE_LIMIT
from explorer.ui.script_editor import LineMark
from explorer.ui.script_panel import ScriptPanel
from explorer.ui.script_results import RESULT_ROLE, Col
from explorer.ui.script_session import Phase
from explorer.ui.trace_model import RECORD_ROLE
from explorer.virtual.card import VirtualCard
from explorer.virtual.card_sources import CardSource, SourceKind, load_card
from explorer.virtual.embedded import READER_PREFIX

pytestmark = pytest.mark.gui
FIRST = f"{READER_PREFIX} 0"
APP = "F0 43 41 52 44 45 58 50"
SCRIPT = f"""\
# select the demo application, then ask for a challenge
00 A4 04 00 08 {APP} 00
expect 90 00
expect tlv 6F/84 = {APP}
00 84 00 00 08
expect length 8
"""


@pytest.fixture
def window(aloop: qasync.QEventLoop, virtual_window: tuple[MainWindow, EventBridge],
           qtbot: QtBot) -> Iterator[MainWindow]:
    """The window on the embedded reader with the demo card, selected, the Script dock up. The
    asyncio loop is there for the console, which tidies its side of a connection the script opened
    when the card goes (a quiet disconnect, awaited)."""
    window, bridge = virtual_window
    with qtbot.waitSignal(bridge.card_inserted, timeout=5000):
        window.offer_virtual_reader()
    qtbot.waitUntil(lambda: window.readers.selected_reader() == FIRST, timeout=5000)
    window.docks["script"].raise_()
    yield window
    window.script.shutdown()


def finish(qtbot: QtBot, panel: ScriptPanel, timeout: int = 20_000) -> None:
    qtbot.waitUntil(lambda: not panel.session.running, timeout=timeout)


def console_follow_ups(loop: qasync.QEventLoop) -> None:
    """Let the console's own follow-up run out: a card it sees go on a connection the script opened
    gets a quiet disconnect, awaited on the asyncio loop."""
    loop.run_until_complete(asyncio.sleep(0.05))


def run_text(qtbot: QtBot, panel: ScriptPanel, text: str, timeout: int = 20_000) -> None:
    panel.pane.set_text(text)
    assert panel.run()
    finish(qtbot, panel, timeout)


def column(panel: ScriptPanel, col: Col, reader: int = 0) -> list[str]:
    model = panel.session.model
    c = model.column(col, reader)
    return [model.index(row, c).data() for row in range(model.rowCount())]


def script_records(window: MainWindow) -> list[Any]:
    return [r for r in window.store.records() if r.kind is Kind.EXCHANGE and r.origin == Origin.SCRIPT.value]


def test_a_typed_script_runs_with_marks_and_results(window: MainWindow, qtbot: QtBot) -> None:
    panel = window.script
    for line in SCRIPT.splitlines():
        qtbot.keyClicks(panel.pane.editor, line)
        qtbot.keyClick(panel.pane.editor, Qt.Key.Key_Return)
    assert panel.pane.text() == SCRIPT
    assert panel.run_action.isEnabled() and not panel.stop_action.isEnabled()
    assert panel.run()
    assert panel.pane.editor.isReadOnly()  # no edits while it runs
    assert not panel.run_action.isEnabled()
    finish(qtbot, panel)
    assert not panel.pane.editor.isReadOnly()
    assert [panel.pane.mark(line) for line in range(1, 7)] == [
        LineMark.NONE, LineMark.PASSED, LineMark.NONE, LineMark.NONE, LineMark.PASSED, LineMark.NONE]
    assert column(panel, Col.LINE) == ["2", "5"]
    assert column(panel, Col.COMMAND) == [f"00 A4 04 00 08 {APP} 00", "00 84 00 00 08"]
    assert column(panel, Col.SW) == ["90 00", "90 00"]
    assert column(panel, Col.VERDICT) == ["passed", "passed"]
    assert column(panel, Col.EXPECTED) == [f"sw 90 00; tlv 6F/84 = {APP}", "length 8"]
    assert column(panel, Col.MEANING)[0] == "Normal processing: command successful"
    assert float(column(panel, Col.MS)[1]) >= 0
    assert panel.progress.value() == panel.progress.maximum()
    assert panel.progress.text().startswith("2 / 2 commands")
    assert panel.status.text() == "2 passed, 0 failed, 0 errors — passed"
    assert panel.status.toolTip() == f"untitled.apdu on {FIRST}: 2 passed, 0 failed, 0 errors — passed"
    traced = script_records(window)
    assert [r.detail for r in traced] == ["untitled.apdu:2:1", "untitled.apdu:5:1"]


def test_a_bad_script_sends_nothing_and_says_where(window: MainWindow, qtbot: QtBot) -> None:
    panel = window.script
    before = len(window.store)
    panel.pane.set_text("00 A4 04 00 02 3F 00\n00 B0 ZZ\n")
    assert not panel.run()
    assert panel.status.text().startswith("untitled.apdu:2:7: error:")
    assert panel.status.text().endswith("Nothing was sent.")
    panel.pane.set_text("00 A4 04 00 08 ${AID}\n")
    panel.variables.setText("AID=F0 43 41 5G")
    assert not panel.run()
    assert panel.status.text().startswith("Variables: AID (column 5):")
    assert len(window.store) == before and not panel.session.running
    panel.variables.setText(f"AID={APP}")
    run_text(qtbot, panel, "00 A4 04 00 08 ${AID}\nexpect 61 xx | 90 00\n")
    assert column(panel, Col.VERDICT) == ["passed"]


def test_a_failing_expectation_is_marked_and_the_rest_of_its_case_skipped(window: MainWindow,
                                                                         qtbot: QtBot) -> None:
    panel = window.script
    run_text(qtbot, panel, f"""\
test "wrong"
  00 A4 04 00 08 {APP} 00
  expect 6A 82
  00 84 00 00 08
end
00 84 00 00 08
expect length 8
""")
    marks = [panel.pane.mark(line) for line in (2, 4, 6)]
    assert marks == [LineMark.FAILED, LineMark.SKIPPED, LineMark.PASSED]
    assert column(panel, Col.VERDICT) == ["failed", "passed"]
    model = panel.session.model
    tip = model.index(0, model.column(Col.VERDICT)).data(Qt.ItemDataRole.ToolTipRole)
    assert "expected SW 6A 82, got 90 00" in tip
    assert "1 failed" in panel.status.text() and "— failed" in panel.status.text()


def test_selecting_a_result_selects_its_trace_record(window: MainWindow, qtbot: QtBot) -> None:
    panel = window.script
    run_text(qtbot, panel, SCRIPT + "repeat 3\n  00 84 00 00 08\nend\n")
    model = panel.session.model
    assert model.rowCount() == 5
    for row in (0, 3):
        panel.view.selectRow(row)
        result = model.index(row, 0).data(RESULT_ROLE)
        record = window.trace.view.currentIndex().data(RECORD_ROLE)
        assert record is not None and record.origin == Origin.SCRIPT.value
        assert record.command == result.exchanges[0].command and record.time == result.exchanges[0].started
        assert record.detail == f"untitled.apdu:{result.place.line}:{result.place.column}"
    # Row 3 is the second turn of the repeat: its own record, not the first turn's.
    first_turn = model.index(2, 0).data(RESULT_ROLE)
    assert window.trace.view.currentIndex().data(RECORD_ROLE).time != first_turn.exchanges[0].started
    # Double-click: the editor's cursor goes to the command's line.
    panel.view.doubleClicked.emit(model.index(1, 0))
    assert panel.pane.current_line() == 5


def test_stop_a_long_script_mid_way(window: MainWindow, qtbot: QtBot) -> None:
    panel = window.script
    panel.pane.set_text("repeat 1000000\n  00 84 00 00 08\nend\n00 84 00 00 08\n")
    assert panel.run()
    qtbot.waitUntil(lambda: panel.session.model.rowCount() >= 200, timeout=10_000)
    assert panel.stop_action.isEnabled() and panel.pause_action.isEnabled()
    panel.stop_action.trigger()
    finish(qtbot, panel)
    rows = panel.session.model.rowCount()
    (run,) = panel.session.runs
    assert run.result.stopped and len(run.result.results) == rows < 1_000_000
    assert panel.progress.text() == f"{rows:,} of 1,000,001 commands run"  # said so once it ended
    assert panel.pane.mark(2) is LineMark.PASSED and panel.pane.mark(4) is LineMark.SKIPPED
    assert "stopped" in panel.status.text()
    sent = len(script_records(window))
    panel.session._tick()  # nothing more comes: the job is over
    assert panel.session.model.rowCount() == rows and len(script_records(window)) == sent == rows
    assert panel.run_action.isEnabled() and not panel.stop_action.isEnabled()


def test_pause_step_and_resume(window: MainWindow, qtbot: QtBot) -> None:
    panel, session = window.script, window.script.session
    panel.pane.set_text("00 84 00 00 08\nrepeat 3\n  00 84 00 00 08\nend\n00 84 00 00 08\n")
    panel.step_action.trigger()  # from idle: one command, then paused
    qtbot.waitUntil(lambda: session.waiting_at == 3 and session.model.rowCount() == 1, timeout=5000)
    assert panel.pause_action.text() == "Resume" and panel.step_action.isEnabled()
    assert panel.pane.mark(1) is LineMark.PASSED and panel.pane.mark(3) is LineMark.RUNNING
    qtbot.waitUntil(lambda: "Paused before line 3" in panel.status.text(), timeout=5000)
    panel.step_action.trigger()
    qtbot.waitUntil(lambda: session.model.rowCount() == 2 and session.waiting_at == 3, timeout=5000)
    assert column(panel, Col.LINE) == ["1", "3"]
    panel.pause_action.trigger()  # Resume
    assert panel.pause_action.text() == "Pause"
    finish(qtbot, panel)
    assert column(panel, Col.LINE) == ["1", "3", "3", "3", "5"]
    assert panel.pane.mark(3) is LineMark.PASSED and panel.pane.mark(5) is LineMark.PASSED


def test_pause_while_running_stops_the_results(window: MainWindow, qtbot: QtBot) -> None:
    panel, session = window.script, window.script.session
    panel.pane.set_text("repeat 1000000\n  00 84 00 00 08\nend\n")
    assert panel.run()
    qtbot.waitUntil(lambda: session.model.rowCount() >= 100, timeout=10_000)
    panel.pause_action.trigger()
    assert panel.pause_action.text() == "Resume"
    qtbot.waitUntil(lambda: session.waiting_at == 2, timeout=5000)
    session._tick()
    rows = session.model.rowCount()
    session._tick()  # the worker waits: nothing more comes
    assert session.model.rowCount() == rows and session.waiting_at == 2
    panel.step_action.trigger()
    qtbot.waitUntil(lambda: session.model.rowCount() == rows + 1, timeout=5000)
    panel.stop_action.trigger()
    finish(qtbot, panel)
    assert session.model.rowCount() == rows + 1


def test_run_to_cursor(window: MainWindow, qtbot: QtBot) -> None:
    panel, session = window.script, window.script.session
    panel.pane.set_text("00 84 00 00 08\n00 84 00 00 08\n# here\n00 84 00 00 08\n00 84 00 00 08\n")
    cursor = panel.pane.editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.Start)
    cursor.movePosition(QTextCursor.MoveOperation.Down, n=2)  # the comment line: the next command is line 4
    panel.pane.editor.setTextCursor(cursor)
    panel.run_to_action.trigger()
    qtbot.waitUntil(lambda: session.waiting_at == 4 and session.model.rowCount() == 2, timeout=5000)
    assert column(panel, Col.LINE) == ["1", "2"]
    assert panel.pane.mark(4) is LineMark.RUNNING and panel.pause_action.text() == "Resume"
    cursor.movePosition(QTextCursor.MoveOperation.Down, n=2)  # line 5: runs line 4, waits before 5
    panel.pane.editor.setTextCursor(cursor)
    panel.run_to_action.trigger()
    qtbot.waitUntil(lambda: session.waiting_at == 5 and session.model.rowCount() == 3, timeout=5000)
    assert column(panel, Col.LINE) == ["1", "2", "4"]
    panel.pause_action.trigger()
    finish(qtbot, panel)
    assert column(panel, Col.LINE) == ["1", "2", "4", "5"]


def _add_demo_reader(window: MainWindow, qtbot: QtBot) -> str:
    with qtbot.waitSignal(window._monitor.card_inserted, timeout=5000):
        reader = window.embedded.add_reader()
        loaded = load_card(CardSource(SourceKind.DEMO))
        window.embedded.insert(reader, loaded.card, loaded.label)
    return reader


def test_several_readers_at_once_one_verdict_column_each(window: MainWindow, qtbot: QtBot) -> None:
    panel = window.script
    readers = [FIRST, _add_demo_reader(window, qtbot), _add_demo_reader(window, qtbot)]
    panel.choose_readers(readers)
    assert panel.targets() == readers and panel.readers_button.text() == "3 readers"
    run_text(qtbot, panel, SCRIPT + "repeat 20\n  00 84 00 00 08\nend\n")
    model = panel.session.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Line", "Command", "SW", *readers, "Expected", "ms", "Meaning"]
    assert model.rowCount() == 22  # rows keyed by command, not one per reader
    for i in range(3):
        assert column(panel, Col.VERDICT, i) == ["passed"] * 22
    assert sorted(run.reader for run in panel.session.runs) == sorted(readers)
    traced = script_records(window)
    assert {r.reader for r in traced} == set(readers) and len(traced) == 3 * 22
    assert panel.progress.text().startswith("66 / 66 commands")
    assert panel.status.text() == "3 readers: 66 passed, 0 failed, 0 errors — passed on every one"
    # A reader taken out of the chooser's list (its card gone) is no target any more.
    with qtbot.waitSignal(window._monitor.card_removed, timeout=5000):
        window.embedded.eject(readers[2])
    assert panel.targets() == readers[:2]


def test_run_on_every_card_inserted(window: MainWindow, qtbot: QtBot,
                                    aloop: qasync.QEventLoop) -> None:
    panel, session = window.script, window.script.session
    bridge = window._monitor
    panel.pane.set_text("00 84 00 00 08\nexpect length 8\n")
    panel.each_card_action.setChecked(True)
    assert not panel.step_action.isEnabled()
    with qtbot.waitSignal(bridge.card_removed, timeout=5000):
        window.embedded.eject(FIRST)
    assert panel.run()  # the selected reader, empty: it waits for a card
    assert session.phase is Phase.WAITING_CARD and panel.stop_action.isEnabled()
    atrs = [bytes.fromhex(f"3B 02 14 {n:02X}") for n in (1, 2, 3)]
    for n, atr in enumerate(atrs, 1):
        window.embedded.insert(FIRST, VirtualCard(atr), f"card {n}")
        qtbot.waitUntil(lambda n=n: panel.cards_view.topLevelItemCount() == n, timeout=5000)
        assert session.phase is Phase.WAITING_REMOVAL
        with qtbot.waitSignal(bridge.card_removed, timeout=5000):
            window.embedded.eject(FIRST)
        assert session.phase is Phase.WAITING_CARD
    rows = [[panel.cards_view.topLevelItem(i).text(c) for c in range(3)] for i in range(3)]
    assert rows == [[str(n), atr.hex(" ").upper(), "passed"] for n, atr in enumerate(atrs, 1)]
    assert [(run.card, run.atr) for run in session.runs] == list(enumerate(atrs, 1))
    panel.stop_action.trigger()
    assert session.phase is Phase.IDLE and panel.run_action.isEnabled()
    console_follow_ups(aloop)


def test_a_card_pulled_mid_script_ends_the_run_with_an_error(window: MainWindow, qtbot: QtBot,
                                                             aloop: qasync.QEventLoop) -> None:
    panel, session = window.script, window.script.session
    panel.pane.set_text("repeat 1000000\n  00 84 00 00 08\nend\n")
    assert panel.run()
    qtbot.waitUntil(lambda: session.model.rowCount() >= 100, timeout=10_000)
    window.embedded.eject(FIRST)
    finish(qtbot, panel)
    verdicts = column(panel, Col.VERDICT)
    assert verdicts[-1] == "error" and set(verdicts[:-1]) == {"passed"} and len(verdicts) >= 100
    assert "removed" in session.model.row(len(verdicts) - 1).first.failures[0]
    assert panel.pane.mark(2) is LineMark.ERROR and "error" in panel.status.text()
    assert panel.run_action.isEnabled() and not panel.pane.editor.isReadOnly()
    console_follow_ups(aloop)


def test_a_reader_removed_mid_script_or_while_paused(window: MainWindow, qtbot: QtBot,
                                                     aloop: qasync.QEventLoop) -> None:
    panel, session = window.script, window.script.session
    second = _add_demo_reader(window, qtbot)
    panel.choose_readers([second])
    panel.pane.set_text("repeat 1000000\n  00 84 00 00 08\nend\n")
    assert panel.run()
    qtbot.waitUntil(lambda: session.model.rowCount() >= 100, timeout=10_000)
    window.embedded.remove_reader(second)
    finish(qtbot, panel)
    assert column(panel, Col.VERDICT)[-1] == "error"
    # Paused, then the card goes: nothing would ever wake the job, so the run ends there.
    panel.choose_readers([])
    panel.step_action.trigger()
    qtbot.waitUntil(lambda: session.waiting_at == 2, timeout=5000)
    window.embedded.eject(FIRST)
    finish(qtbot, panel)
    assert session.runs[-1].result.stopped and panel.run_action.isEnabled()
    console_follow_ups(aloop)


def test_a_large_script_is_read_off_the_gui_thread_then_runs_5000_commands(
        window: MainWindow, qtbot: QtBot) -> None:
    """Over 32 KiB the script is read on a background thread before its run. How live the window
    stays meanwhile is bench/script.py's to measure (the longest event-loop gap, on a real reader)."""
    panel = window.script
    panel.pane.set_text("00 84 00 00 08\nexpect length 8\n" * 5000)
    assert len(panel.pane.text()) > INLINE_LIMIT
    assert panel.run()
    assert not panel.session.running and not panel.run_action.isEnabled()  # being read
    assert not panel.run()  # not twice
    qtbot.waitUntil(lambda: panel.session.running, timeout=20_000)
    finish(qtbot, panel, timeout=60_000)
    assert panel.session.model.rowCount() == 5000
    assert column(panel, Col.VERDICT).count("passed") == 5000
    assert panel.pane.mark(9999) is LineMark.PASSED and not panel.pane.editor.isReadOnly()


def test_an_error_in_a_large_script_is_shown_after_reading_and_nothing_is_sent(
        window: MainWindow, qtbot: QtBot) -> None:
    panel = window.script
    panel.pane.set_text("00 84 00 00 08\n" * 4000 + "00 84 0G 00 08\n")
    assert panel.run()
    qtbot.waitUntil(lambda: "Nothing was sent" in panel.status.text(), timeout=20_000)
    assert "untitled.apdu:4001:" in panel.status.text() and panel.run_action.isEnabled()
    assert not script_records(window)


def test_export_results_as_junit_html_and_json_lines_off_the_gui_thread(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    from junitparser import JUnitXml

    panel = window.script
    assert not panel.export_results("junit", str(tmp_path / "none.xml"))  # nothing run yet
    run_text(qtbot, panel, SCRIPT)
    assert panel.export_button.isEnabled()
    path = tmp_path / "results.xml"
    with qtbot.waitSignal(panel.exported, timeout=5000) as written:
        assert panel.export_results("junit", str(path))
    assert written.args == [str(path), ""]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    (suite,) = list(JUnitXml.fromfile(str(path)))
    assert (suite.tests, suite.failures, suite.errors) == (2, 0, 0)
    assert suite.name == f"untitled.apdu on {FIRST}"
    for kind, name in (("html", "r.html"), ("jsonl", "r.jsonl")):
        with qtbot.waitSignal(panel.exported, timeout=5000) as written:
            assert panel.export_results(kind, str(tmp_path / name))
        assert written.args == [str(tmp_path / name), ""]
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    assert "<script" not in (tmp_path / "r.html").read_text() and FIRST in (tmp_path / "r.html").read_text()
    from explorer.script.results_jsonl import read_results_file

    assert [o["kind"] for o in read_results_file(tmp_path / "r.jsonl")] == ["result", "result", "run"]


def test_the_script_dock_sits_beside_the_console_and_keeps_its_place(
        qtbot: QtBot, settings: QSettings) -> None:
    first = MainWindow(EventBridge(), settings)
    qtbot.addWidget(first)
    first.show()
    tabs = [first.docks["script"], first.docks["analysis"]]
    assert first.tabifiedDockWidgets(first.docks["console"]) == tabs
    assert [a.text() for a in first.script.menu_actions() if a is not None][:5] == [
        "Run", "Stop", "Pause", "Step", "Run to cursor"]
    first.docks["script"].raise_()
    first.close()
    second = MainWindow(EventBridge(), settings)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert second.tabifiedDockWidgets(second.docks["console"]) == [second.docks["script"],
                                                                   second.docks["analysis"]]
    assert not second.docks["script"].visibleRegion().isEmpty()  # raised when the window closed
    assert second.docks["console"].visibleRegion().isEmpty()
    second.close()


def test_every_card_ends_when_its_reader_goes_and_closing_mid_run_leaves_no_thread(
        window: MainWindow, qtbot: QtBot) -> None:
    panel, session = window.script, window.script.session
    second = _add_demo_reader(window, qtbot)
    panel.choose_readers([second])
    panel.each_card_action.setChecked(True)
    panel.pane.set_text("repeat 1000000\n  00 84 00 00 08\nend\n")
    assert panel.run()
    qtbot.waitUntil(lambda: session.model.rowCount() >= 50, timeout=10_000)
    window.embedded.remove_reader(second)
    finish(qtbot, panel)
    assert session.phase is Phase.IDLE and panel.run_action.isEnabled()
    # A run paused on one reader and running on another when the window closes: both workers end
    # (the leak check after the test fails on a thread left waiting).
    panel.each_card_action.setChecked(False)
    third = _add_demo_reader(window, qtbot)
    panel.choose_readers([FIRST, third])
    assert panel.run()
    qtbot.waitUntil(lambda: session.model.rowCount() >= 50, timeout=10_000)
    session.jobs[0].control.pause()
    qtbot.waitUntil(lambda: session.jobs[0].control.waiting is not None, timeout=5000)
    window.close()


def test_what_exists_when_a_run_starts_is_out_of_the_collectors_sight_until_it_ends(
        window: MainWindow, qtbot: QtBot) -> None:
    """A full collection in a run would walk the whole trace and the script with the GIL held
    (30-80 ms of frozen window at 5,000 commands): they are frozen for the run, and given back."""
    import gc

    panel = window.script
    before = gc.get_freeze_count()
    panel.pane.set_text(SCRIPT)
    assert panel.run(step=True)  # paused before its first command: the run is on
    qtbot.waitUntil(lambda: panel.session.waiting_at is not None, timeout=5000)
    assert gc.get_freeze_count() > before and gc.isenabled()
    panel.stop()
    finish(qtbot, panel)
    assert gc.get_freeze_count() == 0


def test_variables_given_in_the_panel_count_as_set_for_the_live_check(
        window: MainWindow, qtbot: QtBot) -> None:
    panel = window.script
    with qtbot.waitSignal(panel.pane.checked, timeout=5000):
        panel.pane.set_text("00 20 00 81 08 ${PIN}\n")
    check = panel.pane.last_check
    assert check is not None and any("${PIN} is not set" in str(d) for d in check.diagnostics)
    with qtbot.waitSignal(panel.pane.checked, timeout=5000):
        panel.variables.setText("PIN=31323334FFFFFFFF")
    check = panel.pane.last_check
    assert check is not None and not check.diagnostics


def test_a_reader_chosen_twice_runs_once(window: MainWindow, qtbot: QtBot) -> None:
    panel = window.script
    panel.choose_readers([FIRST, FIRST])
    assert panel.targets() == [FIRST]
