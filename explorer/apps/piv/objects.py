"""The PIV data objects that are not certificates, decoded (SP 800-73-4 Part 1 §3.1 and §3.3,
Part 2 Table 3): the application property template SELECT answers, the discovery object, the
CHUID with its FASC-N (its signature: chuid_signature.py), the card capability container, the key
history and the printed information (the security object: security_object.py). Each decoder
takes the container (53, or 7E / 61) and never raises."""

from __future__ import annotations

from collections.abc import Callable

from explorer.apps.findings import Finding
from explorer.apps.piv.chuid_signature import check_chuid_signature
from explorer.apps.piv.constants import (
    PIV_AID,
    RID,
    AptTag,
    CccTag,
    ChuidTag,
    DiscoveryTag,
    HistoryTag,
    PinPolicy,
    PrimaryPin,
    PrintedTag,
    algorithm_text,
)
from explorer.apps.piv.fascn import decode_fascn
from explorer.apps.piv.fields import error_detection, hex_value, number, text_value, unknown, yyyymmdd
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

Decoder = Callable[[Answer, TlvNode], Finding]


# -- application property template --------------------------------------------------------

def _aid_text(value: bytes) -> str:
    if value == PIV_AID or value == PIV_AID[len(RID):]:
        return f"{to_hex(value)} (PIV, version {value[-2]:02X} {value[-1]:02X})"
    return to_hex(value)


def _algorithms(answer: Answer, node: TlvNode) -> Finding:
    inner = []
    for c in node.children:
        if c.tag == AptTag.ALGORITHM and len(c.value) == 1:
            inner.append(of_node(answer, c, "Algorithm", f"{c.value[0]:02X}: {algorithm_text(c.value[0])}",
                                 "an algorithm the card supports (SP 800-78-4 identifiers)"))
        elif c.tag == AptTag.OID:
            inner.append(hex_value(answer, c, "Object identifier",
                                   "SP 800-73-4 leaves it empty (06 00) after the identifiers"))
        else:
            inner.append(unknown(answer, c, "the algorithm list"))
    names = ", ".join(f.value.split(": ", 1)[-1] for f in inner if f.name == "Algorithm")
    return of_node(answer, node, "Cryptographic algorithms supported", names,
                   "the algorithms the card offers, one 80 each", inner)


def decode_apt(answer: Answer, node: TlvNode) -> Finding:
    """The application property template (61) SELECT answers."""
    inner: list[Finding] = []
    aid = ""
    for c in node.children:
        if c.tag == AptTag.AID:
            aid = _aid_text(c.value)
            inner.append(of_node(answer, c, "Application identifier", aid,
                                 "the application's PIX (or its whole AID), with its version"))
        elif c.tag == AptTag.TAG_ALLOCATION_AUTHORITY:
            auth = next((g for g in c.children if g.tag == AptTag.AID), None)
            value = to_hex(auth.value) if auth else to_hex(c.value)
            why = ("the authority whose tags the application uses: NIST's RID A0 00 00 03 08"
                   if auth and auth.value == RID else "the authority whose tags the application uses")
            inner.append(of_node(answer, c, "Coexistent tag allocation authority", value, why))
        elif c.tag == AptTag.LABEL:
            inner.append(text_value(answer, c, "Application label", "the name the application gives itself"))
        elif c.tag == AptTag.URL:
            inner.append(text_value(answer, c, "Uniform resource locator",
                                    "where the application's specification is found"))
        elif c.tag == AptTag.ALGORITHMS:
            inner.append(_algorithms(answer, c))
        else:
            inner.append(unknown(answer, c, "the application property template"))
    return of_node(answer, node, "Application property template", aid,
                   "what SELECT of the PIV application answers (SP 800-73-4 Part 2 Table 3)", inner)


# -- discovery object ---------------------------------------------------------------------

