"""CMS SignedData (RFC 5652) as cards carry it: a passport's EF.SOD (the LDS security object,
encapsulated) and a PIV card's CHUID signature (detached: the signed content is the CHUID itself).
Decoded with the project's BER-TLV decoder; the certificate read and the signature checked with
`cryptography`, the digests with `hashlib`: never a hand-written primitive.

The findings point at the bytes they came from through `Locate`, which each card application
gives (a passport's file spans answers, a PIV object is one answer's data)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from explorer.apps.findings import Finding
from explorer.apps.gp.oid import decode_oid
from explorer.apps.x509_keys import public_key_text
from explorer.core.tlv import TlvNode, decode_tlv

#: hash OID -> hashlib name (RFC 5754; 9303-12 table 6; SP 800-78-4)
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
    # BSI TR-03111 ecdsa-plain-signatures: r || s as two fixed-size integers, not DER (some
    # passports' document signers use them).
    "0.4.0.127.0.7.1.1.4.1.1": ("ECDSA plain", "sha1"),
    "0.4.0.127.0.7.1.1.4.1.2": ("ECDSA plain", "sha224"),
    "0.4.0.127.0.7.1.1.4.1.3": ("ECDSA plain", "sha256"),
    "0.4.0.127.0.7.1.1.4.1.4": ("ECDSA plain", "sha384"),
    "0.4.0.127.0.7.1.1.4.1.5": ("ECDSA plain", "sha512"),
}
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_SIGNING_TIME = "1.2.840.113549.1.9.5"
_ATTRIBUTES = {_CONTENT_TYPE: "Content type", _MESSAGE_DIGEST: "Message digest",
               _SIGNING_TIME: "Signing time", "2.16.840.1.101.3.6.5": "PIV signer DN",
               "2.16.840.1.101.3.6.6": "PIV FASC-N"}

#: A finding for bytes start..end of the signed object: (start, end, name, value, explanation, children).
Locate = Callable[..., Finding]


class CmsError(ValueError):
    """What in the SignedData's structure is missing or wrong, in words."""


@dataclass(frozen=True)
class SignedData:
    content_type: str  # the eContentType's OID
    econtent: TlvNode | None  # the encapsulated content's OCTET STRING; None when detached
    certificate: TlvNode | None  # the first certificate carried, if any
    signer: TlvNode  # the first SignerInfo


def kids(node: TlvNode | None, *tags: int) -> list[TlvNode]:
    return [c for c in node.children if not tags or c.tag in tags] if node is not None else []


def need(node: TlvNode | None, tag: int, what: str) -> TlvNode:
    if node is None or node.tag != tag:
        raise CmsError(f"{what} missing or not where CMS puts it")
    return node


def oid_of(node: TlvNode | None) -> str:
    oid = decode_oid(node.value) if node is not None and node.tag == 0x06 else None
    if oid is None:
        raise CmsError("an object identifier is missing")
    return oid


def integer(node: TlvNode) -> int:
    return int.from_bytes(node.value, "big", signed=True) if node.tag == 0x02 and node.value else -1


def pretty(hash_name: str) -> str:
    """sha256 as SHA-256."""
    return hash_name.upper().replace("SHA", "SHA-")


def hash_of(oid: str) -> str:
    name = HASHES.get(oid)
    if name is None:
        raise CmsError(f"hash algorithm {oid} is not one these specifications name")
    return name


def _utc(value: bytes) -> str:
    """A UTCTime (YYMMDDHHMMSSZ) as 2024-01-02 03:04:05 UTC; anything else as it is."""
    text = value.decode("latin-1", "replace")
    if len(text) == 13 and text[:12].isdigit() and text.endswith("Z"):
        year = int(text[:2])
        century = "19" if year >= 50 else "20"  # RFC 5280 4.1.2.5.1
        return f"{century}{text[:2]}-{text[2:4]}-{text[4:6]} {text[6:8]}:{text[8:10]}:{text[10:12]} UTC"
    return text


def read_signed_data(content_info: TlvNode) -> SignedData:
    """The parts of a ContentInfo { signedData, [0] SignedData } a check needs; CmsError if not one."""
    info = need(content_info, 0x30, "the CMS ContentInfo")
    if oid_of(info.children[0] if info.children else None) != ID_SIGNED_DATA:
        raise CmsError("the ContentInfo is not a SignedData")
    wrapper = need(info.children[1] if len(info.children) > 1 else None, 0xA0, "the SignedData")
    signed = need(wrapper.children[0] if wrapper.children else None, 0x30, "the SignedData")
    parts = signed.children
    encap = need(parts[2] if len(parts) > 2 else None, 0x30, "the encapsulated content")
    content_type = oid_of(encap.children[0] if encap.children else None)
    econtent = None
    if len(encap.children) > 1:
        explicit = need(encap.children[1], 0xA0, "the content")
        econtent = need(explicit.children[0] if explicit.children else None, 0x04, "the content")
    certs = next((p for p in parts[3:] if p.tag == 0xA0), None)
    infos = need(parts[-1], 0x31, "the signer infos")
    signer = need(infos.children[0] if infos.children else None, 0x30, "the signer info")
    return SignedData(content_type, econtent, certs.children[0] if certs and certs.children else None, signer)


