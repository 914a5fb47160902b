"""The Analysis dock on the virtual passport (embedded reader, no pcscd): the MRZ typed in the
dock, BAC and secure messaging through the window's connection, the face image decoded and shown
once revealed, the plain answers in the trace under their protected exchanges, and a wrong check
digit refused before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from explorer.link.bridge import EventBridge
from explorer.trace.records import Kind
from explorer.ui.main_window import MainWindow
from explorer.virtual.card_sources import CardSource, SourceKind, load_card

pytestmark = pytest.mark.gui
PROFILE = Path(__file__).resolve().parent.parent / "resources" / "cards" / "emrtd.json"


@pytest.fixture
def window(aloop: qasync.QEventLoop, virtual_window: tuple[MainWindow, EventBridge],
           qtbot: QtBot) -> Iterator[MainWindow]:
    window, bridge = virtual_window
    reader = window.embedded.add_reader()
    loaded = load_card(CardSource(SourceKind.PROFILE, str(PROFILE)))
    with qtbot.waitSignal(bridge.card_inserted, timeout=5000):
        window.embedded.insert(reader, loaded.card, loaded.label)
    window.readers.select_card(reader)
    qtbot.waitUntil(lambda: window.readers.selected_reader() == reader, timeout=5000)
    window.docks["analysis"].raise_()
    window.analysis.choose_analyzers(["emrtd"])
    yield window
    window.analysis.shutdown()


def test_a_passport_is_read_with_the_mrz_typed_and_its_face_shown_once_revealed(
        window: MainWindow, qtbot: QtBot) -> None:
    panel = window.analysis
    panel.mrz.setFocus()
    qtbot.keyClicks(panel.mrz, "L898902C<, 690806, 940623")
    assert not panel.mrz.problem
    with qtbot.waitSignal(panel.finished, timeout=15_000):
        qtbot.keyClick(panel.mrz, Qt.Key.Key_Return)  # Enter in the field reads the passport
    analysis = panel.model.analysis
    assert analysis is not None and not analysis.results[0].error
    root = analysis.results[0].finding
    assert root.find("Data group hashes") is not None
    face = panel.model.index_of("Face image")
    assert face.isValid()
    panel.tree.setCurrentIndex(face)
    # Personal data: no picture until the user reveals.
    assert panel.bytes.picture.isHidden() and "tick Reveal" in panel.bytes.text.toPlainText()
    panel.reveal.setChecked(True)
    qtbot.waitUntil(lambda: not panel.bytes.picture.isHidden(), timeout=5000)
    pixmap = panel.bytes.picture.full()
    assert (pixmap.width(), pixmap.height()) == (90, 120)
    panel.reveal.setChecked(False)
    assert panel.bytes.picture.isHidden()
    # The trace: every protected command has its plain one under it, the MRZ read in DG1 included.
    records = window.store.records()
    plain = [r for r in records if r.kind is Kind.EXCHANGE and r.unwrapped]
    assert plain and all(r.parent is not None for r in plain)
    assert any(b"P<UTO" in r.response for r in plain)


def test_a_wrong_check_digit_is_named_and_nothing_is_sent(window: MainWindow, qtbot: QtBot) -> None:
    panel = window.analysis
    before = len(window.store)
    # ICAO 9303-4's specimen TD3 with the document number's check digit 6 changed to 7.
    panel.mrz.setText("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                      "L898902C37UTO7408122F1204159ZE184226B<<<<<10")
    assert panel.mrz.problem == "Document number: check digit is 7, should be 6"
    assert not panel.analyze()
    assert "MRZ" in panel.status.text() and len(window.store) == before
