"""The APDU console: connect to the selected card, type a command, see the answer explained.

All card work is awaited (qasync) on the reader's worker thread: a card that
never answers leaves this panel live, with a Stop waiting button.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.apdu_text import CommandCheck
from explorer.core.card_errors import CardError
from explorer.core.exchange import Origin, TransmitOptions
from explorer.core.hexfmt import to_hex
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.core.reader_events import CardRemoved, MonitorEvent, ReaderRemoved, ServiceLost
from explorer.core.status_words import Severity
from explorer.link.connection import CardConnection, LinkState
from explorer.link.manager import ConnectionManager
from explorer.ui import aio
from explorer.ui.apdu_editor import ApduEditor
from explorer.ui.apdu_structure import ApduStructure
from explorer.ui.console_answers import AnswerActions
from explorer.ui.console_history import CommandHistory
from explorer.ui.console_transcript import MUTED, SEVERITY_COLOURS, Transcript
from explorer.ui.message_line import MessageLine
from explorer.ui.splitters import stacked

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)
_PROTOCOLS = (Protocol.ANY, Protocol.T0, Protocol.T1, Protocol.RAW)
_SHARES = (ShareMode.SHARED, ShareMode.EXCLUSIVE, ShareMode.DIRECT)
_ERROR = SEVERITY_COLOURS[Severity.ERROR]


class ConsolePanel(QWidget):
    """GUI thread only. Owns its transcript and history; connections come from the manager."""

    reply_shown = Signal(object)  # Reply
    error_shown = Signal(object)  # CardError
    state_changed = Signal(object)  # LinkState
    idle = Signal()  # the running operation (connect, send...) has finished, however it ended
    saved = Signal(str, str)  # path, error ("" when the answers were saved)

    def __init__(self, manager: ConnectionManager, settings: QSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._reader: str | None = None
        self._task: asyncio.Task[None] | None = None
        self.history = CommandHistory(settings)
        self._build()
        self._update_controls()

    # -- layout ------------------------------------------------------------------

    def _build(self) -> None:
        self.reader_label = QLabel("No reader selected")
        self.reader_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.protocol_box = QComboBox()
        for p in _PROTOCOLS:
            self.protocol_box.addItem(p.value, p)
        self.share_box = QComboBox()
        for s in _SHARES:
            self.share_box.addItem(s.value, s)
        self.connect_button = QPushButton("Connect")
        self.connect_button.clicked.connect(lambda: self._start(self.connect_card()))
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset")
        self.reset_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.reset_button.clicked.connect(lambda: self._start(self.reset_card(cold=False)))
        reset_menu = QMenu(self.reset_button)
        reset_menu.addAction("Warm reset", lambda: self._start(self.reset_card(cold=False)))
        reset_menu.addAction("Cold reset (power cycle)", lambda: self._start(self.reset_card(cold=True)))
        self.reset_button.setMenu(reset_menu)
        self.disconnect_button = QToolButton()
        self.disconnect_button.setText("Disconnect")
        self.disconnect_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.disconnect_button.clicked.connect(lambda: self._start(self.disconnect_card()))
        disconnect_menu = QMenu(self.disconnect_button)
        for d in Disposition:
            disconnect_menu.addAction(f"Disconnect and {d.value} the card",
                                      functools.partial(self._disconnect_with, d))
        self.disconnect_button.setMenu(disconnect_menu)
        self.state_label = QLabel()

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Protocol"))
        bar.addWidget(self.protocol_box)
        bar.addWidget(QLabel("Share"))
        bar.addWidget(self.share_box)
        bar.addWidget(self.connect_button)
        bar.addWidget(self.reset_button)
        bar.addWidget(self.disconnect_button)
        bar.addStretch(1)

        self.input = ApduEditor(self.history)
        self.input.checked.connect(self._on_checked)
        self.input.submitted.connect(lambda: self._start(self.send_current()))
        self.validation_label = MessageLine(1)
        self.validation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(lambda: self._start(self.send_current()))
        self.stop_button = QPushButton("Stop waiting")
        self.stop_button.setToolTip("Stop waiting for the card's answer. A PC/SC call cannot be interrupted: "
                                    "the reader stays busy until the card answers or is removed.")
        self.stop_button.clicked.connect(self.stop_waiting)
        self.favourite_button = QToolButton()
        self.favourite_button.setText("☆")
        self.favourite_button.setToolTip("Add this command to the favourites (or remove it); "
                                         "PINs and keys in it are kept as ••")
        self.favourite_button.clicked.connect(self._toggle_favourite)
        self.favourites_button = QToolButton()
        self.favourites_button.setText("Favourites")
        self.favourites_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.favourites_menu = QMenu(self.favourites_button)
        self.favourites_menu.aboutToShow.connect(self._fill_favourites)
        self.favourites_button.setMenu(self.favourites_menu)
        # How commands are sent: in a menu, so the row stays narrow enough for a 1024 px screen.
        self.options_button = QToolButton()
        self.options_button.setText("Options")
        self.options_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        options = QMenu(self.options_button)
        self.get_response_box = options.addAction("Automatic GET RESPONSE on 61xx")
        self.get_response_box.setCheckable(True)
        self.get_response_box.setChecked(True)
        self.resend_box = options.addAction("Automatic re-send with the right Le on 6Cxx")
        self.resend_box.setCheckable(True)
        self.resend_box.setChecked(True)
        options.addSeparator()
        self.as_is_box = options.addAction("Send as is (negative tests): no APDU check, no automatic step")
        self.as_is_box.setCheckable(True)
        self.as_is_box.setToolTip("The hex is sent exactly as typed, even a malformed APDU; "
                                  "the trace notes it as sent as is")
        options.setToolTipsVisible(True)
        self.options_button.setMenu(options)
        for action in (self.get_response_box, self.resend_box, self.as_is_box):
            action.toggled.connect(lambda _: self._on_checked(self.input.check))
        self.reason_label = MessageLine(1)
        self.reason_label.setStyleSheet(f"color:{MUTED};")

        self.transcript = Transcript()
        self.answers = AnswerActions(self.transcript, self)
        self.answers.saved.connect(self.saved)
        self.clear_button, self.save_button = self.answers.clear_button, self.answers.save_button

        send_row = QHBoxLayout()
        send_row.addWidget(self.send_button)
        send_row.addWidget(self.stop_button)
        send_row.addWidget(self.favourite_button)
        send_row.addWidget(self.favourites_button)
        send_row.addWidget(self.options_button)
        send_row.addStretch(1)
        send_row.addWidget(self.clear_button)
        send_row.addWidget(self.save_button)

        self.structure = ApduStructure()
        self.structure.edited.connect(self.input.set_command)
        self.structure.refused.connect(self._field_refused)
        split = stacked(self.structure, self.transcript, 0, 3)
        split.setSizes([130, 400])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        head = QHBoxLayout()
        head.addWidget(self.reader_label, 1)
        head.addWidget(self.state_label)
        layout.addLayout(head)
        layout.addLayout(bar)
        layout.addWidget(self.input)
        layout.addWidget(self.validation_label)
        layout.addLayout(send_row)
        layout.addWidget(self.reason_label)
        layout.addWidget(split, 1)

    # -- target and state ----------------------------------------------------------

    @property
    def connection(self) -> CardConnection | None:
        return None if self._reader is None else self._manager.open(self._reader)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def load_command(self, text: str, *, as_is: bool = False) -> None:
        """A command to look at, change and send (from a trace row): in the editor, focused,
        with Send as is switched to match how it was sent."""
        self.as_is_box.setChecked(as_is)
        self.input.set_command(text)
        self.input.setFocus()

    def send_loaded(self) -> bool:
        """Send what the editor holds, as Send would; False (and nothing sent) when Send is off,
        whose reason the panel shows."""
        if not self.send_button.isEnabled():
            return False
        self._start(self.send_current())
        return True

    def set_target(self, reader: str, atr: object = None) -> None:
        """The reader the console talks to (from the reader tree's selection)."""
        if reader == self._reader:
            return
        self._reader = reader
        self.reader_label.setText(f"<b>{reader}</b>")
        self._update_controls()

    def on_monitor_event(self, event: MonitorEvent) -> None:
        """A card pulled out (or the service gone) ends our connection: say so now, not at the next send.

        The connection manager records the loss and lets go of the dead handle; the quiet
        follow-up only brings the panel up to date. It must not disconnect: by the time it runs,
        a new card may be in and a session open on it (a script run on every card inserted
        connects as soon as the card is seen). A direct session is on the reader, not the card:
        the manager keeps it, and it is closed here as before. A removed reader stops being the
        target.
        """
        if isinstance(event, ReaderRemoved) and event.reader == self._reader:
            self._drop_target(event.reader)
            return
        conn = None if self._reader is None else self._manager.get(self._reader)
        if conn is None or not conn.state.connected:
            return
        if isinstance(event, CardRemoved) and event.reader == self._reader:
            self.transcript.add_note("The card was removed: connection closed.", _ERROR)
            direct = conn.state.share is ShareMode.DIRECT
            self._start(self.disconnect_card(conn=conn) if direct else self._session_lost(conn), quiet=True)
        elif isinstance(event, ServiceLost) and not conn.embedded:
            self.transcript.add_note(f"PC/SC service lost ({event.reason}): connection closed.",
                                     _ERROR)
            self._start(self._session_lost(conn), quiet=True)

    async def _session_lost(self, conn: CardConnection) -> None:
        """Wait for the connection's worker to let go of the lost handle (the manager asked it
        to); `_guard` then shows the state. Nothing is sent and nothing disconnected."""
        await conn.run_job(lambda session: None)

    def _drop_target(self, reader: str) -> None:
        conn = self._manager.get(reader)
        if conn is not None and conn.state.connected:
            self.transcript.add_note(f"{reader} was removed: connection closed.", _ERROR)
        self._reader = None  # not `connection`: that would open the removed reader again
        self.reader_label.setText(f"<b>{reader}</b> was removed: select a reader")
        self._update_controls()

    def _update_controls(self) -> None:
        conn = self.connection
        state = conn.state if conn is not None else None
        connected = bool(state and state.connected)
        busy = self.busy
        self.connect_button.setEnabled(conn is not None and not busy)
        self.connect_button.setText("Reconnect" if connected else "Connect")
        self.reset_button.setEnabled(connected and not busy)
        self.disconnect_button.setEnabled(connected and not busy)
        self.stop_button.setVisible(busy)
        if state is not None and state.connected:
            protocol = state.protocol.value if state.protocol else "?"
            share = state.share.value if state.share else "?"
            self.state_label.setText(f"Connected · {protocol} · {share}")
            self.state_label.setStyleSheet(f"color:{SEVERITY_COLOURS[Severity.SUCCESS]};")
        else:
            self.state_label.setText("Not connected")
            self.state_label.setStyleSheet(f"color:{MUTED};")
        check = self.input.check
        as_is = self.as_is_box.isChecked()
        reason = ""
        if conn is None:
            reason = "Select a reader or card in the reader tree, then Connect."
        elif busy:
            reason = "Waiting for the card… (Stop waiting gives up on this answer)"
        elif not connected:
            reason = "Not connected: press Connect to talk to the card."
        elif check.empty:
            reason = "Type a command."
        elif check.masked:
            reason = ("Type the PIN or key in place of the •• (the history never keeps it); "
                      "nothing is sent until then.")
        elif not check.ok and not (as_is and check.apdu):
            reason = "The command has an error (underlined above); nothing will be sent."
        self.send_button.setText("Send as is" if as_is else "Send")
        self.send_button.setEnabled(not reason)
        self.send_button.setToolTip(reason or ("Send the hex exactly as typed (Enter)" if as_is
                                               else "Send the command (Enter)"))
        off = [name for name, action in (("GET RESPONSE", self.get_response_box),
                                         ("re-send", self.resend_box)) if not action.isChecked()]
        self.options_button.setToolTip("How commands are sent: " + (
            "as is, no automatic step" if as_is
            else ("automatic " + " and ".join(off) + " off" if off else "automatic steps on")))
        self.reason_label.setText(reason)
        self.reason_label.setVisible(bool(reason))
        favourite = self.history.is_favourite(self.input.toPlainText())
        # A masked favourite cannot be sent, but it can be taken off the list.
        self.favourite_button.setEnabled(check.ok or favourite)
        self.favourite_button.setText("★" if favourite else "☆")

    def _on_checked(self, check: CommandCheck) -> None:
        if check.empty:
            self.validation_label.setText("")
        elif check.ok:
            conn = self.connection
            on_t0 = conn is not None and conn.state.protocol is Protocol.T0
            if on_t0 and check.command is not None and check.command.case.extended:
                # Not refused: some readers and vpcd carry it; most T=0 readers will not.
                self.validation_label.setText(f"{check.message} — extended lengths on a T=0 connection: "
                                              "most readers refuse them (T=0 carries them in ENVELOPE)")
                self.validation_label.setStyleSheet(f"color:{SEVERITY_COLOURS[Severity.WARNING]};")
            else:
                self.validation_label.setText(check.message)
                self.validation_label.setStyleSheet(f"color:{MUTED};")
        elif self.as_is_box.isChecked() and check.apdu:
            self.validation_label.setText(f"{check.message} — it will be sent as is")
            self.validation_label.setStyleSheet(f"color:{SEVERITY_COLOURS[Severity.WARNING]};")
        else:
            self.validation_label.setText(check.message)
            self.validation_label.setStyleSheet(f"color:{_ERROR};")
        self.structure.show_check(check)
        self._update_controls()

    def _field_refused(self, error: str) -> None:
        self.structure.show_check(self.input.check)
        self.validation_label.setText(f"{error}; the command is unchanged")
        self.validation_label.setStyleSheet(f"color:{_ERROR};")

    # -- operations ----------------------------------------------------------------

    def _start(self, operation: Coroutine[Any, Any, None], *, quiet: bool = False) -> None:
        if self.busy:
            operation.close()
            return
        self._task = aio.start(self._guard(operation, quiet))
        self._update_controls()

    async def _guard(self, operation: Coroutine[Any, Any, None], quiet: bool) -> None:
        """Every failure becomes a line in the transcript: never a traceback in the user's face."""
        import asyncio

        try:
            await operation
        except asyncio.CancelledError:
            self.transcript.add_note("Stopped waiting. The card has not answered; the reader stays busy "
                                     "until it answers or is removed.", SEVERITY_COLOURS[Severity.WARNING])
        except CardError as exc:
            if not quiet:
                self.transcript.add_error(exc)
                self.error_shown.emit(exc)
        except Exception as exc:
            log.exception("console operation failed")
            self.transcript.add_note(f"Internal error: {exc}", _ERROR)
        finally:
            self._task = None
            conn = self.connection
            if conn is not None:
                self.state_changed.emit(conn.state)
            self._update_controls()
            self.idle.emit()

    def stop_waiting(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def connect_card(self) -> None:
        conn = self.connection
        if conn is None:
            return
        protocol = self.protocol_box.currentData()
        share = self.share_box.currentData()
        state: LinkState = await conn.connect(protocol, share)
        protocol_text = state.protocol.value if state.protocol else "none"
        self.transcript.add_note(f"Connected to {state.reader}: {protocol_text}, {share.value}"
                                 + (f", ATR {to_hex(state.atr)}" if state.atr else ""))

    def _disconnect_with(self, disposition: Disposition) -> None:
        self._start(self.disconnect_card(disposition))

    async def disconnect_card(self, disposition: Disposition = Disposition.LEAVE,
                              conn: CardConnection | None = None) -> None:
        conn = conn or self.connection
        if conn is None:
            return
        was = conn.state.connected
        await conn.disconnect(disposition)
        if was:
            self.transcript.add_note(f"Disconnected ({disposition.value} the card).")

    async def reset_card(self, cold: bool = False) -> None:
        conn = self.connection
        if conn is None:
            return
        state = await conn.reconnect(cold)
        self.transcript.add_note(f"{'Cold' if cold else 'Warm'} reset: ATR {to_hex(state.atr)}")

    async def send_current(self) -> None:
        conn = self.connection
        check = self.input.check
        as_is = self.as_is_box.isChecked()
        if conn is None or not conn.state.connected or not check.apdu or not (check.ok or as_is):
            return  # Send is disabled in these states; Enter must not get around it
        self.history.add(self.input.toPlainText())
        if as_is:
            reply = await conn.send_as_is(check.apdu, Origin.CONSOLE)
        else:
            options = TransmitOptions(auto_get_response=self.get_response_box.isChecked(),
                                      auto_resend=self.resend_box.isChecked())
            reply = await conn.send(check.apdu, Origin.CONSOLE, options)
        self.transcript.add_reply(reply)
        self.reply_shown.emit(reply)

    # -- saving the answers -----------------------------------------------------------------

    def save_transcript(self, path: str, reveal_secrets: bool = False) -> None:
        """Write the answers to `path` off the GUI thread; `saved` tells how it went."""
        self.answers.save(path, reveal_secrets)

    # -- favourites ---------------------------------------------------------------------

    def _toggle_favourite(self) -> None:
        self.history.toggle_favourite(self.input.toPlainText())
        self._update_controls()

    def _fill_favourites(self) -> None:
        self.favourites_menu.clear()
        if not self.history.favourites:
            empty = QAction("No favourites yet: ☆ adds the current command", self.favourites_menu)
            empty.setEnabled(False)
            self.favourites_menu.addAction(empty)
        for command in self.history.favourites:
            self.favourites_menu.addAction(command, functools.partial(self.input.set_command, command))

