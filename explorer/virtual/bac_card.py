"""A virtual eMRTD: a profile's file-system card behind ICAO 9303-11 Basic Access Control and
secure messaging.

Before BAC the chip answers what 9303-10 lets anyone read: the MF's files (EF.CardAccess,
EF.ATR/INFO, EF.DIR) and a SELECT of the eMRTD application; any other command inside an
application answers 6982. GET CHALLENGE (00 84 00 00 08) gives RND.ICC, EXTERNAL AUTHENTICATE
(00 82 00 00 28 ... 28) runs the chip's side of BAC (6300 when the terminal's data fails). After
it every command must be protected (CLA with bits 0C): it is opened, the plain command goes to the
file-system card, its answer is protected. A plain command, or one that fails its MAC or its
format, answers 6988 and ends the session: the chip then needs a new BAC (9303-11 9.8.4).

Transport below secure messaging: the file-system card's own 61xx (T=0 profiles) is collected
here, so the plain answer inside the protected one is whole. The protected answer itself then
follows the link's rules: a T=0 profile announces it with 61xx and hands it out to plain GET
RESPONSEs (which neither count in the SSC nor end the session); answered directly it comes with
the command, cut at Ne (256 for Le 00) with 61xx for the rest. A plain-level 6Cxx (READ BINARY
past the end under T=0) travels in DO 99, with 9000 outside. Documents usually answer directly,
so a BAC profile says `"t0": false`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from explorer.core.apdu import ApduError, parse_apdu
from explorer.core.bac import AUTH_LENGTH, RND_LENGTH, BacCard
from explorer.core.secure_messaging import SM_CLA_BITS, CardChannel, SecureMessagingError
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import MF_FID

SW_OK = 0x9000
SW_AUTHENTICATION_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_SECURITY = 0x6982
SW_CONDITIONS = 0x6985
SW_SM_INCORRECT = 0x6988
SW_WRONG_P1P2 = 0x6A86

_SELECT = 0xA4
_GET_CHALLENGE = 0x84
_EXTERNAL_AUTHENTICATE = 0x82
_GET_RESPONSE = 0xC0
_SHORT_NE = 256
#: A file of 32 KiB read through GET RESPONSEs of 1 byte would take this many; a card asking for
#: more is broken, not slow.
_MAX_STEPS = 1 << 15


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


class BacPassport:
    """A handler (bytes in, bytes out) wrapping `inner` with BAC; `mrz_information` is what the
    keys come from (explorer.core.mrz_digits). `random` gives RND.ICC and K.ICC."""

    def __init__(self, inner: FileSystemCard, mrz_information: str, *,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        self._inner = inner
        self._mrz_information = mrz_information
        self._random = random
        self._t0 = inner.profile.t0
        self._lock = threading.Lock()
        self._challenge: bytes | None = None
        self._channel: CardChannel | None = None
        self._pending = b""  # the rest of a protected answer, for GET RESPONSE
        self._pending_sw = b""

    @property
    def atr(self) -> bytes:
        return self._inner.atr

    @property
    def authenticated(self) -> bool:
        with self._lock:
            return self._channel is not None

    def reset(self) -> None:
        """Power cycle: the file system's, and the end of any BAC session."""
        with self._lock:
            self._inner.reset()
            self._end()

    def __call__(self, raw: bytes) -> bytes:
        with self._lock:
            pending, self._pending = self._pending, b""
            protected = len(raw) >= 1 and raw[0] & SM_CLA_BITS == SM_CLA_BITS
            if pending and len(raw) >= 2 and raw[1] == _GET_RESPONSE and not protected:
                return self._get_response(raw, pending)
            if self._channel is not None:
                return self._protected(raw, self._channel) if protected else self._end(SW_SM_INCORRECT)
            if protected:
                return _sw(SW_SM_INCORRECT)  # no session to open it with
            return self._plain(raw)

    # -- before BAC ------------------------------------------------------------------------

    def _plain(self, raw: bytes) -> bytes:
        if len(raw) >= 4 and raw[0] == 0x00 and raw[1] == _GET_CHALLENGE:
            return self._get_challenge(raw)
        if len(raw) >= 4 and raw[0] == 0x00 and raw[1] == _EXTERNAL_AUTHENTICATE:
            return self._external_authenticate(raw)
        if len(raw) >= 4 and self._inner.current_df.fid != MF_FID and not _leaves_application(raw):
            return _sw(SW_SECURITY)  # the LDS application's files need BAC
        return self._inner(raw)

    def _get_challenge(self, raw: bytes) -> bytes:
        if raw[2:4] != b"\x00\x00":
            return _sw(SW_WRONG_P1P2)
        if len(raw) != 5 or raw[4] != RND_LENGTH:
            return _sw(SW_WRONG_LENGTH)
        self._challenge = self._random(RND_LENGTH)
        return self._challenge + _sw(SW_OK)

    def _external_authenticate(self, raw: bytes) -> bytes:
        challenge, self._challenge = self._challenge, None  # one try per challenge
        if raw[2:4] != b"\x00\x00":
            return _sw(SW_WRONG_P1P2)
        if len(raw) not in (5 + AUTH_LENGTH, 6 + AUTH_LENGTH) or raw[4] != AUTH_LENGTH:
            return _sw(SW_WRONG_LENGTH)
        if challenge is None:
            return _sw(SW_CONDITIONS)  # no GET CHALLENGE before it
        result = BacCard(self._mrz_information, challenge, self._random(16)).authenticate(
            raw[5 : 5 + AUTH_LENGTH])
        if result is None:
            return _sw(SW_AUTHENTICATION_FAILED)
        answer, self._channel = result
        return answer + _sw(SW_OK)

    # -- after BAC -------------------------------------------------------------------------

    def _end(self, sw: int | None = None) -> bytes:
        self._channel = self._challenge = None
        self._pending = self._pending_sw = b""
        return b"" if sw is None else _sw(sw)

    def _protected(self, raw: bytes, channel: CardChannel) -> bytes:
        try:
            plain = channel.unwrap_command(raw)
        except SecureMessagingError:
            return self._end(SW_SM_INCORRECT)
        answer = channel.wrap_response(self._whole_answer(plain))
        try:
            apdu = parse_apdu(raw)
        except ApduError:  # unwrap_command parsed it already
            return self._end(SW_SM_INCORRECT)
        return self._send(answer, apdu.ne or _SHORT_NE, apdu.extended)

    def _whole_answer(self, plain: bytes) -> bytes:
        """The file-system card's answer, its 61xx followed inside the card."""
        answer = self._inner(plain)
        data = b""
        for _ in range(_MAX_STEPS):
            if len(answer) < 2 or answer[-2] != 0x61:
                break
            data += answer[:-2]
            answer = self._inner(bytes([0x00, _GET_RESPONSE, 0x00, 0x00, answer[-1]]))
        return data + answer

    def _send(self, answer: bytes, ne: int, extended: bool) -> bytes:
        body, sw = answer[:-2], answer[-2:]
        if extended or (not self._t0 and len(body) <= ne):
            return answer
        if self._t0:  # a case-4 command under T=0: everything through GET RESPONSE
            self._pending, self._pending_sw = body, sw
            return _sw(0x6100 | min(len(body), _SHORT_NE) & 0xFF)
        return self._chunk(body, sw, ne)

    def _chunk(self, body: bytes, sw: bytes, ne: int) -> bytes:
        rest = body[ne:]
        if not rest:
            return body + sw
        self._pending, self._pending_sw = rest, sw
        return body[:ne] + _sw(0x6100 | min(len(rest), _SHORT_NE) & 0xFF)

    def _get_response(self, raw: bytes, pending: bytes) -> bytes:
        self._pending = pending  # an error here must not lose the data
        if raw[2:4] != b"\x00\x00" or len(raw) != 5:
            return _sw(SW_WRONG_P1P2 if len(raw) == 5 else SW_WRONG_LENGTH)
        ne = raw[4] or _SHORT_NE
        if self._t0 and ne != _SHORT_NE and ne > len(pending):
            return _sw(0x6C00 | len(pending) & 0xFF)
        self._pending = b""
        return self._chunk(pending, self._pending_sw, ne)


def _leaves_application(raw: bytes) -> bool:
    """A SELECT that may go where BAC is not needed: by DF name (the eMRTD application, or
    another), of the MF, or of the parent DF."""
    if raw[1] != _SELECT:
        return False
    p1 = raw[2]
    data = raw[5 : 5 + raw[4]] if len(raw) > 5 else b""
    return p1 in (0x03, 0x04) or (p1 == 0x00 and data in (b"", b"\x3f\x00"))
