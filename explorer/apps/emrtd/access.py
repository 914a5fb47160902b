"""Basic Access Control from the analyzer's side (ICAO Doc 9303-11 9.7): GET CHALLENGE, EXTERNAL
AUTHENTICATE with the terminal's cryptogram, then the session switched to secure messaging.

The cryptography is explorer.core.bac's; this module only sends the commands. That module and
`AnalysisSession.secure` are written alongside this one and reached through Protocols (and an
import by name), so the analyzer is checked and tested on its own: once both are merged, a plain
import and call would do the same.
"""

from __future__ import annotations

import importlib
import os
from typing import Protocol, cast

from explorer.apps.emrtd.constants import Ins
from explorer.apps.session import AnalysisSession

ACCESS_DENIED = "access denied: check document number, birth and expiry dates"


class AccessDenied(Exception):
    """BAC failed: the keys from the MRZ were not the chip's (or its answer was wrong)."""


class BacRefused(Exception):
    """The chip does not take BAC at all (GET CHALLENGE refused): PACE-only, or not a passport."""


class _Terminal(Protocol):
    def authenticate_data(self, rnd_icc: bytes) -> bytes: ...

    def channel(self, response: bytes) -> object: ...


class _Secured(Protocol):
    def secure(self, channel: object) -> None: ...


def open_secure(session: AnalysisSession, mrz_information: str) -> None:
    """BAC with the keys from `mrz_information`; afterwards the session's commands go protected.
    AccessDenied when the chip refuses the keys, BacRefused when it will not do BAC."""
    bac = importlib.import_module("explorer.core.bac")
    challenge = session.send(bytes([0x00, Ins.GET_CHALLENGE, 0x00, 0x00, 0x08]))
    if not challenge.ok or len(challenge.data) != 8:
        raise BacRefused(f"GET CHALLENGE answered {challenge.sw:04X} with {len(challenge.data)} bytes")
    try:
        terminal: _Terminal = bac.BacTerminal(mrz_information, os.urandom(8), os.urandom(16))
        data = terminal.authenticate_data(challenge.data)
        answer = session.send(bytes([0x00, Ins.EXTERNAL_AUTHENTICATE, 0x00, 0x00, len(data)]) + data
                              + bytes([len(data)]))
        # A refusal (6300, 6982) goes to channel() too: it names it as access denied.
        channel = terminal.channel(answer.data if answer.ok else answer.sw.to_bytes(2, "big"))
    except bac.BacError as exc:
        raise AccessDenied(str(exc)) from None
    cast(_Secured, session).secure(channel)
