"""BER/DER encoding for the profile generators, written here from ISO/IEC 8825-1 and not taken
from the app (a generator that shared the decoder's mistakes would hide them)."""

from __future__ import annotations


def tlv(tag: int, value: bytes) -> bytes:
    """One data object: the tag's own bytes, a definite length (short form, or 81/82/… long form)."""
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    else:
        body = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(body)]) + body
    return tag_bytes + length + value


def oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER (06) from its dotted form."""
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for number in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(number & 0x7F | 0x80)
            number >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def seq(*parts: bytes) -> bytes:
    """A SEQUENCE (30) of `parts`, already encoded."""
    return tlv(0x30, b"".join(parts))


def integer(value: int) -> bytes:
    """An INTEGER (02), two's complement in the fewest bytes that keep its sign."""
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))
