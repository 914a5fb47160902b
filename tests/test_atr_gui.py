"""The ATR panel: alone (typed ATRs, byte <-> field, copy, bad input, the
list), under 10,000 random inputs, and in the window with a card inserted
through pcscd + vpcd."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from explorer.core.atr_fields import field_path
from explorer.core.atrdb import AtrDatabase, load_database
from explorer.core.hexfmt import to_hex
from explorer.pcsc.qt_monitor import MonitorBridge
from explorer.ui.atr_model import PATH_ROLE, SPAN_ROLE
from explorer.ui.atr_panel import AtrPanel
from explorer.ui.main_window import MainWindow
from tests.conftest import CardFactory

MIFARE_1K = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
JAVA_CARD = "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C"


@pytest.fixture
def panel(qtbot: QtBot, settings: QSettings) -> Iterator[AtrPanel]:
    p = AtrPanel(settings)
    qtbot.addWidget(p)
    p.resize(800, 700)
    with qtbot.waitSignal(p.database_ready, timeout=5000):
        p.show()
    yield p


def type_text(qtbot: QtBot, panel: AtrPanel, text: str) -> None:
    panel.edit.clear()
    qtbot.keyClicks(panel.edit, text)


def selected_name(panel: AtrPanel) -> str:
    f = panel.selected_field()
    assert f is not None
    return f.name


def test_typed_atr_is_decoded_and_identified(qtbot: QtBot, panel: AtrPanel) -> None:
    type_text(qtbot, panel, "ATR: 3b:8f:80:01:80:4f:0c:a0:00:00:03:06:03:00:01:00:00:00:00:6a")
    assert panel.atr is not None and panel.atr.raw == MIFARE_1K
    assert panel.source_label.text() == "Typed ATR"
    assert not panel.error_label.isVisible()
    assert "MIFARE Classic 1K" in panel.summary_label.text()
    assert [c.label for c in panel.bytes_view.cells][:4] == ["TS", "T0", "TD1", "TD2"]
    assert panel.bytes_view.cells[-1].label == "TCK"
    assert any(m.exact for m in panel.matches)
    assert "exact ATR" in panel.info.toPlainText()


def test_bad_input_is_explained_and_nothing_decoded(qtbot: QtBot, panel: AtrPanel) -> None:
    type_text(qtbot, panel, JAVA_CARD)
    assert panel.atr is not None
    type_text(qtbot, panel, "3B 8G")
    assert panel.error_label.isVisible()
    assert "'G' at column 5 is not a hex digit" in panel.error_label.text()
    assert panel.atr is None and panel.model.rowCount() == 0 and panel.bytes_view.cells == []
    assert not panel.copy_text_action.isEnabled() and not panel.copy_json_action.isEnabled()
    type_text(qtbot, panel, "ATR: 3B 8")
    assert "column 9" in panel.error_label.text()  # counted in what the tester sees
    panel.edit.clear()
    qtbot.keyClicks(panel.edit, " ")
    assert not panel.error_label.isVisible() and panel.atr is None


def test_selecting_a_field_highlights_its_bytes(qtbot: QtBot, panel: AtrPanel) -> None:
    type_text(qtbot, panel, JAVA_CARD)
    model = panel.model
    hb = model.index(len(panel.atr.fields) - 2, 0)  # type: ignore[union-attr]
    assert hb.data() == "Historical bytes"
    caps = next(model.index(r, 0, hb) for r in range(model.rowCount(hb))
                if model.index(r, 0, hb).data() == "Tag 7: card capabilities")
    panel.tree.setCurrentIndex(caps)
    assert panel.bytes_view.selected_span == caps.data(SPAN_ROLE) == (13, 17)
    assert "card capabilities" in panel.detail_label.text()
    panel.tree.setCurrentIndex(model.index(2, 0))  # TA1
    assert panel.bytes_view.selected_span == (2, 3)


def test_clicking_a_byte_selects_its_field(qtbot: QtBot, panel: AtrPanel) -> None:
    type_text(qtbot, panel, JAVA_CARD)
    view = panel.bytes_view
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.byte_rect(2).center())
    assert selected_name(panel) == "TA1" and view.selected_span == (2, 3)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.byte_rect(16).center())
    assert selected_name(panel) == "Command chaining, lengths, logical channels"
    assert panel.tree.currentIndex().data(PATH_ROLE) == field_path(panel.atr.fields, 16)  # type: ignore[union-attr]
    # The arrow keys walk the bytes.
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert selected_name(panel) == "Life cycle status"


def test_hovering_a_byte_marks_its_field_and_back(qtbot: QtBot, panel: AtrPanel) -> None:
    type_text(qtbot, panel, JAVA_CARD)
    view = panel.bytes_view
    qtbot.mouseMove(view, view.byte_rect(18).center())
    qtbot.waitUntil(lambda: view.hover_span == (18, 20), timeout=2000)
    sw = panel.model.index_for_path(field_path(panel.atr.fields, 18))  # type: ignore[union-attr]
    assert sw.data() == "Status word"
    assert sw.data(Qt.ItemDataRole.BackgroundRole) is not None
    # A row under the mouse in the tree lights its bytes.
    panel._field_hovered(panel.model.index(2, 0))
    assert view.hover_span == (2, 3)


def test_copy_text_and_json(qtbot: QtBot, panel: AtrPanel) -> None:
    type_text(qtbot, panel, to_hex(MIFARE_1K))
    panel.copy_json_action.trigger()
    data = json.loads(QGuiApplication.clipboard().text())
    assert data["hb_category"] == "80" and data["tck_ok"] is True
    assert data["db_matches"][0]["descriptions"]
    panel.copy_text_action.trigger()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("ATR: 3B 8F") and "MIFARE Classic 1K" in text and "Identification" in text


def test_findings_point_at_their_bytes(qtbot: QtBot, panel: AtrPanel) -> None:
    type_text(qtbot, panel, to_hex(MIFARE_1K[:-1] + b"\x6b"))
    assert "TCK is 6B, should be 6A" in panel.info.toPlainText()
    panel._link_clicked(QUrl("bytes:19:20"))
    assert panel.bytes_view.selected_span == (19, 20)
    assert panel.bytes_view.cells[19].error


def test_user_list_wins(qtbot: QtBot, panel: AtrPanel, tmp_path: Path) -> None:
    custom = tmp_path / "list.txt"
    custom.write_text("3B 8F 80 01 80 4F 0C A0 00 00 03 06 .. 00 01 00 00 00 00 ..\n\tOur lab's badge\n")
    type_text(qtbot, panel, to_hex(MIFARE_1K))
    with qtbot.waitSignal(panel.database_ready, timeout=5000):
        panel.set_database_path(str(custom))
    assert [m.exact for m in panel.matches] == [False]
    assert "Our lab's badge" in panel.info.toPlainText()
    with qtbot.waitSignal(panel.database_ready, timeout=5000):
        panel.set_database_path(str(tmp_path / "missing.txt"))
    assert any(m.exact for m in panel.matches)  # fell through to the system or bundled list


def test_no_list_anywhere_is_said(qtbot: QtBot, settings: QSettings) -> None:
    p = AtrPanel(settings, read_database=lambda path: None)
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.database_ready, timeout=5000):
        p.show()
    assert "No smartcard_list.txt found" in p.info.toPlainText()


def test_list_is_read_once_painted_or_when_an_atr_needs_it(qtbot: QtBot, settings: QSettings) -> None:
    """Never before the window's first frame: not at construction, and not while hidden."""
    reads: list[str | None] = []
    hidden = AtrPanel(settings, read_database=lambda path: reads.append(path))
    qtbot.addWidget(hidden)
    qtbot.wait(100)
    assert reads == []
    assert "Reading the ATR list" in hidden.info.toPlainText()
    with qtbot.waitSignal(hidden.database_ready, timeout=5000):
        hidden.show_atr(MIFARE_1K, "Typed ATR")
    assert reads == [None]

    shown = AtrPanel(settings, read_database=lambda path: reads.append(path))
    qtbot.addWidget(shown)
    with qtbot.waitSignal(shown.database_ready, timeout=5000):
        shown.show()
    assert reads == [None, None]


