"""ISO/IEC 7816-4 secure messaging with two-key 3DES, as ICAO Doc 9303-11 9.8 uses it after BAC.

Both sides: `SecureChannel` is the terminal's (protects commands, checks and opens answers),
`CardChannel` the card's (the virtual passport). A command becomes

    CLA|0C INS P1 P2 Lc [87 L 01 E(data)] [97 L Le] 8E 08 MAC 00

and an answer `[87 L 01 E(data)] 99 02 SW1 SW2 8E 08 MAC` + SW1 SW2. Each side increments the
send sequence counter (SSC) before every command and every answer it protects or checks, so one
exchange uses two values. The MAC is ISO/IEC 9797-1 MAC algorithm 3 (the retail MAC) over the
SSC and the data objects; data is encrypted with 3DES-CBC and a zero IV. Ciphers come from
`cryptography`; nothing here is a hand-written cipher round.

Anything wrong with an answer raises a SecureMessagingError naming what and where: a MAC that
does not verify is a MacError, never data.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from explorer.core.apdu import ApduError, CommandApdu, parse_apdu
from explorer.core.hexfmt import to_hex

BLOCK = 8
MAC_LENGTH = 8
SSC_LENGTH = 8
#: CLA bits b4-b3 = 11: secure messaging, the command header authenticated (ISO/IEC 7816-4 5.4.1).
SM_CLA_BITS = 0x0C

TAG_DATA = 0x87  # padding-content indicator byte, then the cryptogram
TAG_LE = 0x97
TAG_STATUS = 0x99
TAG_MAC = 0x8E
PADDING_INDICATOR = 0x01  # ISO/IEC 9797-1 padding method 2 (80 00 ...)

_SHORT_NE = 256
_EXTENDED_NE = 65536


class SecureMessagingError(ValueError):
    """A protected command or answer that cannot be used; the message says what and where."""


class MacError(SecureMessagingError):
    """A message whose MAC is missing or does not verify."""


class SmFormatError(SecureMessagingError):
    """A protected message whose data objects are malformed or missing."""


# -- the primitives ----------------------------------------------------------------------------


def pad(data: bytes) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 80, then 00 up to a multiple of 8 bytes (always at least 80)."""
    return data + b"\x80" + bytes(-(len(data) + 1) % BLOCK)


def unpad(data: bytes) -> bytes:
    """Padding method 2 removed; ValueError when it is not there."""
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= BLOCK:
        raise ValueError("no ISO/IEC 9797-1 method 2 padding at the end")
    return stripped[:-1]


def _check_key(key: bytes) -> None:
    if len(key) != 16:
        raise ValueError(f"a two-key 3DES key has 16 bytes, this one has {len(key)}")


def _des(key8: bytes) -> TripleDES:
    # Single DES is 3DES with K1 = K2 = K3, two-key 3DES is K3 = K1: the library deprecates the
    # short key forms, not the algorithms, so keys go to it as 24 bytes.
    return TripleDES(key8 * 3)


def _3des(key: bytes) -> TripleDES:
    return TripleDES(key + key[:8])


