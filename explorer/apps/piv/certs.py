"""X.509 certificate objects (SP 800-73-4 Part 1 Table 10 and the ones like it): 70 the
certificate, 71 CertInfo (bit 0: gzip-compressed), FE the error detection code. The certificate is
read with `cryptography`; a compressed one is inflated with a bound on its size first."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from explorer.apps.findings import Finding, Source
from explorer.apps.piv.constants import CERT_INFO_COMPRESSED, CertTag
from explorer.apps.piv.fields import error_detection, hex_value, unknown
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.apps.x509_keys import certificate_key_text
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

#: A certificate inflated past this is refused: a PIV container holds a few KB at most.
MAX_CERTIFICATE = 64 * 1024
#: zlib's window bits for "gzip or zlib header, whichever it is".
_AUTO_HEADER = 32 + 15


class InflateError(ValueError):
    pass


def inflate(data: bytes, limit: int = MAX_CERTIFICATE) -> bytes:
    """A gzip (or zlib) stream inflated, never past `limit` bytes."""
    inflater = zlib.decompressobj(_AUTO_HEADER)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise InflateError(f"not a gzip stream ({exc})") from None
    if len(out) > limit:
        raise InflateError(f"it inflates to more than {limit} bytes")
    if not inflater.eof:
        raise InflateError("the gzip stream is cut short")
    return out


@dataclass(frozen=True)
class CertSummary:
    """What the analyzer shows of a certificate, and what a test compares with OpenSC."""

    subject: str
    issuer: str
    serial: int
    not_before: str
    not_after: str
    key: str
    sha256: str


def summarize(der: bytes) -> CertSummary:
    """ValueError when `der` is not a certificate cryptography can read."""
    cert = x509.load_der_x509_certificate(der)
    try:
        subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
    except ValueError as exc:  # a name with an attribute value of the wrong type
        raise ValueError(f"its names cannot be read ({exc})") from None
    return CertSummary(subject, issuer, cert.serial_number,
                       cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
                       cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
                       certificate_key_text(cert), cert.fingerprint(hashes.SHA256()).hex().upper())


def _serial_text(serial: int) -> str:
    raw = serial.to_bytes(max(1, (serial.bit_length() + 8) // 8), "big", signed=False)
    return to_hex(raw.lstrip(b"\x00") or b"\x00")


def _details(summary: CertSummary, where: Source | None, raw: bytes) -> list[Finding]:
    """The certificate's fields; each points at the whole certificate's bytes (a DER field's place
    is not something the parser says)."""
    def one(name: str, value: str, why: str) -> Finding:
        return Finding(name, value, why, where, raw)
    return [
        one("Subject", summary.subject, "who the certificate is for (RFC 4514)"),
        one("Issuer", summary.issuer, "who signed it"),
        one("Serial number", _serial_text(summary.serial), f"the issuer's number for it ({summary.serial})"),
        one("Not before", summary.not_before, "valid from"),
        one("Not after", summary.not_after, "valid until"),
        one("Public key", summary.key, "the slot's public key, as the certificate holds it"),
        one("SHA-256 fingerprint", to_hex(bytes.fromhex(summary.sha256)), "the hash of the whole DER "
            "certificate, as tools show it"),
    ]


def decode_certificate_object(answer: Answer, node: TlvNode, name: str) -> tuple[Finding, CertSummary | None]:
    """The certificate container (53) of one slot, and its summary when the certificate was read."""
    inner: list[Finding] = []
    cert_node: TlvNode | None = None
    compressed = False
    for c in node.children:
        if c.tag == CertTag.CERTIFICATE:
            cert_node = c
        elif c.tag == CertTag.CERT_INFO:
            info = c.value[0] if len(c.value) == 1 else 0
            compressed = bool(info & CERT_INFO_COMPRESSED)
            inner.append(hex_value(answer, c, "CertInfo", "gzip-compressed (bit 0 set)" if compressed
                                   else "not compressed"))
        elif c.tag == CertTag.MSCUID:
            inner.append(hex_value(answer, c, "MSCUID", "deprecated"))
        elif c.tag == CertTag.ERROR_DETECTION:
            inner.append(error_detection(answer, c))
        else:
            inner.append(unknown(answer, c, "the certificate object"))
    if cert_node is None:
        return of_node(answer, node, name, "no certificate", "the container has no 70", inner), None
    der = cert_node.value
    where = Source(answer.index, cert_node.offset, cert_node.end)
    raw = answer.data[cert_node.offset : cert_node.end]
    try:
        if compressed:
            der = inflate(der)
        summary = summarize(der)
    except ValueError as exc:
        why = f"the certificate{' (compressed)' if compressed else ''} cannot be read: {exc}"
        size = f"{len(cert_node.value)} bytes, unreadable"
        inner.insert(0, of_node(answer, cert_node, "Certificate", size, why))
        return of_node(answer, node, name, "unreadable certificate", why, inner), None
    what = f"{len(cert_node.value)} bytes" + (f", {len(der)} inflated" if compressed else "")
    inner.insert(0, at(answer, cert_node.offset, cert_node.end, "Certificate", what,
                       "the X.509 certificate" + (" (gzip-compressed)" if compressed else " (DER)"),
                       _details(summary, where, raw)))
    return (of_node(answer, node, name, summary.subject or "(empty subject)",
                    f"{summary.key}; issued by {summary.issuer}", inner), summary)
