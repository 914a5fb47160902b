"""Present a virtual card to pcscd through the vpcd reader driver.

The card is a TCP client of the vpcd port of one reader: connecting inserts
it, closing the socket removes it. Frames are a 2-byte big-endian length and a
payload; a one-byte payload from vpcd is a control code (00 power off, 01
power on, 02 reset, 04 get ATR), anything else is a C-APDU answered with the
R-APDU.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading

from explorer.core.hexfmt import to_hex
from explorer.core.log_levels import TRAFFIC
from explorer.virtual.card import VirtualCard

log = logging.getLogger(__name__)

DEFAULT_PORT = 35963
_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0x00, 0x01, 0x02, 0x04


class VpcdLink:
    """Serves one VirtualCard on one vpcd port, from a thread of its own.

    Thread rules: `insert`, `remove` and `close` are called from one
    controlling thread; the card's methods run on the link's thread.
    With `reconnect`, the link keeps (re)connecting while inserted, so the
    card comes back by itself after pcscd restarts.
    """

    def __init__(
        self,
        card: VirtualCard,
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        *,
        reconnect: bool = False,
        retry_interval: float = 0.05,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.reconnect = reconnect
        self.retry_interval = retry_interval
        self.connected = threading.Event()
        self._attempted = threading.Event()  # first connect tried, either way
        self.error: OSError | None = None
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> VpcdLink:
        self.insert()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def insert(self, timeout: float | None = 5.0) -> None:
        """Connect to vpcd. Without `reconnect`, wait until connected or raise OSError."""
        if self.inserted:
            return
        self._stop.clear()
        self._attempted.clear()
        self.error = None
        self._thread = threading.Thread(
            target=self._run, name=f"vpcd-card-{self.port}", daemon=True
        )
        self._thread.start()
        if timeout is None or self.reconnect:
            return
        if not self._attempted.wait(timeout) or not self.connected.is_set():
            self.remove()
            raise self.error or TimeoutError(f"vpcd on {self.host}:{self.port} did not accept")

    def remove(self) -> None:
        """Pull the card out: close the socket and join the thread."""
        self._stop.set()
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    close = remove

    # -- link thread ---------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2.0)
            except OSError as exc:
                self.error = exc
                if not self.reconnect:
                    self._attempted.set()
                    return
                self._stop.wait(self.retry_interval)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._stop.is_set():
                    sock.close()
                    return
                self._sock = sock
            self.connected.set()
            self._attempted.set()
            log.debug("card on vpcd port %d connected", self.port)
            try:
                self._serve(sock)
            except OSError as exc:
                log.debug("vpcd link on port %d ended: %s", self.port, exc)
            finally:
                with self._lock:
                    self._sock = None
                sock.close()
                self.connected.clear()
                self.card.power_off()
            if not self.reconnect:
                return
            self._stop.wait(self.retry_interval)

    def _serve(self, sock: socket.socket) -> None:
        while True:
            header = _recv_exact(sock, 2)
            if header is None:
                return
            (length,) = struct.unpack(">H", header)
            payload = _recv_exact(sock, length)
            if payload is None:
                return
            if len(payload) == 1:
                answer = self._control(payload[0])
                if answer is None:
                    continue
            else:
                answer = self.card.process(payload)
                log.log(TRAFFIC, "vpcd %d: %s -> %s", self.port, to_hex(payload), to_hex(answer))
            sock.sendall(struct.pack(">H", len(answer)) + answer)

    def _control(self, code: int) -> bytes | None:
        if code == _GET_ATR:
            return self.card.atr
        if code == _POWER_ON:
            self.card.power_on()
        elif code == _POWER_OFF:
            self.card.power_off()
        elif code == _RESET:
            self.card.reset()
        return None


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """n bytes, or None at end of stream. vpcd writes length and payload in two
    sends without TCP_NODELAY: QUICKACK before every recv avoids the delayed-ACK
    stall (~40 ms per APDU without it)."""
    data = bytearray()
    while len(data) < n:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)
