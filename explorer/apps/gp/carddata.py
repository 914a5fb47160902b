"""Card recognition data (GET DATA 66, and 73 in an ISD's FCI): OIDs that say which
GlobalPlatform version manages the card, how it is identified, which secure channel protocol it
speaks and on what chip (GP Card Specification v2.3.1, appendix H.2)."""

from __future__ import annotations

from explorer.apps.findings import Finding
from explorer.apps.gp.constants import (
    GP_OID,
    JAVA_CARD_OID,
    SCP02_I_BITS,
    SCP03_I_BITS,
    SCP_TEXT,
    RecognitionTag,
    Tag,
)
from explorer.apps.gp.oid import decode_oid
from explorer.apps.session import Answer
from explorer.apps.traced import of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

_SCP_PREFIX = bytes.fromhex("2A864886FC6B04")  # 1.2.840.114283.4

_TAG_NAMES: dict[int, str] = {
    RecognitionTag.CARD_MANAGEMENT_TYPE: "Card management type and version",
    RecognitionTag.CARD_IDENTIFICATION_SCHEME: "Card identification scheme",
    RecognitionTag.SECURE_CHANNEL_PROTOCOL: "Secure channel protocol",
    RecognitionTag.CARD_CONFIGURATION_DETAILS: "Card configuration details",
    RecognitionTag.CARD_CHIP_DETAILS: "Card / chip details",
    RecognitionTag.TRUST_POINT_CERTIFICATE: "ISD trust point certificate information",
    RecognitionTag.ISD_CERTIFICATE: "ISD certificate information",
}


def i_bits(scp: int, i: int) -> str:
    """What SCP02's or SCP03's implementation option "i" says, bit by bit."""
    table = SCP02_I_BITS if scp == 0x02 else SCP03_I_BITS if scp == 0x03 else ()
    if not table:
        return f"i={i:02X}: the options of {SCP_TEXT.get(scp, f'SCP{scp:02X}')} are not decoded here"
    known = 0
    parts = []
    for bit, on, off in table:
        known |= bit
        parts.append(on if i & bit else off)
    if i & ~known:
        parts.append(f"RFU bits {i & ~known:02X} set")
    return f"i={i:02X}: " + ", ".join(parts)


def scp_of(value: bytes) -> tuple[int, int] | None:
    """(SCP, i) from a 1.2.840.114283.4.scp.i OID value. Cards put both as raw bytes after the
    prefix (i=70 and SCP80 are no valid single-byte arcs), so the two bytes are read as such."""
    if not value.startswith(_SCP_PREFIX) or len(value) != len(_SCP_PREFIX) + 2:
        return None
    return value[-2], value[-1]


def scp_text(scp: int, i: int) -> str:
    return f"SCP{scp:02X} i={i:02X}"


def _oid_meaning(tag: int, dotted: str, value: bytes) -> tuple[str, str]:
    """(value shown, explanation) of the OID inside application tag `tag`."""
    if tag == RecognitionTag.CARD_MANAGEMENT_TYPE and dotted.startswith(GP_OID + ".2."):
        version = dotted[len(GP_OID) + 3:]
        return f"GlobalPlatform {version}", (f"{dotted}: the card is managed as GlobalPlatform Card "
                                             f"Specification version {version} says")
    if tag == RecognitionTag.CARD_IDENTIFICATION_SCHEME and dotted == GP_OID + ".3":
        return "IIN and CIN", (f"{dotted}: the card is identified by its Issuer Identification Number (42) "
                               "and Card Image Number (45)")
    if tag == RecognitionTag.SECURE_CHANNEL_PROTOCOL:
        scp = scp_of(value)
        if scp is not None:
            name = SCP_TEXT.get(scp[0], f"SCP{scp[0]:02X}")
            return scp_text(*scp), (f"{to_hex(value)}: {GP_OID}.4 followed by the protocol and its option "
                                    f"bytes: {name}; {i_bits(*scp)}")
    if tag == RecognitionTag.CARD_CHIP_DETAILS and dotted.startswith(JAVA_CARD_OID + "."):
        version = dotted[len(JAVA_CARD_OID) + 1:]
        return f"Java Card {version}", f"{dotted}: Java Card platform, version {version} in Sun's OID arc"
    return dotted, f"{dotted}: implementation-specific (GlobalPlatform leaves its meaning to the card maker)"


def _oid_finding(answer: Answer, node: TlvNode, tag: int) -> Finding:
    dotted = decode_oid(node.value)
    if dotted is None:
        return of_node(answer, node, "OID", to_hex(node.value), "not a valid object identifier (cut short)")
    shown, why = _oid_meaning(tag, dotted, node.value)
    return of_node(answer, node, "OID", shown, why)


def _entry(answer: Answer, node: TlvNode) -> Finding:
    if node.tag == Tag.OID:
        dotted = decode_oid(node.value) or to_hex(node.value)
        if dotted == GP_OID + ".1":
            return of_node(answer, node, "Card recognition data OID", dotted,
                           "{globalPlatform 1}: this structure is GlobalPlatform card recognition data")
        return of_node(answer, node, "OID", dotted, "expected 1.2.840.114283.1 (GlobalPlatform)")
    name = _TAG_NAMES.get(node.tag)
    if name is None:
        return of_node(answer, node, f"Tag {node.tag_hex}", to_hex(node.value),
                       "not defined for card recognition data")
    oids = [_oid_finding(answer, child, node.tag) for child in node.children if child.tag == Tag.OID]
    if not oids:
        return of_node(answer, node, name, to_hex(node.value), "no OID inside")
    value = ", ".join(f.value for f in oids)
    return of_node(answer, node, name, value, oids[0].explanation if len(oids) == 1 else "", oids)


def decode_recognition(answer: Answer, node: TlvNode) -> Finding:
    """Card recognition data: `node` is the 73 template (inside 66, or in an FCI's A5)."""
    entries = [_entry(answer, child) for child in node.children]
    scps = [f.value for f in entries if f.name == "Secure channel protocol"]
    summary = ", ".join(f.value for f in entries if f.name == "Card management type and version")
    value = "; ".join(part for part in (summary, ", ".join(scps)) if part)
    return of_node(answer, node, "Card recognition data", value,
                   "What the card says it is: its GlobalPlatform version, identification scheme, secure "
                   "channel protocol and platform, each as an object identifier (GP Card Specification H.2).",
                   entries)