def encrypt(key: bytes, data: bytes) -> bytes:
    """Two-key 3DES-CBC with a zero IV (9303-11 9.8.6.1); `data` a multiple of 8 bytes."""
    _check_key(key)
    encryptor = Cipher(_3des(key), modes.CBC(bytes(BLOCK))).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def decrypt(key: bytes, data: bytes) -> bytes:
    _check_key(key)
    decryptor = Cipher(_3des(key), modes.CBC(bytes(BLOCK))).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def retail_mac(key: bytes, message: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES and padding method 2: DES-CBC under K_a over every
    block, the last one then decrypted under K_b and encrypted under K_a again."""
    _check_key(key)
    data = pad(message)
    ka = key[:8]
    head, last = data[:-BLOCK], data[-BLOCK:]
    chained = bytes(BLOCK)
    if head:
        cbc = Cipher(_des(ka), modes.CBC(bytes(BLOCK))).encryptor()
        chained = (cbc.update(head) + cbc.finalize())[-BLOCK:]
    # E_Ka(D_Kb(E_Ka(x))) is one two-key 3DES-EDE block operation.
    ede = Cipher(_3des(key), modes.ECB()).encryptor()
    return ede.update(bytes(a ^ b for a, b in zip(chained, last, strict=True))) + ede.finalize()


# -- data objects ------------------------------------------------------------------------------


def _do(tag: int, value: bytes) -> bytes:
    n = len(value)
    length = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else b"\x82" + n.to_bytes(2, "big")
    return bytes([tag]) + length + value


@dataclass(frozen=True)
class _Object:
    tag: int
    start: int  # where its tag is
    end: int  # just past its value
    value: bytes


def _objects(body: bytes, what: str) -> list[_Object]:
    """The secure messaging data objects of `body` (1-byte tags, definite lengths up to 82 xx xx)."""
    out: list[_Object] = []
    at = 0
    while at < len(body):
        tag = body[at]
        if at + 1 >= len(body):
            raise SmFormatError(f"{what}: DO {tag:02X} at byte {at}: no length byte")
        first = body[at + 1]
        if first < 0x80:
            size, header = first, 2
        elif first in (0x81, 0x82):
            count = first & 0x7F
            if at + 2 + count > len(body):
                raise SmFormatError(f"{what}: DO {tag:02X} at byte {at}: its length field runs past the end")
            size, header = int.from_bytes(body[at + 2 : at + 2 + count], "big"), 2 + count
        else:
            raise SmFormatError(f"{what}: DO {tag:02X} at byte {at}: length byte {first:02X} is not "
                                "a definite length of at most 2 bytes")
        end = at + header + size
        if end > len(body):
            raise SmFormatError(f"{what}: DO {tag:02X} at byte {at}: length runs past the end "
                                f"({size} bytes announced, {len(body) - at - header} follow)")
        out.append(_Object(tag, at, end, body[at + header : end]))
        at = end
    return out


def _split(objects: list[_Object], order: tuple[int, ...], what: str) -> dict[int, _Object]:
    """The objects by tag, each at most once and in `order`, the MAC last."""
    found: dict[int, _Object] = {}
    rank = -1
    for obj in objects:
        if obj.tag not in order:
            raise SmFormatError(f"{what}: unexpected DO {obj.tag:02X} at byte {obj.start}")
        if obj.tag in found or order.index(obj.tag) < rank:
            raise SmFormatError(f"{what}: DO {obj.tag:02X} at byte {obj.start} is out of order or repeated "
                                f"(expected {' '.join(f'{t:02X}' for t in order)})")
        rank = order.index(obj.tag)
        found[obj.tag] = obj
    if TAG_MAC not in found:
        raise MacError(f"{what} failed its MAC check: DO 8E missing")
    if len(found[TAG_MAC].value) != MAC_LENGTH:
        raise SmFormatError(f"{what}: DO 8E at byte {found[TAG_MAC].start} has "
                            f"{len(found[TAG_MAC].value)} bytes, {MAC_LENGTH} expected")
    return found


def _cryptogram(obj: _Object, what: str) -> bytes:
    value = obj.value
    if not value or value[0] != PADDING_INDICATOR:
        first = f"{value[0]:02X}" if value else "nothing"
        raise SmFormatError(f"{what}: DO 87 at byte {obj.start}: padding indicator {first}, 01 expected")
    if len(value) == 1 or (len(value) - 1) % BLOCK:
        raise SmFormatError(f"{what}: DO 87 at byte {obj.start}: a cryptogram of {len(value) - 1} bytes "
                            f"is not a whole number of {BLOCK}-byte blocks")
    return value[1:]


class _Keys:
    """The session keys and counter both sides share."""

    def __init__(self, k_enc: bytes, k_mac: bytes, ssc: bytes) -> None:
        _check_key(k_enc)
        _check_key(k_mac)
        if len(ssc) != SSC_LENGTH:
            raise ValueError(f"the send sequence counter has {SSC_LENGTH} bytes, this one has {len(ssc)}")
        self._k_enc, self._k_mac = bytes(k_enc), bytes(k_mac)
        self._ssc = int.from_bytes(ssc, "big")

    @property
    def ssc(self) -> bytes:
        return self._ssc.to_bytes(SSC_LENGTH, "big")

    def _next(self) -> bytes:
        self._ssc = (self._ssc + 1) % (1 << 8 * SSC_LENGTH)
        return self.ssc

    def _mac(self, ssc: bytes, message: bytes) -> bytes:
        return retail_mac(self._k_mac, ssc + message)

    def _seal(self, data: bytes) -> bytes:
        return _do(TAG_DATA, bytes([PADDING_INDICATOR]) + encrypt(self._k_enc, pad(data)))

    def _open(self, obj: _Object, what: str) -> bytes:
        try:
            return unpad(decrypt(self._k_enc, _cryptogram(obj, what)))
        except ValueError:
            raise SmFormatError(f"{what}: DO 87 at byte {obj.start}: the decrypted data has no "
                                "method 2 padding") from None

    def _check(self, ssc: bytes, covered: bytes, mac: _Object, what: str) -> None:
        """`mac` (DO 8E) must be the MAC of the SSC and `covered`, the bytes it protects."""
        if self._mac(ssc, covered) != mac.value:
            raise MacError(f"{what} failed its MAC check: DO 8E at byte {mac.start} does not match "
                           f"(SSC {to_hex(ssc)})")


def _unprotected_error(sw: int) -> bool:
    """A status word a card may send alone, ending secure messaging: a warning without data (63xx)
    or an error (64xx-6Fxx: 6987, 6988, 6982...). Success (9000) and warnings with data (62xx)
    must be protected, and anything else is not a status word at all."""
    return 0x63 <= sw >> 8 <= 0x6F


class SecureChannel(_Keys):
    """The terminal's side of a secure messaging session."""

    def wrap(self, command: bytes) -> bytes:
        """The protected form of a plain command APDU (cases 1 to 4; its data encrypted, its Le in
        DO 97); the protected command asks for 00 (all) bytes back."""
        try:
            plain = parse_apdu(command)
        except ApduError as exc:
            raise SmFormatError(f"the command to protect: {exc}") from None
        ssc = self._next()
        cla = plain.cla | SM_CLA_BITS
        header = bytes([cla, plain.ins, plain.p1, plain.p2])
        body = self._seal(plain.data) if plain.data else b""
        if plain.le is not None:
            le = plain.le
            body += _do(TAG_LE, bytes([le & 0xFF]) if le <= _SHORT_NE else (le & 0xFFFF).to_bytes(2, "big"))
        body += _do(TAG_MAC, self._mac(ssc, pad(header) + body))
        extended = len(body) > 255 or (plain.le is not None and plain.le > _SHORT_NE)
        protected = CommandApdu(cla, plain.ins, plain.p1, plain.p2, body,
                                _EXTENDED_NE if extended else _SHORT_NE, extended)
        return protected.to_bytes()

    def unwrap(self, response: bytes) -> bytes:
        """The plain answer (data + SW1 SW2 from DO 99) of a protected one. An error status word
        alone is returned as it is: the card ended secure messaging (6987, 6988, 6982...)."""
        ssc = self._next()
        what = "the card's answer"
        if len(response) < 2:
            raise SmFormatError(f"{what} has {len(response)} byte(s): no status word")
        body, sw = response[:-2], int.from_bytes(response[-2:], "big")
        if not body:
            if sw >> 8 == 0x61:
                raise SmFormatError(f"{what} is {sw:04X}: the protected answer must be collected with "
                                    "GET RESPONSE before it is checked")
            if not _unprotected_error(sw):
                raise MacError(f"{what} failed its MAC check: {sw:04X} came without DO 99 and DO 8E")
            return bytes(response)
        found = _split(_objects(body, what), (TAG_DATA, TAG_STATUS, TAG_MAC), what)
        self._check(ssc, body[: found[TAG_MAC].start], found[TAG_MAC], what)
        status = found.get(TAG_STATUS)
        if status is None:
            raise SmFormatError(f"{what}: DO 99 missing")
        if len(status.value) != 2:
            raise SmFormatError(f"{what}: DO 99 at byte {status.start} has {len(status.value)} bytes, "
                                "2 expected")
        data = self._open(found[TAG_DATA], what) if TAG_DATA in found else b""
        return data + status.value


class CardChannel(_Keys):
    """The card's side: checks and opens protected commands, protects answers."""

    def unwrap_command(self, protected: bytes) -> bytes:
        """The plain command a protected one carries; MacError or SmFormatError when it fails."""
        ssc = self._next()
        what = "the protected command"
        try:
            apdu = parse_apdu(protected)
        except ApduError as exc:
            raise SmFormatError(f"{what}: {exc}") from None
        if apdu.cla & SM_CLA_BITS != SM_CLA_BITS:
            raise SmFormatError(f"{what}: CLA {apdu.cla:02X} does not announce secure messaging "
                                "with an authenticated header (bits 0C)")
        found = _split(_objects(apdu.data, what), (TAG_DATA, TAG_LE, TAG_MAC), what)
        mac = found[TAG_MAC]
        self._check(ssc, pad(apdu.header) + apdu.data[: mac.start], mac, what)
        data = self._open(found[TAG_DATA], what) if TAG_DATA in found else b""
        le: int | None = None
        if TAG_LE in found:
            value = found[TAG_LE].value
            if len(value) not in (1, 2):
                raise SmFormatError(f"{what}: DO 97 at byte {found[TAG_LE].start} has {len(value)} bytes, "
                                    "1 or 2 expected")
            le = int.from_bytes(value, "big") or (_SHORT_NE if len(value) == 1 else _EXTENDED_NE)
        plain = CommandApdu(apdu.cla & ~SM_CLA_BITS & 0xFF, apdu.ins, apdu.p1, apdu.p2, data, le)
        try:
            return plain.to_bytes()
        except ApduError as exc:
            raise SmFormatError(f"{what}: the plain command: {exc}") from None

    def wrap_response(self, plain: bytes) -> bytes:
        """The protected answer to a plain one (data + SW1 SW2): DO 87 for the data, DO 99, DO 8E,
        and the plain status word after them."""
        if len(plain) < 2:
            raise ValueError("an answer ends with its 2-byte status word")
        ssc = self._next()
        data, sw = plain[:-2], plain[-2:]
        body = (self._seal(data) if data else b"") + _do(TAG_STATUS, sw)
        body += _do(TAG_MAC, self._mac(ssc, body))
        # 61xx and 6Cxx are transport words (more data, wrong Le) about the plain command: the
        # protected answer itself is complete, and its own transport must not take them literally.
        return body + (b"\x90\x00" if sw[0] in (0x61, 0x6C) else sw)