def _pin_policy(answer: Answer, node: TlvNode) -> Finding:
    if len(node.value) != 2:
        return hex_value(answer, node, "PIN usage policy", "should be 2 bytes")
    first, second = node.value
    flags = PinPolicy(first & 0x7C)
    said = []
    for flag, text in ((PinPolicy.PIV_PIN, "the PIV Card Application PIN"),
                       (PinPolicy.GLOBAL_PIN, "the global PIN"),
                       (PinPolicy.OCC, "on-card biometric comparison")):
        if flag in flags:
            said.append(text)
    value = " and ".join(said) if said else "nothing"
    start = node.offset + node.header_length
    pairing = "without" if PinPolicy.VCI_WITHOUT_PAIRING in flags else "with"
    vci = (f"the virtual contact interface is implemented, {pairing} a pairing code"
           if PinPolicy.VCI in flags else "no virtual contact interface")
    primary = {int(PrimaryPin.PIV_PIN): "the PIV Card Application PIN is the primary PIN",
               int(PrimaryPin.GLOBAL_PIN): "the global PIN is the primary PIN"}.get(second, "")
    children = [
        at(answer, start, start + 1, "First byte", f"{first:02X}",
           f"satisfy the access rules: {value}; {vci}"
           + ("" if PinPolicy.PIV_PIN in flags else " (bit 7, the PIV PIN, should always be set)")),
        at(answer, start + 1, start + 2, "Second byte", f"{second:02X}",
           primary or ("no primary PIN named (00: only one PIN satisfies the rules)" if second == 0
                       else "not a value SP 800-73-4 defines")),
    ]
    return of_node(answer, node, "PIN usage policy", value, "which PINs satisfy the access rules "
                   "(SP 800-73-4 Part 1 §3.3.2)", children)


def decode_discovery(answer: Answer, node: TlvNode) -> Finding:
    inner = []
    for c in node.children:
        if c.tag == DiscoveryTag.AID:
            inner.append(of_node(answer, c, "PIV card application AID", _aid_text(c.value),
                                 "the AID of the application the object belongs to"))
        elif c.tag == DiscoveryTag.PIN_USAGE_POLICY:
            inner.append(_pin_policy(answer, c))
        else:
            inner.append(unknown(answer, c, "the discovery object"))
    policy = next((f.value for f in inner if f.name == "PIN usage policy"), "")
    return of_node(answer, node, "Discovery object", policy,
                   "the PIN usage policy, readable without a PIN", inner)


# -- CHUID --------------------------------------------------------------------------------

def _fascn(answer: Answer, node: TlvNode) -> Finding:
    decoded = decode_fascn(node.value)
    if decoded is None:
        return hex_value(answer, node, "FASC-N", f"should be 25 bytes, has {len(node.value)}", sensitive=True)
    start = node.offset + node.header_length
    fields = [at(answer, start + f.start, start + f.end, f.spec.name,
                 f.digits + (f" ({f.meaning})" if f.meaning else ""),
                 f.spec.explanation, sensitive=f.spec.personal)
              for f in decoded.fields]
    if decoded.problems:
        fields.append(of_node(answer, node, "Encoding problems", "; ".join(decoded.problems),
                              "5-bit characters with odd parity, framed by sentinels and separators, "
                              "checked by the LRC"))
    why = ("Federal Agency Smart Credential Number: 40 characters of 4 bits and a parity bit each, "
           "framed by sentinels and checked by an LRC (each field's bytes are those its 5-bit "
           "characters fall in)" + ("" if not decoded.problems else "; it is damaged"))
    return of_node(answer, node, "FASC-N", decoded.text, why, fields, sensitive=True)


def _guid(answer: Answer, node: TlvNode) -> Finding:
    value = node.value
    if len(value) != 16:
        return hex_value(answer, node, "GUID", f"should be 16 bytes, has {len(value)}", sensitive=True)
    if not any(value):
        return hex_value(answer, node, "GUID", "all zeros: no GUID (the FASC-N identifies the card)")
    h = value.hex().upper()
    text = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return of_node(answer, node, "GUID", text, "the card's globally unique identifier (an RFC 4122 UUID)",
                   sensitive=True)


def _expiry(answer: Answer, node: TlvNode) -> Finding:
    date = yyyymmdd(node.value)
    if not date:
        return hex_value(answer, node, "Expiration date", "should be 8 ASCII digits, YYYYMMDD")
    return of_node(answer, node, "Expiration date", date, "when the CHUID expires (YYYYMMDD in ASCII)")