def signed_data_in(holder: TlvNode) -> SignedData:
    """The SignedData whose ContentInfo is the value of `holder` (a card's own tag around it, as
    PIV's 3E and BB); offsets stay those of the buffer `holder` was read from."""
    decoded = decode_tlv(holder.value, offset=holder.offset + holder.header_length)
    if decoded.error is not None or not decoded.nodes:
        raise CmsError(f"not BER-TLV: {decoded.error}")
    return read_signed_data(decoded.nodes[0])


def certificate(data: bytes, locate: Locate, node: TlvNode, title: str,
                explanation: str) -> tuple[x509.Certificate | None, Finding]:
    """The signer's certificate (`node`, in `data`) read, as a finding named `title`."""
    try:
        cert = x509.load_der_x509_certificate(data[node.offset:node.end])
        subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
        key = public_key_text(cert.public_key())
    except (ValueError, UnsupportedAlgorithm) as exc:
        return None, locate(node.offset, node.end, title, "not decoded", f"{exc}")
    parts = [Finding("Subject", subject), Finding("Issuer", issuer),
             Finding("Serial number", f"{cert.serial_number:X}"),
             Finding("Valid from", cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M:%S UTC")),
             Finding("Valid until", cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S UTC")),
             Finding("Public key", key)]
    return cert, locate(node.offset, node.end, title, subject, explanation, parts)


def signed_digest(info: TlvNode) -> tuple[str, bytes | None]:
    """The signer's digest algorithm (hashlib name) and the message digest its signed attributes
    hold (None without them): what the signed content must hash to."""
    digest = next((k for k in info.children[2:3] if k.tag == 0x30), None)
    name = hash_of(oid_of(digest.children[0] if digest and digest.children else None))
    attrs = next((k for k in info.children if k.tag == 0xA0), None)
    for attr in kids(attrs, 0x30):
        values = attr.children[1].children if len(attr.children) > 1 else ()
        if attr.children and oid_of(attr.children[0]) == _MESSAGE_DIGEST and values:
            return name, values[0].value
    return name, None


def _verify(key: object, signature: bytes, data: bytes, scheme: str, hash_name: str,
            pss_salt: int) -> None:
    algorithm = _CRYPTO_HASHES[hash_name]
    if isinstance(key, rsa.RSAPublicKey) and scheme == "RSA PKCS#1 v1.5":
        key.verify(signature, data, padding.PKCS1v15(), algorithm)
    elif isinstance(key, rsa.RSAPublicKey) and scheme == "RSASSA-PSS":
        key.verify(signature, data, padding.PSS(padding.MGF1(algorithm), pss_salt), algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey) and scheme in ("ECDSA", "ECDSA plain"):
        if scheme == "ECDSA plain" or not signature.startswith(b"\x30"):
            # r || s (TR-03111 5.2.1), also seen under the X9.62 OIDs: DER-encoded for the check.
            half = len(signature) // 2
            if len(signature) % 2 or not half:
                raise InvalidSignature(f"a plain ECDSA signature of {len(signature)} bytes is not r || s")
            signature = encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                             int.from_bytes(signature[half:], "big"))
        key.verify(signature, data, ec.ECDSA(algorithm))
    else:
        raise InvalidSignature(f"a {public_key_text(key)} key cannot make a {scheme} signature")


def _pss(params: TlvNode | None) -> tuple[str, int]:
    """RSASSA-PSS-params (RFC 4055): [0] hash algorithm (default SHA-1), [2] salt length (20)."""
    hash_name, salt = "sha1", 20
    for child in kids(params):
        if child.tag == 0xA0 and child.children and child.children[0].children:
            hash_name = hash_of(oid_of(child.children[0].children[0]))
        elif child.tag == 0xA2 and child.children:
            salt = integer(child.children[0])
    return hash_name, salt


def _attribute(locate: Locate, attr: TlvNode, content: bytes, digest_name: str,
               what: str) -> tuple[Finding, bool | None]:
    """One signed attribute as a finding; for the message digest, whether it matches `content`."""
    oid = oid_of(attr.children[0] if attr.children else None)
    values = attr.children[1].children if len(attr.children) > 1 else ()
    first = values[0] if values else None
    name = _ATTRIBUTES.get(oid, oid)
    if oid == _MESSAGE_DIGEST and first is not None:
        ok = first.value == hashlib.new(digest_name, content).digest()
        said = "it matches." if ok else "it does NOT match."
        return locate(attr.offset, attr.end, name, first.value.hex().upper(),
                      f"The {pretty(digest_name)} of {what}: {said}"), ok
    if oid == _SIGNING_TIME and first is not None:
        return locate(attr.offset, attr.end, name, _utc(first.value)), None
    if oid == _CONTENT_TYPE and first is not None:
        return locate(attr.offset, attr.end, name, decode_oid(first.value) or "?"), None
    if name == oid:
        return locate(attr.offset, attr.end, "Attribute", oid), None
    return locate(attr.offset, attr.end, name, ""), None


def check_signer(data: bytes, locate: Locate, info: TlvNode, content: bytes, cert: x509.Certificate | None,
                 what: str, footnote: str) -> tuple[bool, list[Finding]]:
    """The SignerInfo `info` (in `data`) checked over `content` (`what` it is, in words) with
    `cert`'s key: its signed attributes, their message digest, the signature. `footnote` explains
    the signature's finding (what the check does not prove). Returns (valid, findings)."""
    found = info.children
    digest_name, _ = signed_digest(info)
    attrs = next((k for k in found if k.tag == 0xA0), None)
    after = found[found.index(attrs) + 1:] if attrs is not None else found[3:]
    if len(after) < 2 or after[0].tag != 0x30 or after[1].tag != 0x04:
        raise CmsError("the signer info has no signature algorithm and signature")
    algorithm, signature = after[0], after[1]
    sig_oid = oid_of(algorithm.children[0] if algorithm.children else None)
    scheme, sig_hash = SIGNATURES.get(sig_oid, (sig_oid, None))
    pss_salt = 0
    if scheme == "RSASSA-PSS":
        sig_hash, pss_salt = _pss(algorithm.children[1] if len(algorithm.children) > 1 else None)
    hash_name = sig_hash or digest_name
    out: list[Finding] = []
    signed = content
    if attrs is not None:
        parts: list[Finding] = []
        digest_ok = False
        for attr in kids(attrs, 0x30):
            finding, ok = _attribute(locate, attr, content, digest_name, what)
            parts.append(finding)
            digest_ok = digest_ok or bool(ok)
        out.append(locate(attrs.offset, attrs.end, "Signed attributes",
                          "digest matches" if digest_ok else "digest does NOT match",
                          f"What the signature covers: {what} through its digest (RFC 5652 5.4).", parts))
        # RFC 5652 5.4: the signature covers the attributes DER-encoded as a SET (tag 31), not [0].
        signed = b"\x31" + data[attrs.offset + 1:attrs.end]
        if not digest_ok:
            out.append(Finding("Signature", "not checked", f"The signed digest does not match {what}."))
            return False, out
    if cert is None:
        out.append(Finding("Signature", "not checked", "No signer certificate to check it with."))
        return False, out
    try:
        _verify(cert.public_key(), signature.value, signed, scheme, hash_name, pss_salt)
        valid, said = True, f"valid ({scheme}, {pretty(hash_name)}, the signer certificate's key)"
    except InvalidSignature as exc:
        valid, said = False, f"INVALID ({scheme}, {pretty(hash_name)}{': ' + str(exc) if str(exc) else ''})"
    except (ValueError, UnsupportedAlgorithm, KeyError) as exc:
        valid, said = False, f"not checked ({exc})"
    out.append(locate(signature.offset, signature.end, "Signature", said, footnote))
    return valid, out


def first_matching(candidates: Sequence[tuple[str, bytes]], hash_name: str,
                   digest: bytes | None) -> tuple[str, bytes] | None:
    """The first (name, content) whose `hash_name` digest is `digest`: which of the readings a
    specification allows of "what was signed" the signer took."""
    if digest is None:
        return None
    return next((c for c in candidates if hashlib.new(hash_name, c[1]).digest() == digest), None)


def lds_security_object(locate: Locate, econtent: TlvNode) -> tuple[str, dict[int, bytes], Finding]:
    """ICAO's LDS security object (9303-10 4.6.2.2), the signed content of a passport's EF.SOD and
    of a PIV card's security object (SP 800-73-4 Part 1 3.3.2): its hash algorithm, the hash of
    each data group by number, and the finding for it."""
    start = econtent.offset + econtent.header_length
    result = decode_tlv(econtent.value, offset=start)
    top = need(result.nodes[0] if result.nodes else None, 0x30, "the LDS security object")
    items = top.children
    if len(items) < 3:
        raise CmsError("the LDS security object has fewer than its three parts")
    algorithm = need(items[1], 0x30, "the LDS security object's hash algorithm")
    name = hash_of(oid_of(algorithm.children[0] if algorithm.children else None))
    found: dict[int, bytes] = {}
    parts = [locate(items[0].offset, items[0].end, "Version", str(integer(items[0]))),
             locate(algorithm.offset, algorithm.end, "Hash algorithm", pretty(name))]
    for pair in kids(items[2], 0x30):
        number, value = (*pair.children, None, None)[:2]
        if number is None or value is None or number.tag != 0x02 or value.tag != 0x04:
            continue
        dg = integer(number)
        found[dg] = value.value
        parts.append(locate(pair.offset, pair.end, f"DG{dg} hash", value.value.hex().upper()))
    if len(items) > 3 and items[3].tag == 0x30:
        versions = [c.value.decode("latin-1", "replace") for c in items[3].children]
        parts.append(locate(items[3].offset, items[3].end, "LDS version info", " / ".join(versions)))
    return name, found, locate(top.offset, top.end, "LDS security object",
                               f"{len(found)} data group hash(es), {pretty(name)}",
                               "What the signer signed: a hash of each data group (9303-10 4.6.2.2).", parts)
