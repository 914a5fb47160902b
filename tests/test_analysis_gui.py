"""The Analysis dock on the embedded demo card (no pcscd), with analyzers of the test's own in the
registry: a run and its tree, a sensitive value masked then revealed, a finding's bytes
highlighted and its trace record selected, a command that changes the card sent only when
allowed (counted at the card), cancel and a card pulled mid-analysis, exports, and the dock kept
with the layout."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from explorer.apps import registry
from explorer.apps.findings import Finding, Source
from explorer.apps.session import AnalysisSession, NotAllowed
from explorer.core.exchange import Origin
from explorer.core.hexfmt import to_hex
from explorer.link.bridge import EventBridge
from explorer.ui.analysis_bytes import HIGHLIGHT
from explorer.ui.analysis_model import Col, FindingsModel
from explorer.ui.analysis_panel import AnalysisPanel
from explorer.ui.main_window import MainWindow
from explorer.ui.trace_model import RECORD_ROLE
from explorer.virtual.card import VirtualCard
from explorer.virtual.card_sources import CardSource, SourceKind, load_card

pytestmark = pytest.mark.gui
APP = bytes.fromhex("F0 43 41 52 44 45 58 50")
SELECT = bytes.fromhex("00 A4 04 00 08") + APP + b"\x00"
READ_RECORD = bytes.fromhex("00 B2 01 14 00")  # record 1 of SFI 2: 70 19 5F 20 10 <name> …
GPO = bytes.fromhex("80 A8 00 00 02 83 00 00")
HOLDER = "DEMO/CARD HOLDER"
CHALLENGE = bytes.fromhex("00 84 00 00 08")


class DemoApp:
    """Reads the demo application the way a real analyzer reads a card."""

    key, title = "demo", "Demo application"

    def likely(self, atr: bytes) -> bool:
        return True

    def analyze(self, session: AnalysisSession) -> Finding:
        fci = session.send(SELECT)  # 61xx then GET RESPONSE: two exchanges, one reply
        at = fci.data.find(APP)
        name = Finding("DF name", to_hex(APP), "the application's name (tag 84)",
                       Source(fci.index, at, at + len(APP)), APP)
        record = session.send(READ_RECORD)
        session.progress("record 1 read", 0.5)
        holder = Finding("Cardholder name", HOLDER, "tag 5F20 of record 1",
                         Source(record.index, 5, 5 + len(HOLDER)), record.data[5:5 + len(HOLDER)],
                         sensitive=True)
        try:
            session.send(GPO, changes_card=True)
            gpo = Finding("GET PROCESSING OPTIONS", "sent", "allowed for this run")
        except NotAllowed:
            gpo = Finding("GET PROCESSING OPTIONS", "not sent", "it would change the card: not allowed")
        return Finding(self.title, children=(Finding("FCI", children=(name,)),
                                             Finding("Record 1", children=(holder,)), gpo))


class Endless:
    """Asks for challenges until cancelled (or the card goes): a long scan."""

    key, title = "endless", "Endless scan"

    def likely(self, atr: bytes) -> bool:
        return False

    def analyze(self, session: AnalysisSession) -> Finding:
        total = 1_000_000
        for i in range(total):
            session.send(CHALLENGE)
            session.progress(f"challenge {i + 1:,}", (i + 1) / total)
        return Finding(self.title, "done")


@pytest.fixture
def fake_analyzers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "ANALYZERS", {"demo": lambda choices: DemoApp(),
                                                "endless": lambda choices: Endless()})


@pytest.fixture
def window(aloop: qasync.QEventLoop, virtual_window: tuple[MainWindow, EventBridge], qtbot: QtBot,
           fake_analyzers: None) -> Iterator[MainWindow]:
    """The window with an embedded reader holding the demo card (the test keeps the card, to count
    what reached it), the card selected and the Analysis dock up."""
    window, bridge = virtual_window
    reader = window.embedded.add_reader()
    loaded = load_card(CardSource(SourceKind.DEMO))
    with qtbot.waitSignal(bridge.card_inserted, timeout=5000):
        window.embedded.insert(reader, loaded.card, loaded.label)
    window.readers.select_card(reader)
    qtbot.waitUntil(lambda: window.readers.selected_reader() == reader, timeout=5000)
    window.docks["analysis"].raise_()
    window.card = loaded.card  # type: ignore[attr-defined]
    window.panel_reader = reader  # type: ignore[attr-defined]
    yield window
    window.analysis.shutdown()


def card_of(window: MainWindow) -> VirtualCard:
    card = window.card  # type: ignore[attr-defined]
    assert isinstance(card, VirtualCard)
    return card


def analyze(qtbot: QtBot, panel: AnalysisPanel, keys: list[str], timeout: int = 10_000) -> None:
    panel.choose_analyzers(keys)
    with qtbot.waitSignal(panel.finished, timeout=timeout):
        assert panel.analyze()


def rows(model: FindingsModel, parent: object = None) -> list[list[str]]:
    """Every row, depth first, as [indent + name, value, explanation]."""
    from PySide6.QtCore import QModelIndex

    out: list[list[str]] = []

    def walk(index: QModelIndex, depth: int) -> None:
        for row in range(model.rowCount(index)):
            child = model.index(row, 0, index)
            out.append(["  " * depth + child.data(), model.index(row, Col.VALUE, index).data(),
                        model.index(row, Col.EXPLANATION, index).data()])
            walk(child, depth + 1)

    walk(QModelIndex(), 0)
    return out


def tlv_value(panel: AnalysisPanel, child: int) -> str:
    top = panel.bytes.tlv.topLevelItem(0)
    assert top is not None and top.child(child) is not None
    return top.child(child).text(3)  # type: ignore[union-attr]


def highlighted(document: QTextDocument) -> str:
    """The text painted on the highlight colour as the user sees it: the hex column's, then the
    ASCII column's (the bytes may run over several lines)."""
    hexes: list[str] = []
    chars: list[str] = []
    block = document.begin()
    while block.isValid():
        ascii_from = block.text().rfind("  ") + 2  # offset, hex, ASCII: two spaces between
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().background().color().name() == HIGHLIGHT:
                column = hexes if fragment.position() - block.position() < ascii_from else chars
                column.append(fragment.text())
            it += 1
        block = block.next()
    return " ".join(" ".join(hexes).split()) + "".join(chars)


