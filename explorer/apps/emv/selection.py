"""Application selection (Book 1 12): SELECT by name, the FCI of a PSE, a PPSE or an
application decoded, and the application list from a PPSE's FCI or a PSE's directory records."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.emv.constants import Cla, Ins, Tag
from explorer.apps.emv.objects import decode_object
from explorer.apps.findings import Finding
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode, decode_tlv


def select_name(name: bytes) -> bytes:
    return bytes([Cla.ISO, Ins.SELECT, 0x04, 0x00, len(name)]) + name + b"\x00"


def read_record(sfi: int, record: int) -> bytes:
    return bytes([Cla.ISO, Ins.READ_RECORD, record, sfi << 3 | 0x04, 0x00])


def child(node: TlvNode | None, tag: int) -> TlvNode | None:
    return None if node is None else next((c for c in node.children if c.tag == tag), None)


def top(data: bytes, tag: int) -> TlvNode | None:
    return next((n for n in decode_tlv(data).nodes if n.tag == tag), None)


def missing(data: bytes, what: str) -> str:
    """Why an answer has no `what` template: the BER-TLV error where it stopped, or that it lacks one."""
    error = decode_tlv(data).error
    return f"not BER-TLV: {error.message}" if error is not None else f"the answer has no {what}"


def malformed(answer: Answer, name: str) -> Finding | None:
    """A finding for where the answer stops being BER-TLV, or None when it is whole."""
    error = decode_tlv(answer.data).error
    if error is None:
        return None
    return at(answer, error.offset, len(answer.data), f"Malformed {name}",
              to_hex(answer.data[error.offset:]), error.message)


@dataclass(frozen=True)
class AppEntry:
    """One application a directory lists."""

    aid: bytes
    label: str
    priority: int | None  # the priority indicator's byte, None when absent
    finding: Finding


def _entry(answer: Answer, node: TlvNode) -> AppEntry | None:
    aid = child(node, Tag.ADF_NAME)
    found = decode_object(answer, node)
    if aid is None:
        return None
    label = child(node, Tag.APPLICATION_LABEL)
    prio = child(node, Tag.PRIORITY)
    label_text = label.value.decode("ascii", "replace") if label is not None else ""
    finding = Finding("Application", f"{to_hex(aid.value)}" + (f" {label_text}" if label_text else ""),
                      "an application the directory lists: AID 4F, label 50, preferred name 9F12, "
                      "priority 87, kernel identifier 9F2A where present",
                      found.source, found.raw, children=found.children)
    priority = prio.value[0] if prio is not None and prio.value else None
    return AppEntry(aid.value, label_text, priority, finding)


def entries(answer: Answer, nodes: tuple[TlvNode, ...]) -> list[AppEntry]:
    """The application templates (61) among `nodes` (a directory record's or BF0C's children)."""
    out = []
    for node in nodes:
        if node.tag == Tag.APPLICATION_TEMPLATE:
            entry = _entry(answer, node)
            if entry is not None:
                out.append(entry)
    return out


def decode_fci(answer: Answer, what: str) -> Finding:
    """The FCI (6F) of a SELECT answer with its templates decoded."""
    fci = top(answer.data, Tag.FCI)
    if fci is None:
        return at(answer, 0, len(answer.data), f"{what} FCI", to_hex(answer.data),
                  missing(answer.data, "FCI template (6F)"))
    children = [decode_object(answer, c) for c in fci.children]
    bad = malformed(answer, "FCI")
    if bad is not None:
        children.append(bad)
    name = child(fci, Tag.DF_NAME)
    return of_node(answer, fci, f"{what} FCI", to_hex(name.value) if name is not None else "",
                   "what the card said when selected: DF name 84, then A5 with label, priority, PDOL, "
                   "language, issuer discretionary data", children)


def ppse_entries(answer: Answer) -> list[AppEntry]:
    issuer = child(child(top(answer.data, Tag.FCI), Tag.FCI_PROPRIETARY), Tag.FCI_ISSUER_DISCRETIONARY)
    return entries(answer, issuer.children) if issuer is not None else []


def pse_sfi(answer: Answer) -> int | None:
    """The SFI of the PSE's directory (88 in A5), or None."""
    sfi = child(child(top(answer.data, Tag.FCI), Tag.FCI_PROPRIETARY), Tag.SFI)
    return sfi.value[0] if sfi is not None and len(sfi.value) == 1 and 1 <= sfi.value[0] <= 30 else None


def record_entries(answer: Answer) -> tuple[Finding, list[AppEntry]]:
    """A directory record (70 with 61 templates): its finding and its applications."""
    record = top(answer.data, Tag.RECORD)
    if record is None:
        return at(answer, 0, len(answer.data), "Directory record", to_hex(answer.data),
                  missing(answer.data, "record template (70)")), []
    found = entries(answer, record.children)
    return of_node(answer, record, "Directory record", f"{len(found)} applications",
                   "a record of the PSE's directory", [e.finding for e in found]), found
