"""Object identifiers as card data carries them (the value of tag 06), in dotted form."""

from __future__ import annotations


def decode_oid(value: bytes) -> str | None:
    """The dotted form of a BER-encoded OID value, or None when it is cut short or empty. A
    subidentifier padded with leading 80 bytes is read anyway: cards send such (GPPro meets
    "SCP80 i=00" as ...04 80 00), and the dotted form still says what it is."""
    if not value or value[-1] & 0x80:
        return None
    arcs: list[int] = []
    current = 0
    for byte in value:
        current = current << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(current)
            current = 0
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


def encode_oid(dotted: str) -> bytes:
    """The BER value of a dotted OID (for tests and profiles written by hand)."""
    arcs = [int(part) for part in dotted.split(".")]
    numbers = [40 * arcs[0] + arcs[1], *arcs[2:]]
    out = bytearray()
    for number in numbers:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(number & 0x7F | 0x80)
            number >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)
