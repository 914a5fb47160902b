"""ICAO Doc 9303-11 Basic Access Control (9.7, worked example in Appendix D), both sides.

The keys come from the MRZ information (document number, birth and expiry dates, each with its
check digit: explorer.core.mrz_digits.mrz_information). The terminal and the chip then prove to
each other that they know them and agree on session keys:

    terminal                                   chip
    GET CHALLENGE 00 84 00 00 08          ->   RND.ICC
    EXTERNAL AUTHENTICATE 00 82 00 00 28
      E_IFD || M_IFD                      ->   E_ICC || M_ICC   (or 6300: access denied)

with E = 3DES-CBC under K_enc of RND.IFD||RND.ICC||K.IFD (RND.ICC||RND.IFD||K.ICC from the chip)
and M its retail MAC under K_mac. Session keys come from K.IFD xor K.ICC; the send sequence
counter is the low halves of RND.ICC and RND.IFD.
"""

from __future__ import annotations

import hashlib

from explorer.core.hexfmt import to_hex
from explorer.core.secure_messaging import CardChannel, SecureChannel, decrypt, encrypt, retail_mac

SEED_LENGTH = 16
RND_LENGTH = 8
KEY_LENGTH = 16
#: The EXTERNAL AUTHENTICATE data both ways: 32 bytes of cryptogram, an 8-byte MAC.
AUTH_LENGTH = 40
ENC_COUNTER = 1
MAC_COUNTER = 2
ACCESS_DENIED = "access denied: check document number, birth and expiry dates"


class BacError(Exception):
    """Basic Access Control failed; the message starts with ACCESS_DENIED when the keys were wrong."""


def seed_from_mrz(mrz_information: str) -> bytes:
    """K_seed: the first 16 bytes of SHA-1 over the MRZ information (9303-11 9.7.1.1)."""
    try:
        text = mrz_information.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"MRZ information {mrz_information!r} is not ASCII") from None
    return hashlib.sha1(text).digest()[:SEED_LENGTH]


def _odd_parity(byte: int) -> int:
    # DES keys: the low bit of each byte makes the number of one bits odd (FIPS 46-3).
    high = byte & 0xFE
    return high | (bin(high).count("1") + 1) % 2


def derive_key(seed: bytes, counter: int) -> bytes:
    """A two-key 3DES key from a 16-byte seed (9303-11 9.7.1): SHA-1 of seed || counter (32 bits),
    its first 16 bytes with DES parity adjusted. Counter 1 gives the encryption key, 2 the MAC key."""
    if len(seed) != SEED_LENGTH:
        raise ValueError(f"a key seed has {SEED_LENGTH} bytes, this one has {len(seed)}")
    digest = hashlib.sha1(seed + counter.to_bytes(4, "big")).digest()
    return bytes(_odd_parity(b) for b in digest[:KEY_LENGTH])


def basic_access_keys(mrz_information: str) -> tuple[bytes, bytes]:
    """(K_enc, K_mac) of a document."""
    seed = seed_from_mrz(mrz_information)
    return derive_key(seed, ENC_COUNTER), derive_key(seed, MAC_COUNTER)


def _session(k_ifd: bytes, k_icc: bytes, rnd_icc: bytes, rnd_ifd: bytes) -> tuple[bytes, bytes, bytes]:
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_icc, strict=True))
    ssc = rnd_icc[4:] + rnd_ifd[4:]
    return derive_key(seed, ENC_COUNTER), derive_key(seed, MAC_COUNTER), ssc


def _check_length(name: str, value: bytes, length: int) -> None:
    if len(value) != length:
        raise ValueError(f"{name} has {length} bytes, this one has {len(value)}")


