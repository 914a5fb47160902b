"""The CHUID's issuer asymmetric signature (3E) checked: a CMS SignedData (RFC 5652) with the
eContentType id-PIV-CHUIDSecurityObject and the content detached, signed by the issuer's content
signing key over the CHUID's own data objects (FIPS 201-3 4.2.1, SP 800-73-4 Part 1 3.1.2).

What "the CHUID" means for the signature is read two ways in practice: FIPS 201 excludes the
signature and the error detection code (FE); some issuers also leave out the deprecated buffer
length (EE), and some sign an empty FE 00 at the end. The readings are tried in that order and
the one whose digest the signer signed is named; none matching is a failed check, said so."""

from __future__ import annotations

import functools

from explorer.apps.cms import (
    CmsError,
    certificate,
    check_signer,
    first_matching,
    signed_data_in,
    signed_digest,
)
from explorer.apps.findings import Finding
from explorer.apps.piv.constants import ChuidTag
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.tlv import TlvNode

ID_PIV_CHUID_SECURITY_OBJECT = "2.16.840.1.101.3.6.1"
NOT_CHAINED = (
    "The signature is checked with the content signing certificate the CHUID carries. Whether that "
    "certificate chains to a trusted PIV issuer (the Federal PKI) is NOT checked: a card can carry "
    "a self-consistent signature made with any key.")
_EDC = bytes([ChuidTag.ERROR_DETECTION, 0x00])


def _readings(data: bytes, chuid: TlvNode) -> list[tuple[str, bytes]]:
    """The CHUID's data objects as signed, each reading named: (name, bytes)."""
    def joined(*left_out: int) -> bytes:
        return b"".join(data[c.offset:c.end] for c in chuid.children
                        if c.tag not in (ChuidTag.SIGNATURE, ChuidTag.ERROR_DETECTION, *left_out))

    every, no_buffer = joined(), joined(ChuidTag.BUFFER_LENGTH)
    readings = [("without its signature and error detection code", every)]
    if no_buffer != every:
        readings.append(("without its buffer length, signature and error detection code", no_buffer))
    readings += [("without its signature, with an empty error detection code", every + _EDC)]
    if no_buffer != every:
        readings.append(("without its buffer length and signature, with an empty error detection code",
                         no_buffer + _EDC))
    return readings


def check_chuid_signature(answer: Answer, node: TlvNode, chuid: TlvNode) -> Finding:
    """The 3E object `node` of the CHUID template `chuid` (both in `answer`'s data) decoded and its
    signature checked. Never raises: a malformed signature is a finding that says what is wrong."""
    name = "Issuer asymmetric signature"
    locate = functools.partial(at, answer)
    try:
        signed = signed_data_in(node)
        parts: list[Finding] = []
        if signed.content_type != ID_PIV_CHUID_SECURITY_OBJECT:
            parts.append(Finding("Content type", signed.content_type, "SP 800-73-4 wants "
                                 f"id-PIV-CHUIDSecurityObject ({ID_PIV_CHUID_SECURITY_OBJECT}) here"))
        readings = _readings(answer.data, chuid)
        hash_name, digest = signed_digest(signed.signer)
        reading, content = first_matching(readings, hash_name, digest) or readings[0]
        cert = None
        if signed.certificate is not None:
            cert, found = certificate(answer.data, locate, signed.certificate, "Content signing certificate",
                                      "The certificate of the key that signed the CHUID "
                                      "(id-PIV-content-signing).")
            parts.append(found)
        else:
            parts.append(Finding("Content signing certificate", "absent", "The signature carries no "
                                 "certificate: it is checked only when it does."))
        valid, checks = check_signer(answer.data, locate, signed.signer, content, cert,
                                     f"the CHUID {reading}", NOT_CHAINED)
    except (CmsError, ValueError) as exc:
        why = str(exc)
        return of_node(answer, node, name, "not decoded", f"a CMS signed-data object should be here: {why}")
    value = "valid" if valid else "NOT valid"
    return of_node(answer, node, name, f"{value}, {len(node.value)} bytes",
                   "the issuer's CMS signature over the CHUID (FIPS 201-3 4.2.1)", [*parts, *checks])
