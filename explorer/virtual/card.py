"""Virtual card behaviours: an ATR plus what the card answers.

Pure Python and transport-free: the vpcd link (and later the embedded
reader) call `power_on`, `power_off` and `process` on the thread that serves
the card. `received` counts what reached the card, so a test can prove that
bad input sent nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass


def with_tck(atr_without_tck: bytes) -> bytes:
    """Append the check byte: XOR of every byte after TS."""
    tck = 0
    for b in atr_without_tck[1:]:
        tck ^= b
    return atr_without_tck + bytes([tck])


_HB = b"CardExplorer"
#: Direct convention, T=0 and T=1 offered (TD1=80, TD2=01), historical bytes
#: "CardExplorer", and a TCK, as the protocol rule requires when T=1 is offered.
DEFAULT_ATR = with_tck(bytes([0x3B, 0x80 | len(_HB), 0x80, 0x01]) + _HB)

SW_OK = b"\x90\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"
SW_WRONG_LENGTH = b"\x67\x00"

Handler = Callable[[bytes], bytes]


@dataclass(frozen=True)
class Rule:
    """Answer `response` to any command that starts with `prefix`.

    `prefix` may be the header only (CLA INS P1 P2) or the whole command.
    """

    prefix: bytes
    response: bytes

    def matches(self, apdu: bytes) -> bool:
        return apdu.startswith(self.prefix)


class VirtualCard:
    """A card: ATR, power state and a command handler.

    Thread rules: the serving transport calls power_on/power_off/process from
    its own thread; `received` and `powered` may be read from any thread.
    """

    def __init__(self, atr: bytes = DEFAULT_ATR, handler: Handler | None = None) -> None:
        if not 2 <= len(atr) <= 33:
            raise ValueError(f"an ATR has 2 to 33 bytes, this one has {len(atr)}")
        self.atr = bytes(atr)
        self._handler = handler or demo_handler
        self._lock = threading.Lock()
        self._received: list[bytes] = []
        self.powered = False

    @property
    def received(self) -> list[bytes]:
        with self._lock:
            return list(self._received)

    def power_on(self) -> None:
        self.powered = True
        self._reset_handler()

    def power_off(self) -> None:
        self.powered = False

    def reset(self) -> None:
        self.powered = True
        self._reset_handler()

    def _reset_handler(self) -> None:
        # A stateful behaviour (a file-system card) forgets its session on a
        # power cycle or reset: current DF, verified PINs, pending data.
        reset = getattr(self._handler, "reset", None)
        if callable(reset):
            reset()

    def process(self, apdu: bytes) -> bytes:
        with self._lock:
            self._received.append(apdu)
        try:
            return self._handler(apdu)
        except Exception:  # a broken behaviour answers like a broken card, not a dead link
            return b"\x6f\x00"


def rule_handler(rules: Iterable[Rule], default: bytes = SW_INS_NOT_SUPPORTED) -> Handler:
    """A handler from a table: first matching rule wins, else `default`."""
    table = tuple(rules)

    def handle(apdu: bytes) -> bytes:
        for rule in table:
            if rule.matches(apdu):
                return rule.response
        return default

    return handle


def demo_handler(apdu: bytes) -> bytes:
    """A small, honest card: SELECT succeeds, GET CHALLENGE gives random bytes,
    an ECHO command (CLA 80, INS EE) returns its data; the rest is not supported."""
    if len(apdu) < 4:
        return SW_WRONG_LENGTH
    cla, ins = apdu[0], apdu[1]
    if cla == 0xFF:
        return SW_CLA_NOT_SUPPORTED
    if ins == 0xA4:
        return SW_OK
    if ins == 0x84:
        le = apdu[4] if len(apdu) == 5 else 8
        return os.urandom(le or 256) + SW_OK
    if (cla, ins) == (0x80, 0xEE):
        data = apdu[5 : 5 + apdu[4]] if len(apdu) > 5 else b""
        return data + SW_OK
    return SW_INS_NOT_SUPPORTED
