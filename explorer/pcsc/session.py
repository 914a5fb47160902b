"""A blocking session for scripts and the CLI: open a reader, send, read the ATR, close."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

from explorer.core import card_errors as ce
from explorer.core.exchange import Exchange, LinkEvent, Origin, Reply, TransmitOptions
from explorer.core.hexfmt import HexError, parse_hex
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.link.connection import LinkState
from explorer.pcsc.connection import PcscConnection

T = TypeVar("T")


class Session:
    """`with Session("Virtual PCD 00 00") as s: s.send("00 A4 04 00 00")`.

    Calls block the calling thread (never use it on the GUI thread: the GUI
    awaits connection futures). Without a `timeout` they run on the
    calling thread itself, which then must be the only one using the session:
    the fastest path. With one, they run on a worker so the wait can end: a
    card still silent after `timeout` seconds raises ce.Timeout and leaves the
    reader busy until it answers or is removed.
    """

    def __init__(self, reader: str, protocol: Protocol = Protocol.ANY, share: ShareMode = ShareMode.SHARED,
                 *, options: TransmitOptions = TransmitOptions(), timeout: float | None = None,
                 origin: Origin = Origin.API, sink: Callable[[Exchange | LinkEvent], None] | None = None
                 ) -> None:
        self.reader = reader
        self.options = options
        self.timeout = timeout
        self.origin = origin
        self._conn = PcscConnection(reader, sink, inline=timeout is None)
        try:
            self._wait(self._conn.connect(protocol, share))
        except BaseException:
            self._conn.close(timeout=0.5)
            raise

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def state(self) -> LinkState:
        return self._conn.state

    @property
    def atr(self) -> bytes:
        return self._conn.state.atr

    @property
    def protocol(self) -> Protocol | None:
        return self._conn.state.protocol

    def send(self, apdu: bytes | str, *, check: bool = True) -> Reply:
        """Checked, sent, 61xx/6Cxx followed as `options` say. Hex text is accepted."""
        if isinstance(apdu, str):
            try:
                apdu = parse_hex(apdu)
            except HexError as exc:
                raise ce.InvalidCommand(self.reader, sentence=str(exc)) from None
        if self._conn.inline:
            return self._conn.send_now(apdu, self.origin, self.options, check=check)
        return self._wait(self._conn.send(apdu, self.origin, self.options, check=check))

    def transmit(self, apdu: bytes) -> Exchange:
        """One raw exchange: no check, no automatic step."""
        return self._wait(self._conn.transmit(apdu, self.origin))

    def reset(self, cold: bool = False) -> LinkState:
        return self._wait(self._conn.reconnect(cold))

    def control(self, code: int, data: bytes = b"") -> bytes:
        return self._wait(self._conn.control(code, data))

    def get_attribute(self, attribute: str | int) -> bytes:
        return self._wait(self._conn.get_attribute(attribute))

    def close(self, disposition: Disposition = Disposition.LEAVE, timeout: float | None = None) -> bool:
        """Disconnect and stop; False when a call still running kept the worker past `timeout`
        (default: the session's timeout, or 5 s)."""
        return self._conn.close(disposition, timeout=(self.timeout or 5.0) if timeout is None else timeout)

    def _wait(self, future: concurrent.futures.Future[T]) -> T:
        try:
            return future.result(self.timeout)
        except concurrent.futures.TimeoutError:
            raise ce.Timeout(self.reader, sentence=f"no answer within {self.timeout} s") from None
