"""The PIV security object (5FC106; SP 800-73-4 Part 1 3.3.2, Part 2 Table 12): BA maps data
group numbers to container IDs, BB is a CMS SignedData whose content is ICAO's LDS security
object (a hash of each data group), signed by the issuer's content signer.

Each data group whose container the analysis read is hashed and compared. What is hashed is
read two ways in practice, the container's content (inside 53) or the 53 object as the card
returned it: both are tried, and the one that matched is named. A container the analysis could
not read (one behind the PIN, one not on the card) is listed as not checked."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping

from explorer.apps.cms import (
    CmsError,
    certificate,
    check_signer,
    lds_security_object,
    need,
    pretty,
    signed_data_in,
)
from explorer.apps.findings import Finding
from explorer.apps.piv.constants import CONTAINERS, SecurityObjectTag
from explorer.apps.piv.fields import error_detection, unknown
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

NOT_CHAINED = (
    "The signature is checked with the content signing certificate the security object carries; "
    "whether that certificate chains to a trusted PIV issuer is NOT checked.")

#: What the analysis read, by GET DATA tag: (the container's content, the 53 object as answered).
Read = Mapping[int, tuple[bytes, bytes]]


def _container_name(container: int) -> str:
    known = CONTAINERS.get(container)
    return f"{container:04X} ({known[1] if known else 'a container SP 800-73-4 does not list'})"


def _mapping(answer: Answer, node: TlvNode) -> tuple[Finding, dict[int, int]]:
    """BA: three bytes per data group, its number and its container ID."""
    start, value = node.offset + node.header_length, node.value
    groups: dict[int, int] = {}
    parts = []
    for pos in range(0, len(value) - 2, 3):
        number, container = value[pos], int.from_bytes(value[pos + 1:pos + 3], "big")
        groups[number] = container
        parts.append(at(answer, start + pos, start + pos + 3, f"DG{number}", _container_name(container)))
    why = "which container each data group number stands for, three bytes each"
    if len(value) % 3:
        why += f"; {len(value) % 3} byte(s) left over at the end"
    return of_node(answer, node, "Mapping of data groups to container IDs",
                   f"{len(groups)} data group(s)", why, parts), groups


def _hashes(hash_name: str, hashes: dict[int, bytes], groups: dict[int, int], read: Read) -> Finding:
    results: list[Finding] = []
    bad: list[str] = []
    for number, expected in sorted(hashes.items()):
        container = groups.get(number)
        label = f"DG{number}" + (f" ({CONTAINERS[container][1]})" if container in CONTAINERS else "")
        tag = CONTAINERS[container][0] if container in CONTAINERS else None
        if tag is None or tag not in read:
            why = ("not in the mapping (BA)" if container is None
                   else "its container was not read (not on the card, or behind the PIN)")
            results.append(Finding(label, "not checked", why))
            continue
        content, whole = read[tag]
        readings = (("the container's content", content), ("the 53 object as read", whole))
        match = next((what for what, data in readings if hashlib.new(hash_name, data).digest() == expected),
                     None)
        if match is not None:
            results.append(Finding(label, "hash OK", f"{pretty(hash_name)} of {match}, as signed."))
        else:
            got = hashlib.new(hash_name, content).hexdigest().upper()
            results.append(Finding(label, "hash does not match",
                                   f"The security object: {expected.hex().upper()}; the container's content: "
                                   f"{got}. Changed after signing, or read wrong."))
            bad.append(f"{label}: hash does not match")
    checked = sum(1 for r in results if r.value == "hash OK")
    value = "; ".join(bad) if bad else f"{checked} of {len(results)} match"
    return Finding("Data group hashes", value, "Each container read, hashed with the security object's "
                   f"algorithm ({pretty(hash_name)}) and compared.", children=tuple(results))


def _signed(answer: Answer, node: TlvNode, groups: dict[int, int], read: Read) -> list[Finding]:
    """BB checked: its LDS security object, certificate and signature, then the hashes."""
    locate = functools.partial(at, answer)
    signed = signed_data_in(node)
    econtent = need(signed.econtent, 0x04, "the LDS security object")
    hash_name, hashes, lds = lds_security_object(locate, econtent)
    parts = [lds]
    cert = None
    if signed.certificate is not None:
        cert, found = certificate(answer.data, locate, signed.certificate, "Content signing certificate",
                                  "The certificate of the key that signed the security object.")
        parts.append(found)
    valid, checks = check_signer(answer.data, locate, signed.signer, econtent.value, cert,
                                 "the LDS security object", NOT_CHAINED)
    value = "signature valid" if valid else "signature NOT valid"
    return [of_node(answer, node, "Signed hashes", value, "A CMS SignedData over ICAO's LDS security object "
                    "(SP 800-73-4 Part 1 3.3.2).", [*parts, *checks]),
            _hashes(hash_name, hashes, groups, read)]


def decode_security_object(answer: Answer, node: TlvNode, read: Read | None = None) -> Finding:
    """The 53 container `node` of 5FC106; `read`: the containers the analysis read, to check."""
    inner: list[Finding] = []
    groups: dict[int, int] = {}
    for c in node.children:
        if c.tag == SecurityObjectTag.MAPPING:
            found, groups = _mapping(answer, c)
            inner.append(found)
        elif c.tag == SecurityObjectTag.SECURITY_OBJECT:
            try:
                inner.extend(_signed(answer, c, groups, read or {}))
            except (CmsError, ValueError) as exc:
                inner.append(of_node(answer, c, "Signed hashes", "not decoded",
                                     f"a CMS signed-data object should be here ({len(c.value)} bytes: "
                                     f"{to_hex(c.value[:8])}…): {exc}"))
        elif c.tag == SecurityObjectTag.ERROR_DETECTION:
            inner.append(error_detection(answer, c))
        else:
            inner.append(unknown(answer, c, "the security object"))
    hashes = next((f for f in inner if f.name == "Data group hashes"), None)
    signature = next((f for f in inner if f.name == "Signed hashes"), None)
    value = ", ".join(f.value for f in (signature, hashes) if f is not None)
    return of_node(answer, node, "Security object", value, "hashes of the card's data, signed by the issuer",
                   inner)
