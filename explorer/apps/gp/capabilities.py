"""Card capability information (GET DATA 67): which secure channel protocols and options the card
supports, which privileges it can grant, which algorithms it offers for load files, tokens,
receipts and DAP (GP Card Specification v2.3.1, H.4)."""

from __future__ import annotations

from explorer.apps.findings import Finding
from explorer.apps.gp.carddata import i_bits
from explorer.apps.gp.constants import SCP_TEXT
from explorer.apps.session import Answer
from explorer.apps.traced import of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

#: Privileges (Table 11-7): byte 1 b8 first, then byte 2, then byte 3.
PRIVILEGES = (
    "Security Domain", "DAP Verification", "Delegated Management", "Card Lock", "Card Terminate",
    "Card Reset", "CVM Management", "Mandated DAP Verification",
    "Trusted Path", "Authorized Management", "Token Verification", "Global Delete", "Global Lock",
    "Global Registry", "Final Application", "Global Service",
    "Receipt Generation", "Ciphered Load File Data Block", "Contactless Activation",
    "Contactless Self-Activation",
)
HASHES = {0x01: "SHA-1", 0x02: "SHA-256", 0x03: "SHA-384", 0x04: "SHA-512"}
AES_LENGTHS = ((0x01, "AES-128"), (0x02, "AES-192"), (0x04, "AES-256"))
_LISTS = {
    0x84: "Ciphered load file data block cipher suites",
    0x85: "Token verification cipher suites",
    0x86: "Receipt generation cipher suites",
    0x87: "DAP verification cipher suites",
    0x88: "ECC key parameters",
}


def privileges(value: bytes) -> list[str]:
    out = []
    for index, name in enumerate(PRIVILEGES):
        byte, bit = divmod(index, 8)
        if byte < len(value) and value[byte] & 0x80 >> bit:
            out.append(name)
    return out


def _scp(answer: Answer, node: TlvNode) -> Finding:
    children = []
    scp = None
    for child in node.children:
        if child.tag == 0x80 and child.value:
            scp = child.value[0]
            children.append(of_node(answer, child, "Protocol", f"SCP{scp:02X}", SCP_TEXT.get(scp, "unknown")))
        elif child.tag == 0x81:
            options = ", ".join(f"i={i:02X}" for i in child.value)
            why = "; ".join(i_bits(scp or 0, i) for i in child.value)
            children.append(of_node(answer, child, "Options", options, why))
        elif child.tag == 0x82 and child.value:
            sizes = [name for bit, name in AES_LENGTHS if child.value[-1] & bit]
            children.append(of_node(answer, child, "Key lengths", ", ".join(sizes) or "none",
                                    "AES key lengths the protocol accepts"))
        else:
            children.append(of_node(answer, child, f"Tag {child.tag_hex}", to_hex(child.value),
                                    "not decoded: no meaning known here"))
    value = ", ".join(f.value for f in children if f.name in ("Protocol", "Options"))
    return of_node(answer, node, "Secure channel protocol", value,
                   "a secure channel protocol the card supports, with its options", children)


def _entry(answer: Answer, node: TlvNode) -> Finding:
    if node.tag == 0xA0:
        return _scp(answer, node)
    if node.tag in (0x81, 0x82):
        who = "security domains" if node.tag == 0x81 else "applications"
        return of_node(answer, node, f"Privileges for {who}", ", ".join(privileges(node.value)) or "none",
                       f"the privileges the card can grant to {who} (Table 11-7)")
    if node.tag == 0x83:
        names = ", ".join(HASHES.get(b, f"{b:02X}") for b in node.value)
        return of_node(answer, node, "Load file data block hash algorithms", names,
                       "the hashes the card can check a load file's data block with (for DAP and tokens)")
    name = _LISTS.get(node.tag)
    if name is None:
        return of_node(answer, node, f"Tag {node.tag_hex}", to_hex(node.value),
                       "not defined for card capability information")
    return of_node(answer, node, name, to_hex(node.value), "a bit map of cipher suites, shown as sent")


def decode_capabilities(answer: Answer, node: TlvNode) -> Finding:
    """`node` is the 67 template."""
    entries = [_entry(answer, child) for child in node.children]
    return of_node(answer, node, "Card capability information",
                   ", ".join(f.value for f in entries if f.name == "Secure channel protocol"),
                   "What the card can do: secure channel protocols with their options, privileges, "
                   "algorithms (GP Card Specification H.4).", entries)