# -- never raises ----------------------------------------------------------------------

_DB: list[AtrDatabase | None] = []


def _shared_panel(qtbot: QtBot, settings: QSettings) -> AtrPanel:
    if not _DB:
        _DB.append(load_database())
    p = AtrPanel(settings, read_database=lambda path: _DB[0])
    qtbot.addWidget(p)
    p.resize(600, 500)
    with qtbot.waitSignal(p.database_ready, timeout=5000):
        p.show()
    return p


@pytest.fixture
def shared_panel(qtbot: QtBot, settings: QSettings) -> AtrPanel:
    return _shared_panel(qtbot, settings)


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=0, max_size=40))
def test_panel_never_raises_on_random_bytes(shared_panel: AtrPanel, raw: bytes) -> None:
    p = shared_panel
    p.show_atr(raw, "random")
    assert p.atr is not None and len(p.bytes_view.cells) == len(raw)
    for i in range(len(raw)):
        p.select_byte(i)
        p._byte_hovered(i)
    p._byte_hovered(-1)
    assert p.report_json() and p.report_text()


@settings(max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_panel_never_raises_on_random_text(shared_panel: AtrPanel, text: str) -> None:
    shared_panel._typed(text)
    assert (shared_panel.atr is None) or shared_panel.error_label.isHidden()


# -- in the window, with a card ------------------------------------------------------------


@pytest.mark.pcsc
def test_inserted_card_shows_its_decode(
    qtbot: QtBot, bridge: MonitorBridge, live_window: MainWindow, readers: list[str],
    insert_card: CardFactory,
) -> None:
    window = live_window
    panel = window.atr
    if panel._db_loading:
        qtbot.waitSignal(panel.database_ready, timeout=5000).wait()
    with qtbot.waitSignal(bridge.card_inserted, timeout=5000,
                          check_params_cb=lambda e: e.reader == readers[0]):
        link = insert_card(readers[0], MIFARE_1K, wait=False)
    model = window.readers.model
    with qtbot.waitSignal(panel.decoded, timeout=2000):
        window.readers.view.setCurrentIndex(model.index(0, 0, model.reader_index(readers[0])))
    assert panel.atr is not None and panel.atr.raw == MIFARE_1K
    assert panel.source_label.text() == f"Card in {readers[0]}"
    assert panel.edit.text() == to_hex(MIFARE_1K)
    assert "MIFARE Classic 1K" in panel.info.toPlainText()

    # Field -> bytes.
    hb = next(panel.model.index(r, 0) for r in range(panel.model.rowCount())
              if panel.model.index(r, 0).data() == "Historical bytes")
    pcsc = panel.model.index(1, 0, hb)
    card_name = next(panel.model.index(r, 0, pcsc) for r in range(panel.model.rowCount(pcsc))
                     if panel.model.index(r, 0, pcsc).data() == "Card name")
    panel.tree.setCurrentIndex(card_name)
    assert panel.bytes_view.selected_span == (13, 15)
    # Byte -> field.
    view = panel.bytes_view
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.byte_rect(19).center())
    assert selected_name(panel) == "TCK" and view.selected_span == (19, 20)

    with qtbot.waitSignal(bridge.card_removed, timeout=5000):
        link.remove()
    assert panel.source_label.text().startswith("Card removed from")
    assert panel.atr is not None  # the last ATR stays for the tester to read
    window.close()


def test_the_list_reading_thread_never_holds_the_panel(qtbot: QtBot, settings: QSettings) -> None:
    """A thread that held the last reference to the panel deleted it on that thread when it ended,
    while the GUI thread was painting: a rare crash of the whole suite. The panel must be freed
    while its list is still being read, and the late result dropped."""
    import gc
    import threading
    import weakref

    reading, release = threading.Event(), threading.Event()

    def slow_read(path: str | None) -> AtrDatabase | None:
        reading.set()
        assert release.wait(10)
        return None

    panel = AtrPanel(settings, read_database=slow_read)
    panel._want_database()
    assert reading.wait(5)
    gone = weakref.ref(panel)
    thread = next(t for t in threading.enumerate() if t.name == "atr-database")
    panel.deleteLater()
    del panel
    qtbot.wait(10)  # the deferred delete runs in the event loop
    gc.collect()
    assert gone() is None  # nothing on the reading thread keeps it
    release.set()
    thread.join(5)
    qtbot.wait(10)  # the late result reaches the GUI thread, finds no panel, and is dropped
    assert not thread.is_alive()
