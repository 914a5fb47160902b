"""The main window (offscreen) fed by the real monitor over pcscd + vpcd,
and the reader model on its own."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt
from pytestqt.qtbot import QtBot

from explorer.core.hexfmt import to_hex
from explorer.core.reader_events import (
    CardInserted,
    CardRemoved,
    ReaderAdded,
    ReaderRemoved,
    ReaderStateChanged,
    ServiceLost,
    ServiceRestored,
)
from explorer.core.reader_state import ReaderFlag
from explorer.pcsc.qt_monitor import MonitorBridge
from explorer.ui.main_window import MainWindow
from explorer.ui.reader_model import ATR_ROLE, READER_ROLE, ReaderTreeModel
from tests.conftest import CardFactory

ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")


def text(model: ReaderTreeModel, row: int, column: int, parent: QModelIndex | None = None) -> str:
    return str(model.data(model.index(row, column, parent or QModelIndex())))


# -- the model alone -------------------------------------------------------------


def test_model_follows_events(qapp: object) -> None:
    m = ReaderTreeModel()
    m.apply(ReaderAdded("R1", ReaderFlag.EMPTY, 0))
    m.apply(ReaderAdded("R2", ReaderFlag.EMPTY, 0))
    assert m.rowCount() == 2 and m.reader_names() == ["R1", "R2"]
    m.apply(CardInserted("R2", ATR, 0))
    r2 = m.index(1, 0)
    assert m.rowCount(r2) == 1 and m.rowCount(m.index(0, 0)) == 0
    card = m.index(0, 1, r2)
    assert card.data() == to_hex(ATR) and card.data(ATR_ROLE) == ATR
    assert card.data(READER_ROLE) == "R2" and m.parent(card) == r2
    assert text(m, 1, 1) == "card present"
    # a reader above the card leaves: the card's index still finds its reader
    m.apply(ReaderRemoved("R1", 0))
    assert m.index(0, 1, m.index(0, 0)).data() == to_hex(ATR)
    m.apply(ReaderStateChanged("R2", ReaderFlag.PRESENT | ReaderFlag.EXCLUSIVE, 0))
    assert text(m, 0, 1) == "card present, exclusive"
    m.apply(CardInserted("R2", b"", 0))
    assert m.index(0, 0, m.index(0, 0)).data() == "Mute card"
    m.apply(ServiceLost("gone", 0))
    assert text(m, 0, 1) == "state unknown: PC/SC service lost"
    m.apply(ServiceRestored(False, 0))
    m.apply(CardRemoved("R2", 0))
    assert m.rowCount(m.index(0, 0)) == 0 and m.card_count() == 0


def test_model_ignores_events_for_unknown_readers(qapp: object) -> None:
    m = ReaderTreeModel()
    for e in (CardInserted("X", ATR, 0), CardRemoved("X", 0), ReaderRemoved("X", 0),
              ReaderStateChanged("X", ReaderFlag.MUTE, 0)):
        m.apply(e)
    assert m.rowCount() == 0


# -- the window on the real stack -------------------------------------------------------


@pytest.mark.pcsc
def test_tree_shows_card_and_drops_it(
    qtbot: QtBot, bridge: MonitorBridge, live_window: MainWindow, readers: list[str],
    insert_card: CardFactory,
) -> None:
    window = live_window
    model = window.readers.model
    assert model.reader_names() == readers
    assert window.service_label.text() == "PC/SC service: running"
    assert window.count_label.text() == "4 readers, 0 cards"

    with qtbot.waitSignal(bridge.card_inserted, timeout=5000,
                          check_params_cb=lambda e: e.reader == readers[1]):
        link = insert_card(readers[1], ATR, wait=False)
    reader_index = model.reader_index(readers[1])
    assert model.rowCount(reader_index) == 1
    assert model.index(0, 1, reader_index).data() == to_hex(ATR)
    assert window.readers.view.isExpanded(reader_index)
    assert window.count_label.text() == "4 readers, 1 card"

    with qtbot.waitSignal(bridge.card_removed, timeout=5000,
                          check_params_cb=lambda e: e.reader == readers[1]):
        link.remove()
    assert model.rowCount(model.reader_index(readers[1])) == 0
    assert window.count_label.text() == "4 readers, 0 cards"
    window.close()


@pytest.mark.pcsc
def test_window_reports_service_lost_and_restored(
    qtbot: QtBot, bridge: MonitorBridge, settings: QSettings, readers: list[str], bed: object,
) -> None:
    from tests.testbed import PcscBed

    assert isinstance(bed, PcscBed)
    window = MainWindow(bridge, settings)
    qtbot.addWidget(window)
    with qtbot.waitSignal(bridge.reader_added, timeout=5000,
                          check_params_cb=lambda e: e.reader == readers[-1]):
        bridge.start()
    with qtbot.waitSignal(bridge.service_lost, timeout=5000):
        bed.kill()
    assert window.service_label.text().startswith("PC/SC service lost")
    assert text(window.readers.model, 0, 1) == "state unknown: PC/SC service lost"
    with qtbot.waitSignal(bridge.service_restored, timeout=10000):
        bed.start()
    assert window.service_label.text() == "PC/SC service: restored"
    assert text(window.readers.model, 0, 1) == "empty"


def test_layout_persists(qtbot: QtBot, settings: QSettings) -> None:
    first = MainWindow(MonitorBridge(), settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(780, 600)  # the offscreen screen is 800x600
    first.docks["trace"].hide()
    first.close()
    second = MainWindow(MonitorBridge(), settings)
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (780, 600)
    assert second.docks["trace"].isHidden()
    assert not second.docks["readers"].isHidden()


def test_the_journal_keeps_secrets_only_when_asked_and_from_the_next_start(qtbot: QtBot,
                                                                          settings: QSettings) -> None:
    from explorer.trace.journal import read_journal

    def journal_secrets(window: MainWindow) -> str:
        assert window.store.journal is not None
        return str(read_journal(window.store.journal.path).header["secrets"])

    first = MainWindow(MonitorBridge(), settings)
    qtbot.addWidget(first)
    assert not first.keep_secrets_action.isChecked() and journal_secrets(first) == "masked"
    first.keep_secrets_action.trigger()
    assert "from the next start on" in first.statusBar().currentMessage()
    assert journal_secrets(first) == "masked"  # a running session's journal keeps its choice
    first.close()
    second = MainWindow(MonitorBridge(), settings)
    qtbot.addWidget(second)
    assert second.keep_secrets_action.isChecked() and journal_secrets(second) == "revealed"
    second.close()


def test_window_has_every_panel(qtbot: QtBot, settings: QSettings) -> None:
    window = MainWindow(MonitorBridge(), settings)
    qtbot.addWidget(window)
    assert {d.windowTitle() for d in window.docks.values()} == {
        "Readers", "ATR", "APDU console", "Trace", "Script", "Analysis"}
    assert window.docks["readers"].widget().findChild(type(window.readers.view)) is not None
    assert window.readers.view.model().headerData(0, Qt.Orientation.Horizontal) == "Reader / card"
