"""EF.SOD (ICAO Doc 9303-10 4.6.2, 9303-11 5.1, 9303-12): a CMS SignedData (RFC 5652) holding the
LDS security object (a hash of each data group) signed by the document signer, whose certificate
it carries. Decoded with the project's BER-TLV decoder; the certificate read, the signature and
the hashes checked with `cryptography` and `hashlib`: never a hand-written primitive.

This is passive authentication WITHOUT the country signing CA: the data groups match what the
document signer signed, but whether that signer belongs to the issuing state is not checked (that
needs the state's CSCA certificate, which the analyzer does not have)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from explorer.apps.emrtd.constants import Tag
from explorer.apps.emrtd.lds import template
from explorer.apps.emrtd.reading import Content
from explorer.apps.findings import Finding
from explorer.apps.gp.oid import decode_oid
from explorer.apps.x509_keys import public_key_text
from explorer.core.tlv import TlvNode, decode_tlv

#: hash OID -> hashlib name (RFC 5754, 9303-12 table 6)
HASHES = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224", "2.16.840.1.101.3.4.2.1": "sha256",
          "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512"}
_CRYPTO_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(), "sha224": hashes.SHA224(), "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}
#: signature OID -> (scheme, hashlib name or None for "the signer's digest algorithm")
SIGNATURES: dict[str, tuple[str, str | None]] = {
    "1.2.840.113549.1.1.1": ("RSA PKCS#1 v1.5", None),
    "1.2.840.113549.1.1.5": ("RSA PKCS#1 v1.5", "sha1"),
    "1.2.840.113549.1.1.14": ("RSA PKCS#1 v1.5", "sha224"),
    "1.2.840.113549.1.1.11": ("RSA PKCS#1 v1.5", "sha256"),
    "1.2.840.113549.1.1.12": ("RSA PKCS#1 v1.5", "sha384"),
    "1.2.840.113549.1.1.13": ("RSA PKCS#1 v1.5", "sha512"),
    "1.2.840.113549.1.1.10": ("RSASSA-PSS", None),
    "1.2.840.10045.4.1": ("ECDSA", "sha1"),
    "1.2.840.10045.4.3.1": ("ECDSA", "sha224"),
    "1.2.840.10045.4.3.2": ("ECDSA", "sha256"),
    "1.2.840.10045.4.3.3": ("ECDSA", "sha384"),
    "1.2.840.10045.4.3.4": ("ECDSA", "sha512"),
}
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
_ATTRIBUTES = {"1.2.840.113549.1.9.3": "Content type", "1.2.840.113549.1.9.4": "Message digest",
               "1.2.840.113549.1.9.5": "Signing time"}
PASSIVE_AUTHENTICATION = (
    "Passive authentication WITHOUT the country signing CA: the data groups are checked against "
    "the hashes the document signer signed, and that signature against the document signer's "
    "certificate the SOD carries. Whether that certificate was issued by the issuing state's "
    "country signing CA is NOT checked: a forger can make a self-consistent SOD.")


class SodError(ValueError):
    """What in the SOD's structure is missing or wrong, in words."""


@dataclass(frozen=True)
class Sod:
    finding: Finding
    hash_name: str | None  # hashlib name of the LDS security object's algorithm
    hashes: dict[int, bytes]  # data group number -> hash
    signature_valid: bool


def _kids(node: TlvNode | None, *tags: int) -> list[TlvNode]:
    return [c for c in node.children if not tags or c.tag in tags] if node is not None else []


def _need(node: TlvNode | None, tag: int, what: str) -> TlvNode:
    if node is None or node.tag != tag:
        raise SodError(f"{what} missing or not where CMS puts it")
    return node


def _oid(node: TlvNode | None) -> str:
    oid = decode_oid(node.value) if node is not None and node.tag == 0x06 else None
    if oid is None:
        raise SodError("an object identifier is missing")
    return oid


def _integer(node: TlvNode) -> int:
    return int.from_bytes(node.value, "big", signed=True) if node.tag == 0x02 and node.value else -1


def pretty(hash_name: str) -> str:
    """sha256 as SHA-256."""
    return hash_name.upper().replace("SHA", "SHA-")


