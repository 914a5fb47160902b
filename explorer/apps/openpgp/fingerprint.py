"""OpenPGP v4 fingerprints of a card's public keys (RFC 4880 12.2): SHA-1 over 99, the packet
body's two-byte length and the body of the public key packet (5.5.2): version 4, the creation
time (the card's CD), the algorithm ID, then the key material as MPIs (3.2) — for ECC the curve
OID with its length byte, the point, and for ECDH the KDF parameters (RFC 6637 9)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes

from explorer.apps.openpgp.attributes import Attributes
from explorer.apps.openpgp.constants import Algorithm, Curve

_NATIVE_PREFIX = 0x40
#: Native point sizes: a card sends these bare, OpenPGP writes them behind the 40 prefix.
_NATIVE_SIZES = {Curve.ED25519: 32, Curve.CV25519: 32, Curve.ED448: 57, Curve.X448: 56}


@dataclass(frozen=True)
class KeyMaterial:
    """A public key as GENERATE ASYMMETRIC KEY PAIR gives it (7F49): RSA n and e, or an ECC point."""

    modulus: bytes = b""
    exponent: bytes = b""
    point: bytes = b""


class FingerprintError(ValueError):
    """The key material and the attributes do not make a public key packet (said why)."""


def mpi(value: bytes) -> bytes:
    """An MPI: the bit count on two bytes, then the number without leading zero bytes."""
    stripped = value.lstrip(b"\x00")
    bits = int.from_bytes(stripped, "big").bit_length()
    return bits.to_bytes(2, "big") + stripped


def openpgp_point(curve: Curve | None, point: bytes) -> bytes:
    """The point as OpenPGP writes it: native curves (25519, 448) behind a 40 prefix, which cards
    leave out; the others in SEC1 form, as cards send them (04 x y)."""
    if curve is not None and len(point) == _NATIVE_SIZES.get(curve):
        return bytes([_NATIVE_PREFIX]) + point
    return point


def packet_body(attributes: Attributes, created: int, key: KeyMaterial) -> bytes:
    """The v4 public key packet body; FingerprintError when the parts do not fit together."""
    head = bytes([4]) + created.to_bytes(4, "big") + bytes([attributes.algorithm])
    if attributes.algorithm in (Algorithm.RSA, Algorithm.RSA_ENCRYPT_ONLY, Algorithm.RSA_SIGN_ONLY):
        if not key.modulus or not key.exponent:
            raise FingerprintError("an RSA key needs its modulus (81) and exponent (82)")
        return head + mpi(key.modulus) + mpi(key.exponent)
    if attributes.algorithm in (Algorithm.ECDH, Algorithm.ECDSA, Algorithm.EDDSA):
        if not key.point:
            raise FingerprintError("an ECC key needs its point (86)")
        if not attributes.oid:
            raise FingerprintError("the algorithm attributes name no curve")
        point = mpi(openpgp_point(attributes.curve, key.point))
        body = head + bytes([len(attributes.oid)]) + attributes.oid + point
        if attributes.algorithm == Algorithm.ECDH:
            if attributes.curve is None:
                raise FingerprintError("ECDH on a curve without known KDF parameters")
            # KDF parameters: length 3, version 1, hash ID, cipher ID: the curve's defaults.
            body += bytes([3, 1, attributes.curve.hash_id, attributes.curve.cipher_id])
        return body
    raise FingerprintError(f"algorithm {attributes.algorithm:02X} has no known key packet")


def v4_fingerprint(body: bytes) -> bytes:
    if len(body) > 0xFFFF:
        raise FingerprintError("the key packet is too long for a v4 fingerprint")
    digest = hashes.Hash(hashes.SHA1())
    digest.update(b"\x99" + len(body).to_bytes(2, "big") + body)
    return digest.finalize()
