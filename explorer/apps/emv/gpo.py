"""GET PROCESSING OPTIONS (Book 3 6.5.8): the command with the PDOL filled with neutral values,
and its answer, format 1 (80: AIP then AFL) or format 2 (77: 82 AIP, 94 AFL, …)."""

from __future__ import annotations

from explorer.apps.emv import lists
from explorer.apps.emv.constants import Cla, Ins, Tag
from explorer.apps.emv.dol import fill_dol, parse_dol
from explorer.apps.emv.lists import AflEntry, afl_entries
from explorer.apps.emv.objects import decode_object
from explorer.apps.emv.selection import child, malformed, missing, top
from explorer.apps.findings import Finding
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex


def gpo_command(pdol: bytes | None) -> bytes | None:
    """80 A8 00 00 Lc 83 L <PDOL data> 00; without a PDOL the template is empty (83 00). None when
    the PDOL asks for more data than a short command carries (a card's PDOL never does)."""
    data = fill_dol(parse_dol(pdol)[0]) if pdol else b""
    length = bytes([len(data)]) if len(data) < 0x80 else bytes([0x81, len(data) & 0xFF])
    template = bytes([Tag.COMMAND_TEMPLATE]) + length + data
    if len(data) > 0xFF or len(template) > 0xFF:
        return None
    return bytes([Cla.EMV, Ins.GET_PROCESSING_OPTIONS, 0x00, 0x00, len(template)]) + template + b"\x00"


def decode_gpo(answer: Answer) -> tuple[Finding, list[AflEntry]]:
    """The GPO answer's finding and its AFL entries."""
    format1 = top(answer.data, Tag.RESPONSE_FORMAT_1)
    if format1 is not None:
        start = format1.offset + format1.header_length
        if format1.length < 2:
            return of_node(answer, format1, "GPO answer (format 1)", to_hex(format1.value),
                           "too short: format 1 starts with the 2-byte AIP"), []
        children = [lists.aip(answer, start, start + 2),
                    lists.afl(answer, format1, start + 2, format1.end)]
        return (of_node(answer, format1, "GPO answer (format 1)", "AIP and AFL",
                        "response template 80: the AIP's two bytes, then the AFL", children),
                afl_entries(format1.value[2:]))
    format2 = top(answer.data, Tag.RESPONSE_FORMAT_2)
    if format2 is None:
        return at(answer, 0, len(answer.data), "GPO answer", to_hex(answer.data),
                  missing(answer.data, "response template (80 or 77)")), []
    children = []
    for node in format2.children:
        children.append(lists.afl(answer, node) if node.tag == Tag.AFL else decode_object(answer, node))
    bad = malformed(answer, "GPO answer")
    if bad is not None:
        children.append(bad)
    afl_node = child(format2, Tag.AFL)
    return (of_node(answer, format2, "GPO answer (format 2)", "", "response template 77: AIP 82, AFL 94 and "
                    "what else the kernel returns, as data objects", children),
            afl_entries(afl_node.value) if afl_node is not None else [])
