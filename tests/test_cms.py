"""CMS SignedData signer checks (explorer/apps/cms.py) on signatures made here with `cryptography`:
ECDSA as X9.62 writes it (DER) and as BSI TR-03111 writes it (r || s), RSA, a changed content."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from explorer.apps.cms import certificate, check_signer, read_signed_data, signed_digest
from explorer.apps.findings import Finding
from explorer.core.tlv import decode_tlv
from tests.profiles.der import integer, oid, seq, tlv

CONTENT = b"what the signer signed"
SHA256 = seq(oid("2.16.840.1.101.3.4.2.1"))
ALGORITHMS = {"ecdsa-with-SHA256": "1.2.840.10045.4.3.2", "ecdsa-plain-SHA256": "0.4.0.127.0.7.1.1.4.1.3",
              "sha256WithRSAEncryption": "1.2.840.113549.1.1.11"}


def _signed_data(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, algorithm: str, *,
                 plain: bool = False) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST signer")])
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(start).not_valid_after(start.replace(year=2030))
            .sign(key, hashes.SHA256()))
    attributes = (seq(oid("1.2.840.113549.1.9.3"), tlv(0x31, oid("1.2.840.113549.1.7.1")))
                  + seq(oid("1.2.840.113549.1.9.4"), tlv(0x31, tlv(0x04, hashlib.sha256(CONTENT).digest()))))
    to_sign = tlv(0x31, attributes)
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        if plain:
            r, s = decode_dss_signature(signature)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    signer = seq(integer(1), seq(cert.issuer.public_bytes(), integer(7)), SHA256, tlv(0xA0, attributes),
                 seq(oid(ALGORITHMS[algorithm])), tlv(0x04, signature))
    signed = seq(integer(1), tlv(0x31, SHA256), seq(oid("1.2.840.113549.1.7.1")),
                 tlv(0xA0, cert.public_bytes(serialization.Encoding.DER)), tlv(0x31, signer))
    return seq(oid("1.2.840.113549.1.7.2"), tlv(0xA0, signed))


def _check(data: bytes, content: bytes) -> tuple[bool, list[Finding]]:
    def locate(start: int, end: int, name: str, value: str = "", why: str = "",
               children: list[Finding] | tuple[Finding, ...] = ()) -> Finding:
        return Finding(name, value, why, None, data[start:end], False, tuple(children))

    signed = read_signed_data(decode_tlv(data).nodes[0])
    assert signed.econtent is None and signed.certificate is not None  # detached, as a CHUID's
    assert signed_digest(signed.signer) == ("sha256", hashlib.sha256(CONTENT).digest())
    cert, _ = certificate(data, locate, signed.certificate, "Signer certificate", "")
    return check_signer(data, locate, signed.signer, content, cert, "the content", "")


@pytest.mark.parametrize(("algorithm", "plain"), [("ecdsa-with-SHA256", False), ("ecdsa-plain-SHA256", True),
                                                  ("ecdsa-with-SHA256", True)])
def test_ecdsa_signatures_der_or_plain_are_checked(algorithm: str, plain: bool) -> None:
    data = _signed_data(ec.generate_private_key(ec.SECP256R1()), algorithm, plain=plain)
    valid, findings = _check(data, CONTENT)
    assert valid and findings[-1].value.startswith("valid (ECDSA")
    valid, findings = _check(data, CONTENT + b"!")
    assert not valid and findings[0].value == "digest does NOT match"


def test_an_rsa_signature_over_other_attributes_is_invalid() -> None:
    key = rsa.generate_private_key(65537, 2048)
    data = bytearray(_signed_data(key, "sha256WithRSAEncryption"))
    at = data.rindex(bytes.fromhex("06092A864886F70D010701"))  # in the signed content type attribute
    data[at + 10] ^= 0x01  # one bit of the signed attributes: the signature no longer covers them
    valid, findings = _check(bytes(data), CONTENT)
    assert not valid and findings[-1].value.startswith("INVALID (RSA PKCS#1 v1.5, SHA-256")