def _signature(answer: Answer, node: TlvNode, chuid: TlvNode) -> Finding:
    if not node.value:
        return hex_value(answer, node, "Issuer asymmetric signature",
                         "absent (empty): SP 800-73-4 wants the issuer's CMS signature over the CHUID here")
    return check_chuid_signature(answer, node, chuid)


def decode_chuid(answer: Answer, node: TlvNode) -> Finding:
    inner: list[Finding] = []
    for c in node.children:
        if c.tag == ChuidTag.FASC_N:
            inner.append(_fascn(answer, c))
        elif c.tag == ChuidTag.GUID:
            inner.append(_guid(answer, c))
        elif c.tag == ChuidTag.EXPIRATION_DATE:
            inner.append(_expiry(answer, c))
        elif c.tag == ChuidTag.SIGNATURE:
            inner.append(_signature(answer, c, node))
        elif c.tag == ChuidTag.BUFFER_LENGTH:
            inner.append(number(answer, c, "Buffer length", "deprecated: the length of the CHUID's buffer"))
        elif c.tag == ChuidTag.ORGANIZATIONAL_IDENTIFIER:
            inner.append(hex_value(answer, c, "Organizational identifier", "deprecated"))
        elif c.tag == ChuidTag.DUNS:
            inner.append(text_value(answer, c, "DUNS", "deprecated: the issuer's DUNS number"))
        elif c.tag == ChuidTag.CARDHOLDER_UUID:
            inner.append(hex_value(answer, c, "Cardholder UUID", "the cardholder's UUID", sensitive=True))
        elif c.tag == ChuidTag.ERROR_DETECTION:
            inner.append(error_detection(answer, c))
        else:
            inner.append(unknown(answer, c, "the CHUID"))
    guid = next((f for f in inner if f.name == "GUID"), None)
    return of_node(answer, node, "Card holder unique identifier (CHUID)", guid.value if guid else "",
                   "identifies the card: FASC-N, GUID, expiration date, signed by the issuer", inner,
                   sensitive=guid is not None and guid.sensitive)


# -- card capability container ------------------------------------------------------------

_GSC_RID = bytes.fromhex("A000000116")
_CARD_TYPES = {0x01: "file system card", 0x02: "Java Card", 0x03: "multi-application OS card"}


def _card_identifier(answer: Answer, node: TlvNode) -> Finding:
    v = node.value
    if len(v) != 21:
        return hex_value(answer, node, "Card identifier", f"should be 21 bytes, has {len(v)}")
    start = node.offset + node.header_length
    rid = "the GSC-IS RID" if v[:5] == _GSC_RID else "not the GSC-IS RID A0 00 00 01 16"
    children = [
        at(answer, start, start + 5, "GSC-RID", to_hex(v[:5]), rid),
        at(answer, start + 5, start + 6, "Manufacturer ID", f"{v[5]:02X}", "the card manufacturer"),
        at(answer, start + 6, start + 7, "Card type", f"{v[6]:02X}",
           _CARD_TYPES.get(v[6], "not a type GSC-IS defines")),
        at(answer, start + 7, start + 21, "Card ID", to_hex(v[7:]), "the card's own number"),
    ]
    return of_node(answer, node, "Card identifier", to_hex(v[7:]), "GSC-IS card identifier: RID, "
                   "manufacturer, card type, card ID", children)


