"""The FCI a security domain answers SELECT with (GP Card Specification v2.3.1, 11.9.3.1):
6F { 84 AID, A5 { 73 security domain management data, 9F6E application production life cycle
data, 9F65 maximum length of data field in command message } }."""

from __future__ import annotations

from explorer.apps.findings import Finding
from explorer.apps.gp.carddata import decode_recognition
from explorer.apps.gp.constants import ISD_AIDS, Tag
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode, decode_tlv


def fci_node(data: bytes) -> TlvNode | None:
    nodes = decode_tlv(data).nodes
    return next((n for n in nodes if n.tag == Tag.FCI), None)


def _child(node: TlvNode | None, tag: int) -> TlvNode | None:
    return None if node is None else next((c for c in node.children if c.tag == tag), None)


def looks_like_isd(data: bytes) -> bool:
    """Whether a SELECT answer is a security domain's: its AID is a known ISD AID, or its A5
    carries what only a GP security domain puts there (73 or 9F65)."""
    fci = fci_node(data)
    aid = _child(fci, Tag.AID)
    if aid is not None and aid.value in ISD_AIDS:
        return True
    proprietary = _child(fci, Tag.FCI_PROPRIETARY)
    return any(_child(proprietary, tag) is not None
               for tag in (Tag.SECURITY_DOMAIN_MANAGEMENT_DATA, Tag.MAX_COMMAND_DATA_LENGTH))


def aid_of(data: bytes) -> bytes | None:
    aid = _child(fci_node(data), Tag.AID)
    return None if aid is None else aid.value


def _generic(answer: Answer, node: TlvNode) -> Finding:
    return of_node(answer, node, node.name.capitalize() if node.name else f"Tag {node.tag_hex}",
                   to_hex(node.value),
                   f"tag {node.tag_hex}: not part of a GlobalPlatform security domain's FCI")


def _proprietary_entry(answer: Answer, node: TlvNode) -> Finding:
    if node.tag == Tag.SECURITY_DOMAIN_MANAGEMENT_DATA:
        found = decode_recognition(answer, node)
        return Finding("Security domain management data", found.value,
                       "Card recognition data as the security domain gives it with its FCI; where present it "
                       "takes precedence over GET DATA 66 (GP Card Specification H.3).", found.source,
                       found.raw, children=found.children)
    if node.tag == Tag.PRODUCTION_LIFE_CYCLE_DATA:
        return of_node(answer, node, "Application production life cycle data", to_hex(node.value),
                       "set at card production, in a form the card maker chooses (GP leaves it open)")
    if node.tag == Tag.MAX_COMMAND_DATA_LENGTH:
        size = int.from_bytes(node.value, "big")
        return of_node(answer, node, "Maximum command data length", f"{size} bytes",
                       "the longest data field (Lc) a command to this security domain may carry, secure "
                       "messaging included")
    return _generic(answer, node)


def decode_fci(answer: Answer) -> Finding:
    result = decode_tlv(answer.data)
    fci = next((n for n in result.nodes if n.tag == Tag.FCI), None)
    if fci is None:
        why = result.error.message if result.error else "no FCI template (6F)"
        return at(answer, 0, len(answer.data), "Selection answer", to_hex(answer.data), f"not an FCI: {why}")
    children = []
    for node in fci.children:
        if node.tag == Tag.AID:
            isd = node.value in ISD_AIDS
            children.append(of_node(answer, node, "AID", to_hex(node.value),
                                    "the security domain's application identifier" +
                                    (": a GlobalPlatform Issuer Security Domain AID" if isd else "")))
        elif node.tag == Tag.FCI_PROPRIETARY:
            children.append(of_node(answer, node, "Proprietary data", "", "the FCI's A5 template",
                                    [_proprietary_entry(answer, c) for c in node.children]))
        else:
            children.append(_generic(answer, node))
    if result.error is not None:
        children.append(at(answer, result.error.offset, len(answer.data), "Malformed data",
                           to_hex(answer.data[result.error.offset:]), result.error.message))
    aid = _child(fci, Tag.AID)
    return of_node(answer, fci, "File control information", to_hex(aid.value) if aid else "",
                   "What the security domain said about itself when selected.", children)