def test_analyze_shows_the_tree_and_a_sensitive_value_masked_then_revealed(
        window: MainWindow, qtbot: QtBot) -> None:
    panel = window.analysis
    assert panel.analyze_action.isEnabled() and not panel.cancel_action.isEnabled()
    assert not panel.export_button.isEnabled()
    window.docks["console"].raise_()
    panel.choose_analyzers(["demo"])
    with qtbot.waitSignal(panel.finished, timeout=10_000):
        panel.analyze_action.trigger()  # as from the Analysis menu: the dock comes up
    assert not window.docks["analysis"].visibleRegion().isEmpty()
    masked = "•" * 12 + "LDER"
    assert rows(panel.model) == [
        ["Demo application", "", ""],
        ["  FCI", "", ""],
        ["    DF name", to_hex(APP), "the application's name (tag 84)"],
        ["  Record 1", "", ""],
        ["    Cardholder name", masked, "tag 5F20 of record 1"],
        ["  GET PROCESSING OPTIONS", "not sent", "it would change the card: not allowed"],
    ]
    assert panel.tree.isExpanded(panel.model.index(0, 0))
    assert panel.status.text() == f"Analysed the card in {window.panel_reader}."  # type: ignore[attr-defined]
    assert panel.progress.text() == "5 findings"
    assert panel.progress.toolTip() == "5 findings by 1 analyzer, 2 commands"
    panel.reveal.setChecked(True)
    holder = panel.model.index_of("Cardholder name")
    assert holder.siblingAtColumn(Col.VALUE).data() == HOLDER
    panel.reveal.setChecked(False)
    assert holder.siblingAtColumn(Col.VALUE).data() == masked
    assert panel.export_button.isEnabled() and panel.analyze_action.isEnabled()


