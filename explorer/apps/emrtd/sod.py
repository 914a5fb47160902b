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

from explorer.apps.cms import (
    CmsError,
    certificate,
    check_signer,
    lds_security_object,
    need,
    pretty,
    read_signed_data,
)
from explorer.apps.emrtd.constants import Tag
from explorer.apps.emrtd.lds import template
from explorer.apps.emrtd.reading import Content
from explorer.apps.findings import Finding
from explorer.core.tlv import TlvNode

ID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
PASSIVE_AUTHENTICATION = (
    "Passive authentication WITHOUT the country signing CA: the data groups are checked against "
    "the hashes the document signer signed, and that signature against the document signer's "
    "certificate the SOD carries. Whether that certificate was issued by the issuing state's "
    "country signing CA is NOT checked: a forger can make a self-consistent SOD.")
#: The SOD's structural problems are CMS's (kept under this name for the passport's callers).
SodError = CmsError


@dataclass(frozen=True)
class Sod:
    finding: Finding
    hash_name: str | None  # hashlib name of the LDS security object's algorithm
    hashes: dict[int, bytes]  # data group number -> hash
    signature_valid: bool


def _parse(content: Content, node: TlvNode) -> Sod:
    signed = read_signed_data(need(node.children[0] if node.children else None, 0x30, "the CMS ContentInfo"))
    if signed.content_type != ID_LDS_SECURITY_OBJECT:
        raise SodError("the signed content is not an LDS security object (2.23.136.1.1.1)")
    econtent = need(signed.econtent, 0x04, "the content")
    hash_name, found, lds = lds_security_object(content.at, econtent)
    cert, cert_finding = (None, Finding("Document signer certificate", "absent",
                                        "The SOD carries no certificate."))
    if signed.certificate is not None:
        cert, cert_finding = certificate(
            content.data, content.at, signed.certificate, "Document signer certificate",
            "The certificate of the key that signed the SOD, issued by the state's country signing CA "
            "(not checked here).")
    valid, signer_findings = check_signer(content.data, content.at, signed.signer, econtent.value, cert,
                                          "the LDS security object", PASSIVE_AUTHENTICATION)
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