def _utc(value: bytes) -> str:
    """A UTCTime (YYMMDDHHMMSSZ) as 2024-01-02 03:04:05 UTC; anything else as it is."""
    text = value.decode("latin-1", "replace")
    if len(text) == 13 and text[:12].isdigit() and text.endswith("Z"):
        year = int(text[:2])
        century = "19" if year >= 50 else "20"  # RFC 5280 4.1.2.5.1
        return f"{century}{text[:2]}-{text[2:4]}-{text[4:6]} {text[6:8]}:{text[8:10]}:{text[10:12]} UTC"
    return text


def _hash_of(oid: str) -> str:
    name = HASHES.get(oid)
    if name is None:
        raise SodError(f"hash algorithm {oid} is not one 9303 names")
    return name


def _certificate(content: Content, node: TlvNode) -> tuple[x509.Certificate | None, Finding]:
    der = content.data[node.offset:node.end]
    try:
        cert = x509.load_der_x509_certificate(der)
        subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
        key = public_key_text(cert.public_key())
    except (ValueError, UnsupportedAlgorithm) as exc:
        return None, content.at(node.offset, node.end, "Document signer certificate", "not decoded",
                                f"{exc}")
    parts = [Finding("Subject", subject), Finding("Issuer", issuer),
             Finding("Serial number", f"{cert.serial_number:X}"),
             Finding("Valid from", cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M:%S UTC")),
             Finding("Valid until", cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S UTC")),
             Finding("Public key", key)]
    return cert, content.at(node.offset, node.end, "Document signer certificate", subject,
                            "The certificate of the key that signed the SOD, issued by the state's "
                            "country signing CA (not checked here).", parts)


def _lds_object(content: Content, econtent: TlvNode) -> tuple[str, dict[int, bytes], Finding]:
    start = econtent.offset + econtent.header_length
    result = decode_tlv(econtent.value, offset=start)
    top = _need(result.nodes[0] if result.nodes else None, 0x30, "the LDS security object")
    items = top.children
    if len(items) < 3:
        raise SodError("the LDS security object has fewer than its three parts")
    algorithm = _need(items[1], 0x30, "the LDS security object's hash algorithm")
    name = _hash_of(_oid(algorithm.children[0] if algorithm.children else None))
    found: dict[int, bytes] = {}
    parts = [content.at(items[0].offset, items[0].end, "Version", str(_integer(items[0]))),
             content.at(algorithm.offset, algorithm.end, "Hash algorithm", pretty(name))]
    for pair in _kids(items[2], 0x30):
        number, value = (*pair.children, None, None)[:2]
        if number is None or value is None or number.tag != 0x02 or value.tag != 0x04:
            continue
        dg = _integer(number)
        found[dg] = value.value
        parts.append(content.at(pair.offset, pair.end, f"DG{dg} hash", value.value.hex().upper()))
    if len(items) > 3 and items[3].tag == 0x30:
        versions = [c.value.decode("latin-1", "replace") for c in items[3].children]
        parts.append(content.at(items[3].offset, items[3].end, "LDS version info", " / ".join(versions)))
    return name, found, content.at(top.offset, top.end, "LDS security object",
                                   f"{len(found)} data group hash(es), {pretty(name)}",
                                   "What the document signer signed: a hash of each data group "
                                   "(9303-10 4.6.2.2).", parts)


def _verify(key: object, signature: bytes, data: bytes, scheme: str, hash_name: str,
            pss_salt: int) -> None:
    algorithm = _CRYPTO_HASHES[hash_name]
    if isinstance(key, rsa.RSAPublicKey) and scheme == "RSA PKCS#1 v1.5":
        key.verify(signature, data, padding.PKCS1v15(), algorithm)
    elif isinstance(key, rsa.RSAPublicKey) and scheme == "RSASSA-PSS":
        key.verify(signature, data, padding.PSS(padding.MGF1(algorithm), pss_salt), algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey) and scheme == "ECDSA":
        key.verify(signature, data, ec.ECDSA(algorithm))
    else:
        raise InvalidSignature(f"a {public_key_text(key)} key cannot make a {scheme} signature")


def _pss(params: TlvNode | None) -> tuple[str, int]:
    """RSASSA-PSS-params (RFC 4055): [0] hash algorithm (default SHA-1), [2] salt length (20)."""
    hash_name, salt = "sha1", 20
    for child in _kids(params):
        if child.tag == 0xA0 and child.children and child.children[0].children:
            hash_name = _hash_of(_oid(child.children[0].children[0]))
        elif child.tag == 0xA2 and child.children:
            salt = _integer(child.children[0])
    return hash_name, salt


def _signer(content: Content, info: TlvNode, econtent: bytes,
            cert: x509.Certificate | None) -> tuple[bool, list[Finding]]:
    kids = info.children
    digest = next((k for k in kids[2:3] if k.tag == 0x30), None)
    digest_name = _hash_of(_oid(digest.children[0] if digest and digest.children else None))
    attrs = next((k for k in kids if k.tag == 0xA0), None)
    after = kids[kids.index(attrs) + 1:] if attrs is not None else kids[3:]
    if len(after) < 2 or after[0].tag != 0x30 or after[1].tag != 0x04:
        raise SodError("the signer info has no signature algorithm and signature")
    algorithm, signature = after[0], after[1]
    sig_oid = _oid(algorithm.children[0] if algorithm.children else None)
    scheme, sig_hash = SIGNATURES.get(sig_oid, (sig_oid, None))
    pss_salt = 0
    if scheme == "RSASSA-PSS":
        sig_hash, pss_salt = _pss(algorithm.children[1] if len(algorithm.children) > 1 else None)
    hash_name = sig_hash or digest_name
    out: list[Finding] = []
    signed = econtent
    if attrs is not None:
        parts: list[Finding] = []
        digest_ok = False
        for attr in _kids(attrs, 0x30):
            oid = _oid(attr.children[0] if attr.children else None)
            values = attr.children[1].children if len(attr.children) > 1 else ()
            first = values[0] if values else None
            name = _ATTRIBUTES.get(oid, oid)
            if name == "Message digest" and first is not None:
                digest_ok = first.value == hashlib.new(digest_name, econtent).digest()
                parts.append(content.at(attr.offset, attr.end, name, first.value.hex().upper(),
                                        f"The {pretty(digest_name)} of the LDS security object: "
                                        + ("it matches." if digest_ok else "it does NOT match.")))
            elif name == "Signing time" and first is not None:
                parts.append(content.at(attr.offset, attr.end, name, _utc(first.value)))
            elif name == "Content type" and first is not None:
                parts.append(content.at(attr.offset, attr.end, name, decode_oid(first.value) or "?"))
            else:
                parts.append(content.at(attr.offset, attr.end, "Attribute", oid))
        out.append(content.at(attrs.offset, attrs.end, "Signed attributes",
                              "digest matches" if digest_ok else "digest does NOT match",
                              "What the signature covers: the LDS security object through its digest "
                              "(RFC 5652 5.4).", parts))
        # RFC 5652 5.4: the signature covers the attributes DER-encoded as a SET (tag 31), not [0].
        signed = b"\x31" + content.data[attrs.offset + 1:attrs.end]
        if not digest_ok:
            out.append(Finding("Signature", "not checked", "The signed digest does not match the LDS "
                               "security object."))
            return False, out
    if cert is None:
        out.append(Finding("Signature", "not checked", "No document signer certificate to check it with."))
        return False, out
    try:
        _verify(cert.public_key(), signature.value, signed, scheme, hash_name, pss_salt)
        valid, said = True, f"valid ({scheme}, {pretty(hash_name)}, the document signer's key)"
    except InvalidSignature as exc:
        valid, said = False, f"INVALID ({scheme}, {pretty(hash_name)}{': ' + str(exc) if str(exc) else ''})"
    except (ValueError, UnsupportedAlgorithm, KeyError) as exc:
        valid, said = False, f"not checked ({exc})"
    out.append(content.at(signature.offset, signature.end, "Signature", said, PASSIVE_AUTHENTICATION))
    return valid, out


def _parse(content: Content, node: TlvNode) -> Sod:
    info = _need(node.children[0] if node.children else None, 0x30, "the CMS ContentInfo")
    if _oid(info.children[0] if info.children else None) != ID_SIGNED_DATA:
        raise SodError("the ContentInfo is not a SignedData")
    wrapper = _need(info.children[1] if len(info.children) > 1 else None, 0xA0, "the SignedData")
    signed = _need(wrapper.children[0] if wrapper.children else None, 0x30, "the SignedData")
    parts = signed.children
    encap = _need(parts[2] if len(parts) > 2 else None, 0x30, "the encapsulated content")
    if _oid(encap.children[0] if encap.children else None) != ID_LDS_SECURITY_OBJECT:
        raise SodError("the signed content is not an LDS security object (2.23.136.1.1.1)")
    explicit = _need(encap.children[1] if len(encap.children) > 1 else None, 0xA0, "the content")
    econtent = _need(explicit.children[0] if explicit.children else None, 0x04, "the content")
    hash_name, found, lds = _lds_object(content, econtent)
    certs = next((p for p in parts[3:] if p.tag == 0xA0), None)
    cert, cert_finding = (None, Finding("Document signer certificate", "absent",
                                        "The SOD carries no certificate."))
    if certs is not None and certs.children:
        cert, cert_finding = _certificate(content, certs.children[0])
    infos = _need(parts[-1], 0x31, "the signer infos")
    signer = _need(infos.children[0] if infos.children else None, 0x30, "the signer info")
    valid, signer_findings = _signer(content, signer, econtent.value, cert)
    children = [lds, cert_finding, *signer_findings,
                Finding("Passive authentication", "without the country signing CA", PASSIVE_AUTHENTICATION)]
    value = "signature valid" if valid else "signature NOT valid"
    return Sod(content.at(node.offset, node.end, "EF.SOD", value, "The document security object: a "
                          "CMS SignedData (9303-10 4.6.2).", children), hash_name, found, valid)


def decode_sod(content: Content) -> Sod:
    node, problem = template(content, Tag.SOD, "EF.SOD")
    if node is None:
        assert problem is not None
        return Sod(problem, None, {}, False)
    try:
        return _parse(content, node)
    except SodError as exc:
        why = str(exc)
        if problem is not None:
            why += f" ({problem.value})"
        return Sod(content.at(node.offset, node.end, "EF.SOD", "not decoded", why[:1].upper() + why[1:]
                              + "."), None, {}, False)


def check_hashes(sod: Sod, groups: dict[int, bytes], partial: Sequence[int] = ()) -> Finding:
    """Every data group read hashed and compared with the SOD: "DG2: hash does not match the SOD".
    `partial`: data groups not read whole, so not checked (and said so)."""
    if sod.hash_name is None:
        return Finding("Data group hashes", "not checked", "No readable LDS security object.")
    results: list[Finding] = []
    bad: list[str] = []
    for number, data in sorted(groups.items()):
        expected = sod.hashes.get(number)
        if expected is None:
            results.append(Finding(f"DG{number}", "not in the SOD", "The SOD has no hash for it."))
            bad.append(f"DG{number}: not in the SOD")
            continue
        actual = hashlib.new(sod.hash_name, data).digest()
        if actual == expected:
            results.append(Finding(f"DG{number}", "hash OK", f"{pretty(sod.hash_name)} "
                                   f"{actual.hex().upper()} as the SOD says."))
        else:
            results.append(Finding(f"DG{number}", "hash does not match the SOD",
                                   f"Read: {actual.hex().upper()}; the SOD: {expected.hex().upper()}. "
                                   "The data group was changed after signing, or read wrong."))
            bad.append(f"DG{number}: hash does not match the SOD")
    for number in partial:
        results.append(Finding(f"DG{number}", "not checked", "It was not read whole: its hash cannot "
                               "be compared."))
        bad.append(f"DG{number}: not read whole")
    value = "; ".join(bad) if bad else f"all {len(results)} match"
    return Finding("Data group hashes", value, "Each data group read, hashed with the SOD's "
                   f"algorithm ({pretty(sod.hash_name)}) and compared.", children=tuple(results))