_CCC_SIMPLE = {
    CccTag.CONTAINER_VERSION: ("Capability container version", "21 for SP 800-73-4"),
    CccTag.GRAMMAR_VERSION: ("Capability grammar version", "21 for SP 800-73-4"),
    CccTag.APPLICATIONS_CARD_URL: ("Applications CardURL", "GSC-IS; empty on a PIV card"),
    CccTag.PKCS15: ("PKCS#15", "00: no PKCS#15 on the card"),
    CccTag.DATA_MODEL: ("Registered data model number", "10: the PIV data model"),
    CccTag.ACCESS_CONTROL_RULE_TABLE: ("Access control rule table", "GSC-IS; empty on a PIV card"),
    CccTag.CARD_APDUS: ("Card APDUs", "GSC-IS; empty on a PIV card"),
    CccTag.REDIRECTION: ("Redirection tag", "GSC-IS; empty on a PIV card"),
    CccTag.CAPABILITY_TUPLES: ("Capability tuples", "GSC-IS; empty on a PIV card"),
    CccTag.STATUS_TUPLES: ("Status tuples", "GSC-IS; empty on a PIV card"),
    CccTag.NEXT_CCC: ("Next CCC", "GSC-IS; empty on a PIV card"),
    CccTag.EXTENDED_APPLICATION_CARD_URL: ("Extended application CardURL", "GSC-IS"),
    CccTag.SECURITY_OBJECT_BUFFER: ("Security object buffer", "GSC-IS"),
}


def decode_ccc(answer: Answer, node: TlvNode) -> Finding:
    inner: list[Finding] = []
    for c in node.children:
        if c.tag == CccTag.CARD_IDENTIFIER:
            inner.append(_card_identifier(answer, c))
        elif c.tag == CccTag.ERROR_DETECTION:
            inner.append(error_detection(answer, c))
        elif c.tag in _CCC_SIMPLE:
            name, why = _CCC_SIMPLE[CccTag(c.tag)]
            inner.append(hex_value(answer, c, name, why))
        else:
            inner.append(unknown(answer, c, "the card capability container"))
    ident = next((f.value for f in inner if f.name == "Card identifier"), "")
    return of_node(answer, node, "Card capability container (CCC)", ident,
                   "the GSC-IS card capability container, kept for compatibility", inner)


# -- key history --------------------------------------------------------------------------

def decode_key_history(answer: Answer, node: TlvNode) -> tuple[Finding, int]:
    """The key history finding and the number of retired keys with on-card certificates."""
    inner: list[Finding] = []
    on_card = 0
    for c in node.children:
        if c.tag == HistoryTag.ON_CARD_CERTS:
            on_card = int.from_bytes(c.value, "big") if len(c.value) == 1 else 0
            inner.append(number(answer, c, "Keys with on-card certificates",
                                "retired key management keys whose certificates are on the card "
                                "(keys 82 on, in order)"))
        elif c.tag == HistoryTag.OFF_CARD_CERTS:
            inner.append(number(answer, c, "Keys with off-card certificates",
                                "retired key management keys whose certificates are at the URL"))
        elif c.tag == HistoryTag.OFF_CARD_URL:
            inner.append(text_value(answer, c, "Off-card certificate URL",
                                    "where the certificates not on the card are"))
        elif c.tag == HistoryTag.ERROR_DETECTION:
            inner.append(error_detection(answer, c))
        else:
            inner.append(unknown(answer, c, "the key history object"))
    on_card = min(on_card, 20)
    return of_node(answer, node, "Key history", f"{on_card} retired keys with on-card certificates",
                   "the retired key management keys (SP 800-73-4 Part 1 §3.3.2)", inner), on_card


# -- printed information, security object --------------------------------------------------

_PRINTED = {
    PrintedTag.NAME: "Name", PrintedTag.EMPLOYEE_AFFILIATION: "Employee affiliation",
    PrintedTag.EXPIRATION_DATE: "Expiration date", PrintedTag.AGENCY_CARD_SERIAL: "Agency card serial number",
    PrintedTag.ISSUER: "Issuer identification",
    PrintedTag.ORGANIZATION_LINE_1: "Organization affiliation (line 1)",
    PrintedTag.ORGANIZATION_LINE_2: "Organization affiliation (line 2)",
}


def decode_printed(answer: Answer, node: TlvNode) -> Finding:
    inner = []
    for c in node.children:
        if c.tag == PrintedTag.ERROR_DETECTION:
            inner.append(error_detection(answer, c))
        elif c.tag in _PRINTED:
            inner.append(text_value(answer, c, _PRINTED[PrintedTag(c.tag)], "as printed on the card",
                                    sensitive=True))
        else:
            inner.append(unknown(answer, c, "the printed information"))
    return of_node(answer, node, "Printed information", "", "what is printed on the card, readable after "
                   "the PIN", inner)
