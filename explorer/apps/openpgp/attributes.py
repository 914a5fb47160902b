"""Algorithm attributes (C1 signature, C2 decryption, C3 authentication; spec 4.4.3.9 and
4.4.3.10): RSA with its modulus and exponent sizes and import format, or an elliptic curve named
by its OID."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.findings import Finding
from explorer.apps.gp.oid import decode_oid
from explorer.apps.openpgp.constants import CURVES_BY_OID, Algorithm, Curve
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

RSA_IMPORT_FORMATS = {
    0x00: "standard (e, p, q)", 0x01: "standard with modulus (e, p, q, n)",
    0x02: "CRT (e, p, q, 1/q mod p, dp, dq)", 0x03: "CRT with modulus",
}
_ALGORITHM_TEXT = {
    Algorithm.RSA: "RSA", Algorithm.RSA_ENCRYPT_ONLY: "RSA (encrypt only)",
    Algorithm.RSA_SIGN_ONLY: "RSA (sign only)", Algorithm.ECDH: "ECDH", Algorithm.ECDSA: "ECDSA",
    Algorithm.EDDSA: "EdDSA",
}


@dataclass(frozen=True)
class Attributes:
    """What the fingerprint needs: the algorithm ID and, for ECC, the curve."""

    algorithm: int
    curve: Curve | None = None
    oid: bytes = b""
    modulus_bits: int = 0

    @property
    def text(self) -> str:
        name = algorithm_text(self.algorithm)
        if self.modulus_bits:
            return f"{name} {self.modulus_bits}"
        if self.curve is not None:
            return f"{name} {self.curve.title}"
        return name


def algorithm_text(number: int) -> str:
    try:
        return _ALGORITHM_TEXT[Algorithm(number)]
    except ValueError:
        return f"algorithm {number:02X}"


def parse_attributes(value: bytes) -> Attributes | None:
    if not value:
        return None
    algorithm = value[0]
    if algorithm in (Algorithm.RSA, Algorithm.RSA_ENCRYPT_ONLY, Algorithm.RSA_SIGN_ONLY):
        if len(value) < 5:
            return None
        return Attributes(algorithm, modulus_bits=int.from_bytes(value[1:3], "big"))
    if algorithm in (Algorithm.ECDH, Algorithm.ECDSA, Algorithm.EDDSA):
        oid = value[1:-1] if value[-1] == 0xFF and len(value) > 2 else value[1:]
        dotted = decode_oid(oid)
        if dotted is None:
            return None
        return Attributes(algorithm, CURVES_BY_OID.get(dotted), oid)
    return Attributes(algorithm)


def decode_attributes(answer: Answer, node: TlvNode, slot_label: str, *,
                      choice: bool = False) -> tuple[Finding, Attributes | None]:
    """C1-C3 decoded; `choice`: one of the algorithms the algorithm information (FA) lists."""
    start, value = node.offset + node.header_length, node.value
    name = slot_label if choice else f"Algorithm attributes, {slot_label.lower()}"
    parsed = parse_attributes(value)
    if parsed is None:
        return of_node(answer, node, name, to_hex(value),
                       "Not decoded: empty, cut short, or an OID that does not parse."), None
    children = [at(answer, start, start + 1, "Algorithm", f"{value[0]:02X} ({algorithm_text(value[0])})",
                   "the public-key algorithm ID of RFC 4880 9.1 / RFC 6637")]
    if parsed.modulus_bits:
        exponent = int.from_bytes(value[3:5], "big")
        children += [
            at(answer, start + 1, start + 3, "Modulus length", f"{parsed.modulus_bits} bits", "n's size"),
            at(answer, start + 3, start + 5, "Public exponent length", f"{exponent} bits",
               "e's size (65537 needs 17 bits; many cards say 32)"),
        ]
        if len(value) > 5:
            children.append(at(answer, start + 5, start + 6, "Import format", f"{value[5]:02X}",
                               RSA_IMPORT_FORMATS.get(value[5], "reserved value")))
    elif parsed.oid:
        dotted = decode_oid(parsed.oid) or ""
        curve = parsed.curve.title if parsed.curve else "a curve the specification does not name"
        children.append(at(answer, start + 1, start + 1 + len(parsed.oid), "Curve", f"{curve} ({dotted})",
                           "the curve's OID without its 06 tag and length, as 4.4.3.10 writes it"))
        if start + 1 + len(parsed.oid) < node.end:
            children.append(at(answer, node.end - 1, node.end, "Import format", "FF",
                               "the public key is imported with the private key"))
    why = (f"An algorithm the {slot_label.lower()} accepts." if choice
           else f"The algorithm the {slot_label.lower()} uses and its parameters.")
    return of_node(answer, node, name, parsed.text, why, children), parsed
