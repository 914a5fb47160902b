"""The script panel's results model, its trace links and its variables field, without widgets:
rows keyed by command so several readers line up, a batch inserted at once, the trace record
of each result found by what the trace copied from its first exchange."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from explorer.core.exchange import Exchange, Origin, Reply
from explorer.script.model import Place
from explorer.script.runner import StepResult, Verdict
from explorer.trace.store import TraceStore
from explorer.ui.script_results import Col, ScriptResultsModel, TraceLinks
from explorer.ui.script_session import parse_variables


def result(line: int, verdict: Verdict = Verdict.PASSED, file: str = "t.apdu") -> StepResult:
    return StepResult(Place(file, line), "", f"CMD {line}", verdict, expected="sw 90 00" if line == 2 else "")


def lines(model: ScriptResultsModel) -> list[str]:
    c = model.column(Col.LINE)
    return [model.index(row, c).data() for row in range(model.rowCount())]


def verdicts(model: ScriptResultsModel, reader: int) -> list[str]:
    c = model.column(Col.VERDICT, reader)
    return [model.index(row, c).data() for row in range(model.rowCount())]


def test_readers_line_up_by_command_even_when_their_runs_differ(qtbot: QtBot) -> None:
    model = ScriptResultsModel()
    model.start("t.apdu", ["A", "B"])
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    # A's case failed at line 2 and skipped line 3; line 5 ran twice (a repeat).
    model.add(0, [result(1), result(2, Verdict.FAILED), result(5), result(5)])
    assert inserted == [(0, 3)]  # one insert for the batch
    model.add(1, [result(1), result(2), result(3), result(5)])
    assert lines(model) == ["1", "2", "3", "5", "5"]  # B's line 3 goes where B ran it
    assert verdicts(model, 0) == ["passed", "failed", "", "passed", "passed"]
    assert verdicts(model, 1) == ["passed", "passed", "passed", "passed", ""]
    model.add(1, [result(5)])  # B's second turn of line 5 fills the row A made
    assert verdicts(model, 1)[-1] == "passed" and model.rowCount() == 5
    assert model.index(1, model.column(Col.EXPECTED)).data() == "sw 90 00"  # as the script says it
    assert model.index(2, model.column(Col.EXPECTED)).data() == "(SW checks)"
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Line", "Command", "SW", "A", "B", "Expected", "ms", "Meaning"]
    tip = model.index(1, model.column(Col.VERDICT, 0)).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("A: failed")
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is not None  # a failed row is tinted
    assert model.rowCount(model.index(0, 0)) == 0 and not model.index(0, 0).parent().isValid()
    assert model.data(QModelIndex()) is None


def test_an_included_file_shows_its_name_and_a_one_reader_header_says_verdict(qtbot: QtBot) -> None:
    model = ScriptResultsModel()
    model.start("t.apdu", ["A"])
    model.add(0, [result(3, file="common.apdu"), result(4)])
    assert lines(model) == ["common.apdu:3", "4"]
    assert model.headerData(model.column(Col.VERDICT), Qt.Orientation.Horizontal) == "Verdict"


def test_a_result_finds_its_trace_record() -> None:
    store = TraceStore()
    reader = "Card Explorer Virtual Reader 0"
    command = bytes.fromhex("00A4040008F04341524445585000")
    before = Exchange(reader, command, b"\x90\x00", 100.0, 0.001, Origin.CONSOLE)
    first = Exchange(reader, command, b"\x61\x10", 100.5, 0.001, Origin.SCRIPT, note="t.apdu:2:1")
    step = Exchange(reader, bytes.fromhex("00C0000010"), b"\x90\x00", 100.6, 0.001, Origin.GET_RESPONSE)
    again = Exchange(reader, command, b"\x61\x10", 100.7, 0.001, Origin.SCRIPT, note="t.apdu:2:1")
    store.add_exchange(before)
    links = TraceLinks(store, len(store))
    for e in (first, step, again):
        store.add_exchange(e)
    at = Place("t.apdu", 2)
    done = StepResult(at, "", "00 A4", Verdict.PASSED, reply=Reply((first, step), b"", 0x9000))
    lost = StepResult(at, "", "00 A4", Verdict.ERROR, partial=(again,))
    refused = StepResult(at, "", "00 A4", Verdict.ERROR)
    assert links.seq_of(done) == 2  # the command's record, not its GET RESPONSE's (3), not the console's (1)
    assert links.seq_of(lost) == 4  # a card error still has the exchange it made
    assert links.seq_of(refused) is None  # refused before sending: nothing in the trace
    late = Exchange(reader, command, b"\x90\x00", 101.0, 0.001, Origin.SCRIPT)
    store.add_exchange(late)  # records that came after a first look are indexed at the next
    later = StepResult(Place("t.apdu", 3), "", "", Verdict.PASSED, reply=Reply((late,), b"", 0x9000))
    assert links.seq_of(later) == 5


@pytest.mark.parametrize(("text", "values"), [
    ("", {}),
    ("PIN=31323334FFFFFFFF", {"PIN": bytes.fromhex("31323334FFFFFFFF")}),
    ("PIN=31 32 33 34, AID = F0 43 ; X=00", {"PIN": b"1234", "AID": b"\xF0\x43", "X": b"\x00"}),
    ("PIN=31 32 AID=F043", {"PIN": b"12", "AID": b"\xF0\x43"}),
])
def test_variables_are_read_as_name_equals_hex(text: str, values: dict[str, bytes]) -> None:
    assert parse_variables(text) == values


@pytest.mark.parametrize(("text", "message"), [
    ("PIN", "column 1: NAME=HEX expected"),
    ("PIN=12, 9X=00", "column 9: NAME=HEX expected"),
    ("PIN=1G", "PIN (column 5):"),
])
def test_bad_variables_say_where(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_variables(text)


def test_a_cell_answers_every_role_in_one_call(qtbot: QtBot) -> None:
    """What a view paints comes through multiData (one call into Python per cell): the same as data()."""
    from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan
    from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

    model = ScriptResultsModel()
    model.start("t.apdu", ["A"])
    model.add(0, [result(7, Verdict.FAILED)])
    cell = model.index(0, model.column(Col.VERDICT))
    for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole):
        item = QModelRoleData(role)
        model.multiData(cell, QModelRoleDataSpan(item))
        assert item.data() == cell.data(role)
    option = QStyleOptionViewItem()
    QStyledItemDelegate().initStyleOption(option, cell)  # as a view asks before painting
    assert option.text == "failed"
    assert option.palette.text().color().name() == cell.data(Qt.ItemDataRole.ForegroundRole).name()
