"""GET DATA answers of a security domain, decoded: each a data object with its tag (GP Card
Specification v2.3.1, 11.3 and H.1), found in the answer and explained."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.apps.findings import Finding
from explorer.apps.gp import cplc
from explorer.apps.gp.capabilities import decode_capabilities
from explorer.apps.gp.carddata import decode_recognition
from explorer.apps.gp.constants import Tag
from explorer.apps.gp.keyinfo import decode_key_information
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode, decode_tlv


def _cplc(answer: Answer, node: TlvNode) -> Finding:
    start = node.offset + node.header_length
    fields = cplc.decode_cplc(answer, start, node.end)
    ic = fields[0].value if fields else ""
    return of_node(answer, node, "Card production life cycle data (CPLC)", f"IC fabricator {ic}",
                   "Who made the chip, its operating system, and when and by whom the card was made and "
                   "personalized: 18 fields in a fixed layout.", fields)


def _card_data(answer: Answer, node: TlvNode) -> Finding:
    inner = [decode_recognition(answer, c) if c.tag == Tag.CARD_RECOGNITION_DATA
             else of_node(answer, c, f"Tag {c.tag_hex}", to_hex(c.value), "not card recognition data")
             for c in node.children]
    value = inner[0].value if len(inner) == 1 else ""
    return of_node(answer, node, "Card data", value,
                   "Card data (66) holds the card recognition data (73).", inner)


def _number(name: str, why: str) -> Callable[[Answer, TlvNode], Finding]:
    def decode(answer: Answer, node: TlvNode) -> Finding:
        count = int.from_bytes(node.value, "big")
        return of_node(answer, node, name, f"{to_hex(node.value)} ({count})", why)
    return decode


def _identifier(name: str, why: str) -> Callable[[Answer, TlvNode], Finding]:
    def decode(answer: Answer, node: TlvNode) -> Finding:
        return of_node(answer, node, name, to_hex(node.value), why)
    return decode


@dataclass(frozen=True)
class DataObject:
    tag: Tag
    name: str
    decode: Callable[[Answer, TlvNode], Finding]


#: What the analyzer asks for, in this order (GPPro's `-i` reads the same, in about this order).
OBJECTS = (
    DataObject(Tag.CPLC, "CPLC", _cplc),
    DataObject(Tag.CARD_DATA, "Card data", _card_data),
    DataObject(Tag.CARD_CAPABILITIES, "Card capability information", decode_capabilities),
    DataObject(Tag.KEY_INFORMATION_TEMPLATE, "Key information template", decode_key_information),
    DataObject(Tag.IIN, "Issuer identification number (IIN)", _identifier(
        "Issuer identification number (IIN)",
        "identifies the card issuer (ISO/IEC 7812 numbering); with the CIN it names this card")),
    DataObject(Tag.CIN, "Card image number (CIN)", _identifier(
        "Card image number (CIN)", "identifies this card among the issuer's cards")),
    DataObject(Tag.SEQUENCE_COUNTER, "Sequence counter", _number(
        "Sequence counter",
        "the secure channel sequence counter of the default key version: it goes up with each secure "
        "channel session (SCP02) or each pseudo-random card challenge (SCP03)")),
    DataObject(Tag.CONFIRMATION_COUNTER, "Confirmation counter", _number(
        "Confirmation counter",
        "counts the receipts the card gave for delegated management operations")),
)


def decode_object(spec: DataObject, answer: Answer) -> tuple[Finding, bool]:
    """The data object `spec` in a GET DATA answer that came back 90 00, and whether it was there
    (False: the answer held something else, which the finding shows)."""
    result = decode_tlv(answer.data)
    node = next((n for n in result.nodes if n.tag == spec.tag), None)
    if node is not None:
        return spec.decode(answer, node), True
    if spec.tag == Tag.CPLC and len(answer.data) == cplc.LENGTH:
        # Some cards answer the 42 bytes without their tag.
        return Finding("Card production life cycle data (CPLC)", "without tag 9F7F",
                       "The card sent the CPLC fields without the 9F7F tag and length.",
                       at(answer, 0, cplc.LENGTH, "").source, answer.data,
                       children=tuple(cplc.decode_cplc(answer, 0, cplc.LENGTH))), True
    why = result.error.message if result.error else f"no data object {spec.tag:02X} in it"
    return at(answer, 0, len(answer.data), spec.name, to_hex(answer.data), f"unexpected answer: {why}"), False