def test_selecting_a_finding_highlights_its_bytes_and_selects_its_trace_record(
        window: MainWindow, qtbot: QtBot) -> None:
    panel = window.analysis
    analyze(qtbot, panel, ["demo"])
    panel.tree.setCurrentIndex(panel.model.index_of("DF name"))
    document = panel.bytes.text.document()
    assert highlighted(document) == to_hex(APP) + ".CARDEXP"  # hex, then the ASCII column (F0: a dot)
    record = window.trace.view.currentIndex().data(RECORD_ROLE)
    assert record is not None and record.origin == Origin.ANALYZER.value
    assert record.command == SELECT and record.detail == "analyze demo"
    top = panel.bytes.tlv.topLevelItem(0)
    assert panel.bytes.tlv.isVisible() and top is not None and top.text(0) == "6F"
    assert not window.docks["analysis"].visibleRegion().isEmpty()  # the trace came up beside it
    # A sensitive finding: its bytes are dots, in the hex, the ASCII and the TLV tree, until revealed.
    panel.tree.setCurrentIndex(panel.model.index_of("Cardholder name"))
    record = window.trace.view.currentIndex().data(RECORD_ROLE)
    assert record.command == READ_RECORD and record.origin == "analyzer"
    lit = highlighted(panel.bytes.text.document())
    assert lit == " ".join(["••"] * len(HOLDER)) + "•" * len(HOLDER)
    assert "DEMO" not in panel.bytes.text.toPlainText()
    tlv_values = [tlv_value(panel, i) for i in range(2)]
    assert "DEMO" not in " ".join(tlv_values) and tlv_values[0].startswith("••")
    panel.reveal.setChecked(True)
    assert highlighted(panel.bytes.text.document()) == to_hex(HOLDER.encode()) + HOLDER
    assert HOLDER in tlv_value(panel, 0)
    # A group has no bytes of its own: said, nothing highlighted.
    panel.tree.setCurrentIndex(panel.model.index_of("Record 1"))
    assert highlighted(panel.bytes.text.document()) == ""
    assert "no bytes of its own" in panel.bytes.text.toPlainText()


def test_a_command_that_changes_the_card_is_sent_only_when_allowed_for_that_run(
        window: MainWindow, qtbot: QtBot) -> None:
    panel, card = window.analysis, card_of(window)
    assert not panel.allow_changes.isChecked()
    analyze(qtbot, panel, ["demo"])
    assert GPO not in card.received and READ_RECORD in card.received
    assert panel.model.index_of("GET PROCESSING OPTIONS").siblingAtColumn(Col.VALUE).data() == "not sent"
    panel.allow_changes.setChecked(True)
    analyze(qtbot, panel, ["demo"])
    assert card.received.count(GPO) == 1
    assert panel.model.index_of("GET PROCESSING OPTIONS").siblingAtColumn(Col.VALUE).data() == "sent"
    assert not panel.allow_changes.isChecked()  # off again after the run
    analyze(qtbot, panel, ["demo"])
    assert card.received.count(GPO) == 1


def test_cancel_mid_analysis_keeps_the_findings_and_the_connection(window: MainWindow, qtbot: QtBot) -> None:
    panel, card = window.analysis, card_of(window)
    panel.choose_analyzers(["demo", "endless"])
    assert panel.analyzers_button.text() == "Analyzers: all"
    assert panel.analyze()
    assert not panel.analyze()  # not twice
    qtbot.waitUntil(lambda: card.received.count(CHALLENGE) >= 200, timeout=10_000)
    qtbot.waitUntil(lambda: panel.progress.text().startswith("Endless scan (2 of 2): challenge"),
                    timeout=5000)
    assert panel.cancel_action.isEnabled() and not panel.analyze_action.isEnabled()
    with qtbot.waitSignal(panel.finished, timeout=10_000):
        panel.cancel_action.trigger()
    analysis = panel.model.analysis
    assert analysis is not None and analysis.cancelled
    assert [r.error for r in analysis.results] == ["", "cancelled"]
    assert panel.model.index_of("DF name").isValid()  # what the first analyzer found stays
    assert panel.status.text().startswith("Cancelled")
    sent = len(card.received)
    conn = window.manager.get(window.panel_reader)  # type: ignore[attr-defined]
    assert conn is not None and conn.state.connected
    assert conn.send(CHALLENGE).result(timeout=5).sw == 0x9000  # the connection is still usable
    assert len(card.received) == sent + 1
    analyze(qtbot, panel, ["demo"])
    assert not panel.model.analysis.cancelled  # type: ignore[union-attr]


