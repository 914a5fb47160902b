"""Text as a SIM stores it: the GSM 7-bit default alphabet one character a byte (3GPP TS 23.038
6.2.1, unpacked, bit 8 zero) and the alpha identifier codings of ETSI TS 102 221 annex A
(UCS2 after 80, and the 81/82 half-page forms)."""

from __future__ import annotations

_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_ESCAPE = 0x1B
_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~",
              0x3E: "]", 0x40: "|", 0x65: "€"}
assert len(_BASIC) == 128


def gsm7(data: bytes) -> str:
    """Unpacked GSM default alphabet, up to the first FF (padding)."""
    out: list[str] = []
    escaped = False
    for b in data:
        if b == 0xFF:
            break
        b &= 0x7F
        if escaped:
            out.append(_EXTENSION.get(b, " "))  # 23.038: an unknown extension shows as space
            escaped = False
        elif b == _ESCAPE:
            escaped = True
        else:
            out.append(_BASIC[b])
    return "".join(out)


def _ucs2(data: bytes) -> str:
    chars: list[str] = []
    for i in range(0, len(data) - 1, 2):
        code = data[i] << 8 | data[i + 1]
        if code == 0xFFFF:
            break
        chars.append(chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd")
    return "".join(chars)


def _half_page(data: bytes, base: int, start: int) -> str:
    n = data[1]
    out: list[str] = []
    for b in data[start : start + n]:
        out.append(chr(base + (b & 0x7F)) if b & 0x80 else gsm7(bytes([b])))
    return "".join(out)


def alpha(data: bytes) -> tuple[str, str]:
    """An alpha identifier and the coding it used."""
    if not data:
        return "", "empty"
    if data[0] == 0x80:
        return _ucs2(data[1:]), "UCS2 (first byte 80)"
    if data[0] == 0x81 and len(data) >= 3:
        return _half_page(data, data[2] << 7, 3), "UCS2 half page (81: base = byte 3 × 128)"
    if data[0] == 0x82 and len(data) >= 4:
        return _half_page(data, data[2] << 8 | data[3], 4), "UCS2 half page (82: 16-bit base)"
    return gsm7(data), "GSM 7-bit default alphabet, one character a byte"


def language_codes(data: bytes) -> list[tuple[int, str]]:
    """Two-character ISO 639 codes (EF.LI, EF.PL): (offset, code), FFFF entries skipped."""
    out: list[tuple[int, str]] = []
    for i in range(0, len(data) - 1, 2):
        pair = data[i : i + 2]
        if pair == b"\xff\xff":
            continue
        out.append((i, gsm7(pair)))
    return out
