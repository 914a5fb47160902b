"""Small finding makers the PIV decoders share: a data object's value as hex, text or a number,
an unknown tag, and the error detection code every container ends with."""

from __future__ import annotations

from explorer.apps.findings import Finding
from explorer.apps.session import Answer
from explorer.apps.traced import of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode


def hex_value(answer: Answer, node: TlvNode, name: str, why: str, *, sensitive: bool = False) -> Finding:
    return of_node(answer, node, name, to_hex(node.value) if node.value else "(empty)", why,
                   sensitive=sensitive)


def text_value(answer: Answer, node: TlvNode, name: str, why: str, *, sensitive: bool = False) -> Finding:
    text = node.value.decode("ascii", "replace")
    return of_node(answer, node, name, f'"{text}"', why, sensitive=sensitive)


def number(answer: Answer, node: TlvNode, name: str, why: str) -> Finding:
    return of_node(answer, node, name, str(int.from_bytes(node.value, "big")), why)


def unknown(answer: Answer, node: TlvNode, where: str) -> Finding:
    return of_node(answer, node, f"Tag {node.tag_hex}", to_hex(node.value),
                   f"a data object SP 800-73-4 does not define in {where}")


def error_detection(answer: Answer, node: TlvNode) -> Finding:
    why = ("the error detection code: SP 800-73-4 leaves it empty (tag FE, length 0); it ends every "
           "container")
    if node.value:
        why = f"the error detection code, with {len(node.value)} bytes where SP 800-73-4 wants none"
    return hex_value(answer, node, "Error detection code", why)


def yyyymmdd(text: bytes) -> str:
    """An 8-digit date as YYYY-MM-DD, or "" when it is not one."""
    s = text.decode("ascii", "replace")
    if len(s) != 8 or not s.isdigit():
        return ""
    month, day = int(s[4:6]), int(s[6:8])
    return f"{s[:4]}-{s[4:6]}-{s[6:]}" if 1 <= month <= 12 and 1 <= day <= 31 else ""