def test_a_card_pulled_mid_analysis_ends_it_with_what_was_found(
        window: MainWindow, qtbot: QtBot, aloop: qasync.QEventLoop) -> None:
    panel, card = window.analysis, card_of(window)
    panel.choose_analyzers(["demo", "endless"])
    assert panel.analyze()
    qtbot.waitUntil(lambda: card.received.count(CHALLENGE) >= 100, timeout=10_000)
    with qtbot.waitSignal(panel.finished, timeout=10_000):
        window.embedded.eject(window.panel_reader)  # type: ignore[attr-defined]
    analysis = panel.model.analysis
    assert analysis is not None and not analysis.cancelled
    assert analysis.results[0].error == "" and "removed" in analysis.results[1].error
    assert panel.model.index_of("Cardholder name").isValid()
    assert "Endless scan stopped early" in panel.status.text() and "removed" in panel.status.text()
    stopped = panel.model.index(1, Col.EXPLANATION)
    assert stopped.data().startswith("stopped: ") and "removed" in stopped.data()
    assert not panel.analyze_action.isEnabled()  # no card in the selected reader now
    assert not panel.analyze()


def test_export_json_and_html_private_and_masked_unless_revealed(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    import json

    panel = window.analysis
    assert not panel.export_analysis("json", str(tmp_path / "none.json"))  # nothing analysed yet
    analyze(qtbot, panel, ["demo"])
    holder_hex = to_hex(HOLDER.encode())
    for kind, name in (("json", "a.json"), ("html", "a.html")):
        with qtbot.waitSignal(panel.exported, timeout=5000) as written:
            assert panel.export_analysis(kind, str(tmp_path / name))
        assert written.args == [str(tmp_path / name), ""]
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert HOLDER not in text and holder_hex not in text and "LDER" in text
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert data["secrets"] == "masked" and data["analyzers"][0]["key"] == "demo"
    assert "<script" not in (tmp_path / "a.html").read_text(encoding="utf-8")
    panel.reveal.setChecked(True)
    with qtbot.waitSignal(panel.exported, timeout=5000):
        assert panel.export_analysis("json", str(tmp_path / "shown.json"))
    assert HOLDER in (tmp_path / "shown.json").read_text(encoding="utf-8")
    # A place that cannot be written: said, not a traceback.
    with qtbot.waitSignal(panel.exported, timeout=5000) as failed:
        assert panel.export_analysis("html", str(tmp_path / "no" / "such" / "dir.html"))
    assert failed.args[1] and panel.status.text().startswith("Export failed")


def test_closing_the_window_mid_analysis_leaves_no_thread(window: MainWindow, qtbot: QtBot) -> None:
    panel, card = window.analysis, card_of(window)
    panel.choose_analyzers(["endless"])
    assert panel.analyze()
    qtbot.waitUntil(lambda: card.received.count(CHALLENGE) >= 50, timeout=10_000)
    job = panel.job
    assert job is not None
    window.close()  # the leak check after the test fails on a worker left running
    assert job.session.cancelled
    assert window.manager.readers() == []


def test_nothing_is_sent_without_a_card_or_an_analyzer(window: MainWindow, qtbot: QtBot) -> None:
    panel, card = window.analysis, card_of(window)
    panel.choose_analyzers([])
    assert panel.analyzers_button.text() == "Analyzers: 0 of 2"
    assert not panel.analyze() and "choose at least one analyzer" in panel.status.text()
    assert card.received == []
    panel.choose_analyzers(["demo"])
    assert panel.analyzers_button.text() == "Analyzers: 1 of 2"
    panel.analyzers_menu.aboutToShow.emit()
    menu = panel.analyzers_menu
    assert [a.text() for a in menu.actions()] == ["Demo application (demo)",
                                                                   "Endless scan (endless)"]
    assert [a.isChecked() for a in menu.actions()] == [True, False]


def test_the_analysis_dock_sits_beside_the_console_and_keeps_its_place(
        qtbot: QtBot, settings: QSettings, fake_analyzers: None) -> None:
    first = MainWindow(EventBridge(), settings)
    qtbot.addWidget(first)
    first.show()
    tabs = [first.docks["script"], first.docks["analysis"]]
    assert first.tabifiedDockWidgets(first.docks["console"]) == tabs
    assert first.docks["analysis"].visibleRegion().isEmpty()  # the console is in front by default
    (menu,) = [m for m in first.menuBar().findChildren(QMenu) if m.title() == "&Analysis"]
    assert [a.text() for a in menu.actions() if a.text()] == ["Analyze", "Cancel", "JSON…", "HTML report…"]
    assert not first.analysis.analyze_action.isEnabled()  # no card in the (no) selected reader
    assert not first.analysis.analyze() and first.analysis.status.text().startswith("Select a reader")
    first.docks["analysis"].raise_()
    first.analysis.reveal.setChecked(True)
    first.close()
    second = MainWindow(EventBridge(), settings)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert second.tabifiedDockWidgets(second.docks["console"]) == [second.docks["script"],
                                                                   second.docks["analysis"]]
    assert not second.docks["analysis"].visibleRegion().isEmpty()  # raised when the window closed
    assert not second.analysis.reveal.isChecked()  # never saved as revealed
    second.close()


def test_the_findings_model_without_widgets(qapp: object) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QSignalSpy

    from explorer.apps.analysis import Analysis, AnalyzerResult
    from explorer.core.exchange import Exchange, Reply
    from explorer.ui.analysis_model import STOPPED_COLOUR

    data = bytes.fromhex("5A 08 54 13 33 00 89 02 00 11")
    reply = Reply((Exchange("R", READ_RECORD, data + b"\x90\x00", 1.0, 0.0, Origin.ANALYZER),), data, 0x9000)
    pan = Finding("PAN", "5413330089020011", "the card number", Source(0, 2, 10), data[2:], sensitive=True)
    astray = Finding("Astray", "?", "points past the replies", Source(7, 0, 1))
    deep = Finding("level 40")
    for level in reversed(range(40)):
        deep = Finding(f"level {level}", children=(deep,))
    results = (AnalyzerResult("pay", "Payment", Finding("Payment", children=(pan, astray))),
               AnalyzerResult("deep", "Deep", deep),
               AnalyzerResult("gone", "Gone", Finding("Gone"), "card removed"))
    analysis = Analysis("R", b"\x3b\x00", results, (reply,))
    model = FindingsModel()
    model.set_analysis(analysis)
    assert [model.index(r, 0).data() for r in range(3)] == ["Payment", "level 0", "Gone"]
    index = model.index_of("PAN")
    assert index.parent() == model.index(0, 0)
    assert index.siblingAtColumn(Col.VALUE).data() == "••••••••••••0011"
    assert "masked" in index.siblingAtColumn(Col.VALUE).data(Qt.ItemDataRole.ToolTipRole)
    assert "response bytes 2-9" in index.siblingAtColumn(Col.EXPLANATION).data(Qt.ItemDataRole.ToolTipRole)
    assert model.reply_of(pan) is reply and model.reply_of(astray) is None
    assert model.hidden_spans(0) == [(2, 10)]
    assert model.index_of("level 40").isValid()
    gone = model.index(2, Col.EXPLANATION)
    assert gone.data() == "stopped: card removed"
    assert gone.data(Qt.ItemDataRole.ForegroundRole).name() == STOPPED_COLOUR
    changed = QSignalSpy(model.dataChanged)
    model.set_reveal(True)
    assert changed.count() > 0 and model.hidden_spans(0) == []
    assert index.siblingAtColumn(Col.VALUE).data() == "5413330089020011"
    model.set_analysis(None)
    assert model.rowCount() == 0 and model.index_of("PAN").isValid() is False
