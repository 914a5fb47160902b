"""A journal that cannot be written (disk full) is told once, in the status bar and in one
dialog on the GUI thread; the exchanges go on, the records stay in memory, and no
traceback is printed for every later record.

The disk-full error is the kernel's own: the journal's descriptor is pointed at
/dev/full, where every write fails with ENOSPC. Nothing here talks to PC/SC (the
window's card is in the embedded virtual reader)."""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QThread
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from explorer.core.exchange import Exchange, Origin
from explorer.link.bridge import EventBridge
from explorer.trace import journal as journal_module
from explorer.trace.journal import Journal, read_journal
from explorer.trace.store import TraceStore
from explorer.ui.main_window import MainWindow
from explorer.virtual.embedded import READER_PREFIX

SELECT = bytes.fromhex("00A4040008F043415244455850")


def _exchange(n: int, reader: str = "Reader 0") -> Exchange:
    return Exchange(reader, bytes([0x00, 0xB0, 0x00, n & 0xFF, 0x00]), b"\x90\x00", time.time(), 0.001,
                    Origin.SCRIPT)


def _fill_disk(journal: Journal) -> None:
    """From now on the journal's writes meet a full disk (the kernel's ENOSPC, not a mock)."""
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        assert journal._fd is not None
        os.dup2(full, journal._fd)
    finally:
        os.close(full)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal.new_session(tmp_path / "traces", generator="test")
    yield j
    j.close()


def test_a_full_disk_stops_the_journal_once_and_the_store_goes_on(
        journal: Journal, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    store = TraceStore(journal)
    told: list[tuple[OSError, str]] = []
    store.on_journal_failure(lambda e: told.append((e, threading.current_thread().name)))
    for n in range(3):
        store.add_exchange(_exchange(n))
    _fill_disk(journal)

    def worker() -> None:  # as a reader's worker thread feeds the store
        for n in range(3, 200):
            store.add_exchange(_exchange(n))

    thread = threading.Thread(target=worker, name="reader-worker")
    with caplog.at_level(logging.INFO):
        thread.start()
        thread.join(10)
    assert not thread.is_alive()
    assert len(store) == 200 and [r.seq for r in store.records()] == list(range(1, 201))
    assert journal.error is not None and journal.error.errno == errno.ENOSPC
    assert len(told) == 1 and told[0][0] is journal.error and told[0][1] == "reader-worker"
    # Told once in the log too, without a traceback; nothing on stderr per record.
    stopped = [r for r in caplog.records if "journal" in r.getMessage()]
    assert len(stopped) == 1 and stopped[0].levelno == logging.ERROR and stopped[0].exc_info is None
    assert "No space left on device" in stopped[0].getMessage()
    assert "Traceback" not in capfd.readouterr().err
    # Whoever starts watching late hears of it at once; and nothing more goes to the file.
    late: list[OSError] = []
    store.on_journal_failure(late.append)
    assert late == [journal.error]
    store.add_exchange(_exchange(200))
    assert len(told) == 1
    store.close()
    # What was written before the disk filled up is a journal that reads back whole.
    contents = read_journal(journal.path)
    assert [r.seq for r in contents.records] == [1, 2, 3] and not contents.cut_short


def test_a_journal_whose_header_cannot_be_written_is_not_left_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(journal_module, "_write_all", full)
    with pytest.raises(OSError) as raised:
        Journal.new_session(tmp_path / "traces")
    assert raised.value.errno == errno.ENOSPC
    assert list((tmp_path / "traces").iterdir()) == []  # no empty, header-less journal


def test_the_window_tells_once_on_the_gui_thread_and_the_card_work_goes_on(
        qtbot: QtBot, settings: QSettings, journal: Journal, capfd: pytest.CaptureFixture[str]) -> None:
    bridge = EventBridge()
    window = MainWindow(bridge, settings, store=TraceStore(journal))
    qtbot.addWidget(window)
    window.show()
    reader = f"{READER_PREFIX} 0"
    try:
        with qtbot.waitSignal(bridge.card_inserted, timeout=5000):
            window.start_virtual_reader()
        assert not window.journal_label.isVisible() and window.journal_dialog is None
        _fill_disk(journal)
        # The card work runs on the reader's own worker thread: that is where the write fails.
        connection = window.manager.open(reader)
        connection.connect().result(timeout=5)
        replies = [connection.send(SELECT, Origin.SCRIPT).result(timeout=5) for _ in range(20)]
        assert all(r.sw == 0x9000 for r in replies)  # the exchanges went on
        qtbot.waitUntil(lambda: window.journal_dialog is not None, timeout=5000)
        dialog = window.journal_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.thread() is QCoreApplication.instance().thread() is QThread.currentThread()
        assert "No space left on device" in dialog.text() and str(journal.path) in dialog.text()
        assert "Export" in dialog.text()
        assert window.journal_label.isVisible()
        assert window.journal_label.text().startswith("Journal stopped: No space left on device")
        # More records, from the worker and from the GUI thread: no second dialog.
        for _ in range(20):
            connection.send(SELECT, Origin.SCRIPT).result(timeout=5)
        with qtbot.waitSignal(bridge.reader_added, timeout=5000):  # an event, on the GUI thread
            window.embedded.add_reader()
        QCoreApplication.processEvents()  # anything still queued for the window lands now
        boxes = [b for b in window.findChildren(QMessageBox) if b.windowTitle() == "Journal stopped"]
        assert boxes == [dialog]
        exchanges = [r for r in window.store.records() if r.kind.value == "exchange"]
        assert len(exchanges) >= 40  # every one in memory (each SELECT brings its GET RESPONSE too)
        assert journal.error is not None and journal.error.errno == errno.ENOSPC
    finally:
        window.close()
    assert "Traceback" not in capfd.readouterr().err
