"""Basic Access Control from the analyzer's side (ICAO Doc 9303-11 9.7): GET CHALLENGE, EXTERNAL
AUTHENTICATE with the terminal's cryptogram, then the session switched to secure messaging. The
cryptography is explorer.core.bac's; this module only sends the commands."""

from __future__ import annotations

import os

from explorer.apps.emrtd.constants import Ins
from explorer.apps.session import AnalysisSession
from explorer.core.bac import ACCESS_DENIED, BacError, BacTerminal

__all__ = ["ACCESS_DENIED", "AccessDenied", "BacRefused", "open_secure"]

#: EXTERNAL AUTHENTICATE answered so: the chip has no BAC (INS, CLA or function not supported),
#: which a wrong key (6300, 6982) is not.
_NOT_SUPPORTED = (0x6D00, 0x6E00, 0x6A81)


class AccessDenied(Exception):
    """BAC failed: the keys from the MRZ were not the chip's (or its answer was wrong)."""


class BacRefused(Exception):
    """The chip does not take BAC at all (GET CHALLENGE refused): PACE-only, or not a passport."""


def open_secure(session: AnalysisSession, mrz_information: str) -> None:
    """BAC with the keys from `mrz_information`; afterwards the session's commands go protected.
    AccessDenied when the chip refuses the keys, BacRefused when it will not do BAC."""
    challenge = session.send(bytes([0x00, Ins.GET_CHALLENGE, 0x00, 0x00, 0x08]))
    if not challenge.ok or len(challenge.data) != 8:
        raise BacRefused(f"GET CHALLENGE answered {challenge.sw:04X} with {len(challenge.data)} bytes")
    try:
        terminal = BacTerminal(mrz_information, os.urandom(8), os.urandom(16))
        data = terminal.authenticate_data(challenge.data)
        answer = session.send(bytes([0x00, Ins.EXTERNAL_AUTHENTICATE, 0x00, 0x00, len(data)]) + data
                              + bytes([len(data)]))
        if answer.sw in _NOT_SUPPORTED:
            raise BacRefused(f"EXTERNAL AUTHENTICATE answered {answer.sw:04X}")
        # A refusal (6300, 6982) goes to channel() too: it names it as access denied.
        channel = terminal.channel(answer.data if answer.ok else answer.sw.to_bytes(2, "big"))
    except BacError as exc:
        raise AccessDenied(str(exc)) from None
    session.secure(channel)
