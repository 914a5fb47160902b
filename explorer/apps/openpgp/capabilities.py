"""What the card says it can do: extended capabilities (C0, 4.4.3.7), the PW status bytes (C4,
4.4.3.5), extended length information (7F66, 4.1.3.1) and the historical bytes (5F52, 6.2 and
ISO/IEC 7816-4 8.1.1, decoded by the project's ATR decoder)."""

from __future__ import annotations

from explorer.apps.findings import Finding, Source
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.atr_fields import AtrField
from explorer.core.atr_historical import decode_historical
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

#: C0 byte 1, b8 first.
CAPABILITY_BITS = (
    (0x80, "Secure messaging"),
    (0x40, "GET CHALLENGE"),
    (0x20, "Key import"),
    (0x10, "PW status changeable (PUT DATA C4)"),
    (0x08, "Private use DOs (0101-0104)"),
    (0x04, "Algorithm attributes changeable (PUT DATA C1-C3)"),
    (0x02, "PSO:DEC/ENC with AES"),
    (0x01, "KDF-DO (F9) and key derivation of the passwords"),
)
SM_ALGORITHMS = {0x00: "none (or proprietary)", 0x01: "AES-128", 0x02: "AES-256", 0x03: "SCP11b"}
_SUPPORTED = {0x00: "not supported", 0x01: "supported"}


def capability_names(first: int) -> list[str]:
    return [name for bit, name in CAPABILITY_BITS if first & bit]


def _word(answer: Answer, pos: int, name: str, why: str) -> Finding:
    value = int.from_bytes(answer.data[pos : pos + 2], "big")
    return at(answer, pos, pos + 2, name, f"{value} bytes", why)


def decode_extended_capabilities(answer: Answer, node: TlvNode) -> Finding:
    start, value = node.offset + node.header_length, node.value
    if not value:
        return of_node(answer, node, "Extended capabilities", "empty", "C0 holds no byte.")
    first = value[0]
    bits = [at(answer, start, start + 1, name, "yes" if first & bit else "no", f"byte 1, bit {bit:02X}")
            for bit, name in CAPABILITY_BITS]
    children = [at(answer, start, start + 1, "Capability flags", f"{first:02X}",
                   ", ".join(capability_names(first)) or "none of the optional functions", bits)]
    if len(value) >= 2:
        children.append(at(answer, start + 1, start + 2, "Secure messaging algorithm", f"{value[1]:02X}",
                           SM_ALGORITHMS.get(value[1], "reserved value")))
    if len(value) >= 8:
        children += [
            _word(answer, start + 2, "Maximum challenge length", "the most GET CHALLENGE gives at once"),
            _word(answer, start + 4, "Maximum cardholder certificate length", "for each certificate (7F21)"),
            _word(answer, start + 6, "Maximum length of special DOs",
                  "private use DOs, login data, URL, algorithm information and the like"),
        ]
    if len(value) >= 10:
        children += [
            at(answer, start + 8, start + 9, "PIN block 2 format", f"{value[8]:02X}",
               _SUPPORTED.get(value[8], "reserved value")),
            at(answer, start + 9, start + 10, "MSE for keys 2 and 3", f"{value[9]:02X}",
               _SUPPORTED.get(value[9], "reserved value")
               + ": MANAGE SECURITY ENVIRONMENT swaps the decryption and authentication keys"),
        ]
    if len(value) not in (1, 10):
        children.append(of_node(answer, node, "Length", f"{len(value)} bytes",
                                "version 3.x defines 10 bytes (version 1.x had 1)"))
    return of_node(answer, node, "Extended capabilities", ", ".join(capability_names(first)) or "none",
                   "Optional functions the card supports and its size limits (C0).", children)


def decode_pw_status(answer: Answer, node: TlvNode) -> Finding:
    start, value = node.offset + node.header_length, node.value
    if len(value) < 7:
        return of_node(answer, node, "PW status bytes", to_hex(value),
                       f"{len(value)} bytes: the PW status bytes have 7.")
    validity = ("valid for one PSO:CDS command only (asked again for each signature)" if value[0] == 0
                else "valid for several PSO:CDS commands" if value[0] == 1 else "reserved value")

    def length(pos: int, who: str) -> Finding:
        byte = value[pos]
        fmt = "; PIN block format 2" if byte & 0x80 and pos == 1 else ""
        return at(answer, start + pos, start + pos + 1, f"Maximum length of {who}", f"{byte & 0x7F}",
                  f"{byte:02X}: at most {byte & 0x7F} bytes{fmt}")

    def tries(pos: int, who: str) -> Finding:
        left = value[pos]
        state = "blocked (or not set)" if left == 0 else f"{left} tries left"
        return at(answer, start + pos, start + pos + 1, f"{who} tries left", str(left),
                  f"the retry counter of {who}: {state}")

    children = [
        at(answer, start, start + 1, "PW1 validity", f"{value[0]:02X}", validity),
        length(1, "PW1"), length(2, "the resetting code"), length(3, "PW3"),
        tries(4, "PW1"), tries(5, "Resetting code"), tries(6, "PW3"),
    ]
    summary = f"PW1 {value[4]}, resetting code {value[5]}, PW3 {value[6]} tries left"
    return of_node(answer, node, "PW status bytes", summary,
                   "The password rules and retry counters (C4): PW1 is the user PIN, PW3 the admin PIN, "
                   "the resetting code unblocks PW1.", children)


def decode_extended_length(answer: Answer, node: TlvNode) -> Finding:
    sizes = [c for c in node.children if c.tag == 0x02]
    children = [of_node(answer, c, name, f"{int.from_bytes(c.value, 'big')} bytes", why)
                for c, (name, why) in zip(sizes, (
                    ("Maximum command length", "the longest command APDU the card takes"),
                    ("Maximum response length", "the longest response APDU the card sends")), strict=False)]
    return of_node(answer, node, "Extended length information",
                   ", ".join(f.value for f in children), "Extended length sizes (7F66).", children)


def _atr_finding(answer: Answer, found: AtrField, base: int) -> Finding:
    start, end = found.start - base, found.end - base
    data = answer.data
    return Finding(found.name, found.value, found.meaning, Source(answer.index, start, end), data[start:end],
                   children=tuple(_atr_finding(answer, c, base) for c in found.children))


def decode_historical_bytes(answer: Answer, node: TlvNode) -> Finding:
    """5F52: the same historical bytes as the ATR's, decoded the same way."""
    start = node.offset + node.header_length
    # The ATR decoder counts offsets in its own buffer: 0 here, moved to the answer's below.
    decoded = decode_historical(node.value, 0)
    shifted = [_atr_finding(answer, f, -start) for f in decoded.field.children] if decoded.field else []
    summary = decoded.field.meaning if decoded.field else "empty"
    return of_node(answer, node, "Historical bytes", summary,
                   "The historical bytes (5F52), as in the card's ATR: card capabilities (73) say which "
                   "selections, chaining and extended lengths the card takes.", shifted)
