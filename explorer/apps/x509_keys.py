"""A certificate's public key in words ("RSA 2048 bits", "EC secp256r1 (256 bits)"), the same for
every card application that shows certificates (PIV slots, OpenPGP's cardholder certificate, a
passport's document signer)."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa


def public_key_text(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name} ({key.key_size} bits)"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size} bits"
    return type(key).__name__


def certificate_key_text(cert: x509.Certificate) -> str:
    """The certificate's key in words, or why it cannot be read (never raises)."""
    try:
        return public_key_text(cert.public_key())
    except (ValueError, UnsupportedAlgorithm) as exc:
        return f"unreadable ({cert.public_key_algorithm_oid.dotted_string}: {exc})"
