"""The EMV data objects that are lists or bit maps, decoded entry by entry, each entry traced to
its bytes: DOLs, the CVM list (8E), the AFL (94), AIP (82), AUC (9F07) and Issuer Action Codes."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.emv.constants import (
    AIP_BITS,
    AUC_BITS,
    CVM_APPLY_NEXT,
    CVM_CONDITIONS,
    CVM_METHOD_TEXT,
    TVR_BITS,
)
from explorer.apps.emv.dol import parse_dol
from explorer.apps.emv.fields import bit_text
from explorer.apps.findings import Finding
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode


def value_start(node: TlvNode) -> int:
    return node.offset + node.header_length


def _bytes(n: int) -> str:
    return "1 byte" if n == 1 else f"{n} bytes"


def dol(answer: Answer, node: TlvNode, name: str, why: str) -> Finding:
    entries, problem = parse_dol(node.value)
    start = value_start(node)
    children = [at(answer, start + e.offset, start + e.offset + e.size, e.name, _bytes(e.length),
                   f"tag {e.tag_bytes.hex().upper()}, {_bytes(e.length)} of its value in the data sent")
                for e in entries]
    if problem:
        children.append(Finding("Malformed list", problem))
    total = sum(e.length for e in entries)
    return of_node(answer, node, name, f"{len(entries)} data objects, {total} bytes", why, children)


def cvm_rule(byte1: int, byte2: int) -> tuple[str, str]:
    """(value, explanation) of one CV rule."""
    method = byte1 & 0x3F
    if method in CVM_METHOD_TEXT:
        how = CVM_METHOD_TEXT[method]
    elif 0x10 <= method <= 0x1D:
        how = f"method {method:02X}: reserved for future use by EMV"
    elif 0x20 <= method <= 0x2F:
        how = f"method {method:02X}: reserved for use by the individual payment systems"
    elif 0x30 <= method <= 0x3E:
        how = f"method {method:02X}: reserved for use by the issuer"
    else:
        how = f"method {method:02X}: not available for use"
    condition = CVM_CONDITIONS.get(byte2, "reserved for the payment systems" if byte2 >= 0x80 else "RFU")
    then = ("if it fails, the next rule applies" if byte1 & CVM_APPLY_NEXT
            else "if it fails, cardholder verification fails")
    why = f"rule {byte1:02X} {byte2:02X}: {how}; condition {byte2:02X}: {condition}; {then}"
    return f"{how}, {condition}", why


def cvm_list(answer: Answer, node: TlvNode) -> Finding:
    start, value = value_start(node), node.value
    if len(value) < 8:
        return of_node(answer, node, "CVM list", to_hex(value), "too short: amounts X and Y take 8 bytes")
    x, y = int.from_bytes(value[:4], "big"), int.from_bytes(value[4:8], "big")
    children = [
        at(answer, start, start + 4, "Amount X", str(x), "in the application currency, without decimal "
           "point; the conditions 06 and 07 compare the transaction with it"),
        at(answer, start + 4, start + 8, "Amount Y", str(y), "the same for the conditions 08 and 09"),
    ]
    rules = value[8:]
    for n in range(0, len(rules) - 1, 2):
        shown, why = cvm_rule(rules[n], rules[n + 1])
        children.append(at(answer, start + 8 + n, start + 10 + n, f"Rule {n // 2 + 1}", shown, why))
    if len(rules) % 2:
        children.append(at(answer, node.end - 1, node.end, "Odd byte", to_hex(rules[-1:]),
                           "a CV rule takes two bytes: this one is cut short"))
    return of_node(answer, node, "CVM list", f"{len(rules) // 2} rules",
                   "How the cardholder is verified: the rules in order, the first whose condition holds "
                   "and whose method the terminal supports applies (Book 3 10.5).", children)


@dataclass(frozen=True)
class AflEntry:
    sfi: int
    first: int
    last: int
    offline: int


def afl_entries(value: bytes) -> list[AflEntry]:
    return [AflEntry(value[n] >> 3, value[n + 1], value[n + 2], value[n + 3])
            for n in range(0, len(value) - 3, 4)]


def afl(answer: Answer, node: TlvNode, start: int | None = None, end: int | None = None) -> Finding:
    """The AFL in `node`, or (format 1) in bytes start:end of the answer."""
    begin = value_start(node) if start is None else start
    stop = node.end if end is None else end
    value = answer.data[begin:stop]
    children = []
    for n, entry in enumerate(afl_entries(value)):
        offline = (f"records {entry.first}-{entry.first + entry.offline - 1} also signed for offline data "
                   "authentication" if entry.offline else "none of them used for offline data authentication")
        children.append(at(answer, begin + 4 * n, begin + 4 * n + 4, f"SFI {entry.sfi}",
                           f"records {entry.first}-{entry.last}, {entry.offline} for offline authentication",
                           f"read records {entry.first} to {entry.last} of SFI {entry.sfi}; {offline}"))
    if len(value) % 4:
        children.append(Finding("Malformed AFL", f"{len(value)} bytes", "an AFL is groups of four bytes"))
    return at(answer, begin - (0 if start is not None else node.header_length), stop,
              "Application file locator (AFL)", f"{len(value) // 4} entries",
              "Which records of which files the terminal reads (Book 3 10.2).", children)


def bitmap(answer: Answer, start: int, end: int, name: str, table: tuple[tuple[int, int, str], ...],
           why: str, none: str, value: bytes | None = None) -> Finding:
    """Bytes start:end (the whole object); `value` the bit map in them (default: all of them)."""
    bits = answer.data[start:end] if value is None else value
    return at(answer, start, end, name, to_hex(bits), f"{why}: {bit_text(bits, table, none)}")


def aip(answer: Answer, start: int, end: int, value: bytes | None = None) -> Finding:
    return bitmap(answer, start, end, "Application interchange profile (AIP)", AIP_BITS,
                  "what the application supports in this transaction (Book 3 C1)", "nothing set", value)


def auc(answer: Answer, node: TlvNode) -> Finding:
    return bitmap(answer, node.offset, node.end, "Application usage control (AUC)", AUC_BITS,
                  "where and for what the issuer lets the application be used (Book 3 C2)", "no use allowed",
                  node.value)


def iac(answer: Answer, node: TlvNode, name: str, when: str) -> Finding:
    return bitmap(answer, node.offset, node.end, name, TVR_BITS,
                  f"the TVR conditions on which the issuer wants the terminal to {when} (Book 3 10.7, "
                  "TVR layout C5)", "no condition", node.value)
