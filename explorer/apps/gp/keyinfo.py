"""Key information template (GET DATA E0): one C0 per key the security domain holds, with its
ID, version, type and length, never its value (GP Card Specification v2.3.1, 11.1.8)."""

from __future__ import annotations

from explorer.apps.findings import Finding
from explorer.apps.gp.constants import KeyType, Tag, key_type_text
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

#: Key versions GlobalPlatform reserves for a purpose (11.1.8).
VERSION_PURPOSES = {0x70: "token verification", 0x71: "receipt generation", 0x73: "DAP verification",
                    0xFF: "the factory (initial) key set"}
_SCP_KEYS = {0x01: "ENC (encryption)", 0x02: "MAC", 0x03: "DEK (data encryption)"}


def _component(key_type: int, length: int) -> str:
    bits = f", {length * 8} bits" if key_type == KeyType.AES else ""
    return f"{key_type_text(key_type)} ({key_type:02X}), {length} bytes{bits}"


def _components(answer: Answer, start: int, end: int) -> tuple[list[Finding], bool]:
    """The key type/length pairs of one key (basic or extended format); True when complete."""
    data = answer.data
    out: list[Finding] = []
    pos = start
    extended = pos < end and data[pos] == KeyType.EXTENDED
    while pos < end:
        if extended:
            # FF, type, 2-byte length; then key usage and access (a length byte and the value each).
            if data[pos] != KeyType.EXTENDED:
                break
            if pos + 4 > end:
                return out, False
            key_type, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
            out.append(at(answer, pos, pos + 4, "Key component", _component(key_type, length),
                          "extended format: FF, the key type, the key length on two bytes"))
            pos += 4
            continue
        if pos + 2 > end:
            return out, False
        key_type, length = data[pos], data[pos + 1]
        out.append(at(answer, pos, pos + 2, "Key component", _component(key_type, length or 256),
                      "basic format: the key type (Table 11-16), then the key length in bytes"
                      + (" (00: 256 or more)" if not length else "")))
        pos += 2
    if extended and pos < end:
        out.append(at(answer, pos, end, "Key usage and access", to_hex(data[pos:end]),
                      "the usage and access bytes of the extended format, each after its length"))
    return out, True


def _key(answer: Answer, node: TlvNode) -> Finding:
    start = node.offset + node.header_length
    if node.length < 4:
        return of_node(answer, node, "Key", to_hex(node.value),
                       "too short: key information data has at least ID, version, type and length")
    key_id, version = node.value[0], node.value[1]
    parts, complete = _components(answer, start + 2, node.end)
    purpose = VERSION_PURPOSES.get(version, "")
    children = [
        at(answer, start, start + 1, "Key ID", f"{key_id:02X}",
           f"key {key_id}" + (f": for SCP02/SCP03, {_SCP_KEYS[key_id]}" if key_id in _SCP_KEYS else "")),
        at(answer, start + 1, start + 2, "Key version", f"{version:02X}",
           f"key version number {version} ({version:02X} hex), which names the key set"
           + (f": {purpose}" if purpose else "")),
        *parts,
    ]
    kinds = "; ".join(p.value for p in parts if p.name == "Key component")
    why = (f"key {key_id:02X} of key set (version) {version:02X}: its type and length; its value stays "
           "on the card" if complete else "the last key component is cut short")
    return of_node(answer, node, f"Key {key_id:02X} version {version:02X}", kinds, why, children)


def decode_key_information(answer: Answer, node: TlvNode) -> Finding:
    """`node` is the E0 template."""
    keys = [_key(answer, child) if child.tag == Tag.KEY_INFORMATION_DATA
            else of_node(answer, child, f"Tag {child.tag_hex}", to_hex(child.value), "not key information")
            for child in node.children]
    return of_node(answer, node, "Key information template", f"{len(keys)} keys",
                   "The keys the security domain holds, by ID and version, with their types and lengths; "
                   "their values are never readable.", keys)
