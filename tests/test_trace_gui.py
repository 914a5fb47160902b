"""The trace panel: a million records with only the visible rows asked for,
grouping and folding, filters, detail with TLV, masking, copy, export, opening
a past journal, and the window's trace filling from a real card."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from explorer.core.exchange import Exchange, LinkEvent, LinkEventKind, Origin
from explorer.core.link_modes import Protocol, ShareMode
from explorer.core.reader_events import CardInserted
from explorer.core.tlv_tags import TAG_NAMES
from explorer.pcsc.qt_monitor import MonitorBridge
from explorer.trace.export import ExportFormat
from explorer.trace.filter import TraceFilter
from explorer.trace.journal import Journal, read_journal
from explorer.trace.records import Kind, TraceRecord
from explorer.trace.store import TraceStore
from explorer.ui.main_window import MainWindow
from explorer.ui.trace_model import Col, TraceTableModel
from explorer.ui.trace_panel import TracePanel
from tests.conftest import CardFactory, until
from tests.test_console_gui import FCI, t0_card

A, B = "Virtual PCD 00 00", "Virtual PCD 00 01"


def ex(reader: str, command: str, response: bytes | str, origin: Origin = Origin.CONSOLE,
       at: float = 1_700_000_000.0) -> Exchange:
    resp = bytes.fromhex(response) if isinstance(response, str) else response
    return Exchange(reader, bytes.fromhex(command), resp, at, 0.0003, origin, Protocol.T0, ShareMode.SHARED)


def filled_store() -> TraceStore:
    store = TraceStore()
    store.add_monitor_event(CardInserted(A, bytes.fromhex("3B021450"), 1_700_000_000.0))
    store.add_link_event(LinkEvent(A, LinkEventKind.CONNECTED, 1_700_000_000.1, Protocol.T0,
                                   ShareMode.SHARED))
    store.add_exchange(ex(A, "00A4040007A0000000041010", "611C", at=1_700_000_001.0))
    store.add_exchange(ex(A, "00C000001C", FCI + b"\x90\x00", Origin.GET_RESPONSE, at=1_700_000_001.001))
    store.add_exchange(ex(B, "00B0000010", "6A82", Origin.SCRIPT, at=1_700_000_002.0))
    store.add_exchange(ex(A, "0020008108 313233340000FFFF".replace(" ", ""), "63C2", at=1_700_000_003.0))
    return store


@pytest.fixture
def panel(qtbot: QtBot, settings: QSettings) -> TracePanel:
    p = TracePanel(filled_store(), settings, live=False)
    qtbot.addWidget(p)
    p.resize(1000, 600)
    p.show()
    return p


def column(p: TracePanel, col: int) -> list[str]:
    m = p.model
    return [m.index(r, col).data() for r in range(m.rowCount())]


def settled(qtbot: QtBot, p: TracePanel) -> TracePanel:
    """The panel once the filter asked for is applied (it is worked out on a thread)."""
    qtbot.waitUntil(lambda: not p.busy, timeout=10_000)
    return p


def test_rows_group_and_fold_automatic_steps(qtbot: QtBot, panel: TracePanel) -> None:
    assert column(panel, Col.SEQ) == ["1", "2", "3", "↳ 4", "5", "6"]
    assert column(panel, Col.COMMAND)[2:4] == ["SELECT", "  GET RESPONSE"]
    assert column(panel, Col.SW)[2:] == ["61 1C", "90 00", "6A 82", "63 C2"]
    panel.fold_box.setChecked(True)
    settled(qtbot, panel)
    assert column(panel, Col.SEQ) == ["1", "2", "3", "5", "6"]
    assert column(panel, Col.COMMAND)[2] == "SELECT  (+1 step)"


def test_filters_by_reader_origin_class_and_hex(qtbot: QtBot, panel: TracePanel) -> None:
    def shown() -> list[str]:
        return column(settled(qtbot, panel), Col.SEQ)

    panel.reader_box.setCurrentText(B)
    assert shown() == ["5"]
    panel.reader_box.setCurrentIndex(0)
    panel.origin_box.setCurrentText("get response")
    assert shown() == ["↳ 4"]
    panel.origin_box.setCurrentIndex(0)
    panel.class_box.setCurrentText("Failures")
    assert shown() == ["5"]
    panel.class_box.setCurrentText("Events")
    assert shown() == ["1", "2"]
    panel.class_box.setCurrentIndex(0)
    panel.search.setText("a0 00 00 00 04")  # in the SELECT's command and the FCI
    assert shown() == ["3", "↳ 4"]
    panel.search.setText("connected")
    assert shown() == ["2"]
    assert "1 shown of 6 records" in panel.status.text()


def test_secrets_masked_until_revealed(panel: TracePanel) -> None:
    verify = column(panel, Col.APDU)[5]
    assert "31 32 33 34" not in verify and "••" in verify
    panel.select_seq(6)
    assert "31 32 33 34" not in panel.detail.text.toPlainText()
    panel.reveal_action.setChecked(True)
    assert "31 32 33 34" in column(panel, Col.APDU)[5]
    assert "31 32 33 34" in panel.detail.text.toPlainText()


def test_detail_shows_the_fci_as_a_tlv_tree(panel: TracePanel) -> None:
    assert panel.select_seq(4)
    text = panel.detail.text.toPlainText()
    assert "GET RESPONSE" in text and "SW 90 00" in text and "6F 1A 84 07" in text
    tree = panel.detail.tlv
    assert not tree.isHidden()
    top = tree.topLevelItem(0)
    assert (top.text(0), top.text(1)) == ("6F", TAG_NAMES[0x6F])
    names = [top.child(i).text(0) for i in range(top.childCount())]
    assert names == ["84", "A5"]
    label = top.child(1).child(0)
    assert (label.text(0), label.text(3)) == ("50", '4D 61 73 74 65 72 43 61 72 64  "MasterCard"')
    assert panel.select_seq(5)
    assert tree.isHidden()  # 6A 82 has no data


def test_copy_clear_and_new_records(panel: TracePanel) -> None:
    panel.select_seq(5)
    panel.copy_rows()
    copied = QGuiApplication.clipboard().text().splitlines()
    assert len(copied) == 2 and "6A 82" in copied[1] and B in copied[1]
    store = panel.model.store
    panel.clear_button.click()
    assert panel.model.rowCount() == 0 and len(store) == 6
    store.add_exchange(ex(B, "00B0000010", "9000", Origin.SCRIPT))
    panel.poll()
    assert column(panel, Col.SEQ) == ["7"]


def test_export_of_the_view_is_private(qtbot: QtBot, panel: TracePanel, tmp_path: Path) -> None:
    target = tmp_path / "view.jsonl"
    panel.reader_box.setCurrentText(A)
    settled(qtbot, panel)
    with qtbot.waitSignal(panel.exported, timeout=5000) as sig:
        panel.export_view(str(target), ExportFormat.JSONL)
    assert sig.args == [str(target), ""]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert [r.reader for r in read_journal(target).records] == [A] * 5
    assert "Exported to" in panel.status.text()
    with qtbot.waitSignal(panel.exported, timeout=5000) as sig:
        panel.export_view(str(tmp_path / "missing" / "x.html"), ExportFormat.HTML)
    assert sig.args[1] and "Export failed" in panel.status.text()


class CountingModel(TraceTableModel):
    rows_asked: set[int]

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> object:
        self.rows_asked.add(index.row())
        return super().data(index, role)


def test_a_million_records_only_the_rows_on_screen_are_asked(qtbot: QtBot, settings: QSettings) -> None:
    base = ex(A, "00B0000010", bytes(16) + b"\x90\x00", Origin.SCRIPT)
    records = [TraceRecord(i, Kind.EXCHANGE, base.started + i * 1e-4, A, "script", 1e-4, "T=0", "shared",
                           base.command, base.response) for i in range(1, 1_000_001)]
    store = TraceStore(records=records)
    panel = TracePanel(TraceStore(), settings, live=False)
    qtbot.addWidget(panel)
    model = CountingModel(store, panel)  # owned by the panel: the view must not outlive its model
    model.rows_asked = set()
    panel.view.setModel(model)
    panel.resize(1000, 600)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: bool(model.rows_asked), timeout=5000)
    visible = panel.view.viewport().height() // panel.view.rowHeight(0) + 2
    assert model.rowCount() == 1_000_000
    assert max(model.rows_asked) <= visible and len(model.rows_asked) <= visible
    model.rows_asked.clear()
    panel.view.scrollToBottom()
    qtbot.waitUntil(lambda: bool(model.rows_asked), timeout=5000)
    assert min(model.rows_asked) >= 1_000_000 - visible - 1 and len(model.rows_asked) <= visible


def test_open_a_past_journal(qtbot: QtBot, settings: QSettings, tmp_path: Path) -> None:
    journal = Journal.new_session(tmp_path)
    source = TraceStore(journal)
    for e in (ex(A, "00A4040007A0000000041010", "611C"), ex(A, "00C000001C", "9000", Origin.GET_RESPONSE)):
        source.add_exchange(e)
    source.close()
    with journal.path.open("a") as f:
        f.write('{"seq": 3, "kind": "exch')  # killed while writing
    window = MainWindow(MonitorBridge(), settings, store=TraceStore())
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.trace_opener.finished, timeout=5000):
        window.open_trace(str(journal.path))
    [opened] = window.trace_windows
    assert opened.panel.model.rowCount() == 2
    assert "cut short" in opened.statusBar().currentMessage()
    with qtbot.waitSignal(window.trace_opener.finished, timeout=5000):
        window.open_trace(str(tmp_path / "nope.jsonl"))
    assert len(window.trace_windows) == 1 and "Cannot open" in window.statusBar().currentMessage()
    opened.close()
    assert window.trace_windows == []


@pytest.mark.pcsc
def test_window_trace_fills_from_the_console(qtbot: QtBot, live_window: MainWindow, aloop: qasync.QEventLoop,
                                             readers: list[str], insert_card: CardFactory) -> None:
    window = live_window
    insert_card(readers[0], handler=t0_card)
    console = window.console

    async def scenario() -> None:
        model = window.readers.model
        while model.rowCount(model.reader_index(readers[0])) == 0:
            await until(window.readers.model.rowsInserted, what="card in the tree")
        window.readers.view.setCurrentIndex(model.index(0, 0, model.reader_index(readers[0])))
        console.connect_button.click()
        await until(console.idle, what="connect")
        console.input.set_command("00 A4 04 00 07 A0 00 00 00 04 10 10")
        console.send_button.click()
        await until(console.idle, what="send")

    aloop.run_until_complete(scenario())
    window.trace.poll()
    rows = window.trace.model.records()
    origins = [r.origin for r in rows]
    assert "card inserted" in origins and "connected" in origins
    select = next(r for r in rows if r.origin == "console")
    step = next(r for r in rows if r.origin == "get response")
    assert step.parent == select.seq and step.response == FCI + b"\x90\x00"
    journal = window.store.journal
    assert journal is not None
    on_disk = read_journal(journal.path).records
    assert [r.seq for r in on_disk] == [r.seq for r in window.store.records()]
    window.close()


# -- columns, folding and search as the user sees them ----------------------------------------


@pytest.mark.parametrize("size", [(1200, 800), (1024, 700)])
def test_response_and_sw_show_in_the_docked_trace(qtbot: QtBot, settings: QSettings, tmp_path: Path,
                                                  size: tuple[int, int]) -> None:
    window = MainWindow(MonitorBridge(), settings, store=filled_store())
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    view = window.trace.view
    window.trace.poll()
    qtbot.waitUntil(lambda: view.model().rowCount() == 6, timeout=5000)
    header, width = view.horizontalHeader(), view.viewport().width()
    for col in (Col.COMMAND, Col.APDU, Col.RESPONSE, Col.SW):
        left = header.sectionViewportPosition(col)
        assert left >= 0 and left + header.sectionSize(col) <= width, (col.name, left, width)
    window.grab().save(str(tmp_path / f"main-{size[0]}x{size[1]}.png"))
    model = window.trace.model
    assert model.index(3, Col.RESPONSE).data().startswith("6F 1A 84 07 A0")
    assert model.index(3, Col.RESPONSE).data(Qt.ItemDataRole.ToolTipRole).startswith("28 bytes\n6F 1A 84 07")
    assert model.index(3, Col.SW).data() == "90 00"


def test_a_filter_overtaken_by_the_next_is_dropped(qtbot: QtBot) -> None:
    store = filled_store()
    model = TraceTableModel(store)  # no view: the model alone
    applied: list[int] = []
    model.filtered.connect(lambda: applied.append(model.rowCount()))
    model.set_filter(TraceFilter(text="SELECT"))
    assert model.busy and model.rowCount() == 6  # still the old rows while the new ones are worked out
    model.set_filter(TraceFilter(text="VERIFY"))
    qtbot.waitUntil(lambda: not model.busy, timeout=5000)
    assert applied == [1] and model.record(0).seq == 6
    store.add_exchange(ex(A, "0020008100", "63C3"))  # VERIFY asking for the tries left
    assert model.refresh() == 1 and model.rowCount() == 2
    model.set_filter(TraceFilter())
    assert not model.busy and model.rowCount() == 7 and applied == [1, 7]  # every record: nothing to work out


def test_columns_stay_as_the_user_sized_them(panel: TracePanel) -> None:
    header = panel.view.horizontalHeader()
    header.resizeSection(Col.RESPONSE, 333)  # as a drag does
    panel.resize(700, 500)
    assert header.sectionSize(Col.RESPONSE) == 333 and panel.columns.user_sized


def test_a_folded_command_shows_its_final_outcome(qtbot: QtBot, panel: TracePanel) -> None:
    panel.fold_box.setChecked(True)
    settled(qtbot, panel)
    select = 2
    assert column(panel, Col.SEQ)[select] == "3"
    assert column(panel, Col.SW)[select] == "90 00"  # not the 61 1C that started it
    assert column(panel, Col.RESPONSE)[select].startswith("6F 1A 84 07")
    assert column(panel, Col.MEANING)[select].startswith("Normal processing")
    panel.fold_box.setChecked(False)
    settled(qtbot, panel)
    assert column(panel, Col.SW)[select] == "61 1C"


def test_a_folded_command_takes_its_steps_as_they_come(qtbot: QtBot, settings: QSettings) -> None:
    store = TraceStore()
    p = TracePanel(store, settings, live=False)
    qtbot.addWidget(p)
    p.fold_box.setChecked(True)
    settled(qtbot, p)
    store.add_exchange(ex(A, "00A4040007A0000000041010", "611C"))
    p.poll()
    assert column(p, Col.SW) == ["61 1C"]
    store.add_exchange(ex(A, "00C000001C", FCI + b"\x90\x00", Origin.GET_RESPONSE))
    with qtbot.waitSignal(p.model.dataChanged, timeout=1000):
        p.poll()
    assert column(p, Col.SW) == ["90 00"] and column(p, Col.COMMAND) == ["SELECT  (+1 step)"]


def test_typed_search_finds_names_and_meanings(qtbot: QtBot, panel: TracePanel) -> None:
    panel.select_seq(6)
    for needle, shown in (("VERIFY", ["6"]), ("wrong PIN", ["6"]), ("select", ["3"]),
                          ("File or application not found", ["5"]), ("90 00", ["↳ 4"])):
        panel.search.clear()
        qtbot.keyClicks(panel.search, needle)
        assert panel.busy  # waiting for the typing to pause
        assert column(settled(qtbot, panel), Col.SEQ) == shown, needle
        if needle == "wrong PIN":  # the VERIFY selected before the search is still selected
            assert panel.view.currentIndex().row() == 0
    panel.search.clear()
    assert column(settled(qtbot, panel), Col.SEQ) == ["1", "2", "3", "↳ 4", "5", "6"]


# -- opening a trace that cannot be read -----------------------------------------------------


def test_an_unreadable_trace_ends_in_a_message(qtbot: QtBot, settings: QSettings, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    from PySide6.QtWidgets import QMessageBox

    from explorer.ui import trace_window

    window = MainWindow(MonitorBridge(), settings, store=TraceStore())
    qtbot.addWidget(window)
    not_trace = tmp_path / "notes.jsonl"
    not_trace.write_text('{"hello": 1}\n')

    def opened(path: Path) -> tuple[str, str]:
        with qtbot.waitSignal(window.trace_opener.finished, timeout=5000):
            window.open_trace(str(path))
        [box] = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
        text = box.text()
        box.close()
        qtbot.waitUntil(lambda: not box.isVisible(), timeout=1000)
        return window.statusBar().currentMessage(), text

    status, text = opened(not_trace)
    assert status.startswith(f"Cannot open {not_trace}: ") and "not a Card Explorer trace" in status
    assert "not a Card Explorer trace" in text

    def broken(path: Path, progress: object = None) -> object:
        raise RuntimeError("the reader tripped")

    monkeypatch.setattr(trace_window, "read_journal", broken)
    status, text = opened(not_trace)
    assert f"could not read {not_trace}: the reader tripped" in status and "the reader tripped" in text
    assert window.trace_windows == [] and window.trace_opener.openings == 0
    assert "Traceback" not in capfd.readouterr().err