class BacTerminal:
    """The terminal's side: `authenticate_data` after GET CHALLENGE, `channel` with the answer."""

    def __init__(self, mrz_information: str, rnd_ifd: bytes, k_ifd: bytes) -> None:
        _check_length("RND.IFD", rnd_ifd, RND_LENGTH)
        _check_length("K.IFD", k_ifd, KEY_LENGTH)
        self._k_enc, self._k_mac = basic_access_keys(mrz_information)
        self._rnd_ifd, self._k_ifd = bytes(rnd_ifd), bytes(k_ifd)
        self._rnd_icc: bytes | None = None

    def authenticate_data(self, rnd_icc: bytes) -> bytes:
        """E_IFD || M_IFD: the 40 data bytes of EXTERNAL AUTHENTICATE 00 82 00 00 28 ... 28."""
        if len(rnd_icc) != RND_LENGTH:
            raise BacError(f"the card's challenge has {len(rnd_icc)} bytes, {RND_LENGTH} expected")
        self._rnd_icc = bytes(rnd_icc)
        cryptogram = encrypt(self._k_enc, self._rnd_ifd + self._rnd_icc + self._k_ifd)
        return cryptogram + retail_mac(self._k_mac, cryptogram)

    def channel(self, response: bytes) -> SecureChannel:
        """The secure channel from the card's answer to EXTERNAL AUTHENTICATE: its 40 data bytes
        (with or without the 9000 after them), or a status word alone (6300, 6982: refused)."""
        if self._rnd_icc is None:
            raise BacError("EXTERNAL AUTHENTICATE was not prepared: call authenticate_data first")
        if len(response) == 2:
            raise BacError(f"{ACCESS_DENIED} (the card answered {to_hex(response)})")
        if len(response) == AUTH_LENGTH + 2 and response[-2:] == b"\x90\x00":
            response = response[:-2]
        if len(response) != AUTH_LENGTH:
            raise BacError(f"the card's answer to EXTERNAL AUTHENTICATE has {len(response)} bytes, "
                           f"{AUTH_LENGTH} expected")
        cryptogram, mac = response[:32], response[32:]
        if retail_mac(self._k_mac, cryptogram) != mac:
            raise BacError(f"{ACCESS_DENIED} (the card's answer failed its MAC check)")
        plain = decrypt(self._k_enc, cryptogram)
        if plain[:8] != self._rnd_icc or plain[8:16] != self._rnd_ifd:
            raise BacError(f"{ACCESS_DENIED} (the card's answer does not return RND.IFD)")
        return SecureChannel(*_session(self._k_ifd, plain[16:], self._rnd_icc, self._rnd_ifd))


class BacCard:
    """The chip's side, for the virtual passport: RND.ICC went out with GET CHALLENGE."""

    def __init__(self, mrz_information: str, rnd_icc: bytes, k_icc: bytes) -> None:
        _check_length("RND.ICC", rnd_icc, RND_LENGTH)
        _check_length("K.ICC", k_icc, KEY_LENGTH)
        self._k_enc, self._k_mac = basic_access_keys(mrz_information)
        self._rnd_icc, self._k_icc = bytes(rnd_icc), bytes(k_icc)

    def authenticate(self, data: bytes) -> tuple[bytes, CardChannel] | None:
        """The 40-byte answer to EXTERNAL AUTHENTICATE and the card's channel, or None when the
        terminal's data fails (wrong length, wrong MAC, not our challenge)."""
        if len(data) != AUTH_LENGTH:
            return None
        cryptogram, mac = data[:32], data[32:]
        if retail_mac(self._k_mac, cryptogram) != mac:
            return None
        plain = decrypt(self._k_enc, cryptogram)
        rnd_ifd, rnd_icc, k_ifd = plain[:8], plain[8:16], plain[16:]
        if rnd_icc != self._rnd_icc:
            return None
        answer = encrypt(self._k_enc, self._rnd_icc + rnd_ifd + self._k_icc)
        answer += retail_mac(self._k_mac, answer)
        return answer, CardChannel(*_session(k_ifd, self._k_icc, self._rnd_icc, rnd_ifd))
