"""One EF read into a finding: selected, read as its structure says, decoded, or reported as
refused with the access rule its FCP declares (never a VERIFY), or as absent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.apps.findings import Finding
from explorer.apps.sim import access
from explorer.apps.sim.card import Content, Selected, SimCard, Style, ok, refused, single
from explorer.apps.sim.constants import FileId, Sw
from explorer.apps.sim.fcp import FileInfo
from explorer.apps.sim.fields import Field

Decoder = Callable[[bytes], Field]


def finding(field: Field, content: Content) -> Finding:
    """A decoded field as a Finding pointing at its bytes (no source when they span exchanges)."""
    source = content.source(field.start, field.end)
    raw = content.data[field.start : field.end] if source is not None else b""
    return Finding(field.name, field.value, field.explanation, source, raw, field.sensitive,
                   tuple(finding(c, content) for c in field.children))


def template_findings(selected: Selected) -> tuple[Finding, ...]:
    return tuple(finding(f, selected.template) for f in selected.info.fields)


@dataclass(frozen=True)
class EfSpec:
    fid: FileId
    name: str
    what: str  # a plain sentence: what the file holds
    decode: Decoder
    records: bool = False


def _arr_rules(card: SimCard, info: FileInfo, arr_default: int) -> Finding | None:
    """The EF.ARR record an 8B names, read and decoded (EF.ARR itself is readable on a UICC)."""
    if info.arr is None:
        return None
    fid, number = info.arr
    selected = card.select_fid(fid if fid is not None else arr_default)
    if not ok(selected.sw):
        return Finding("Access rule", f"EF.ARR record {number}", f"EF.ARR could not be selected "
                       f"({selected.sw:04X}): the rule is named, not read")
    answer = card.read_record(number, selected.info.record_size or 0)
    if not ok(answer.sw):
        return Finding("Access rule", f"EF.ARR record {number}",
                       f"the record could not be read ({answer.sw:04X})")
    rules = access.expanded_rules(answer.data)
    field = Field("Access rule", access.rules_text(rules),
                  f"EF.ARR record {number}, in the expanded format (ETSI TS 102 221 9.2.4)",
                  0, len(answer.data))
    return finding(field, single(answer))


def _refusal(card: SimCard, spec: EfSpec, selected: Selected, sw: int, arr_default: int) -> Finding:
    info = selected.info
    children = list(template_findings(selected))
    rule = access.read_rule(list(info.rules))
    arr = _arr_rules(card, info, arr_default) if card.style is Style.UICC else None
    if arr is not None:
        children.append(arr)
    where = next((f for f in children
                  if f.name.startswith(("Security attributes", "Access conditions"))), None)
    said = (f" Its access rule: READ needs {rule}." if rule else
            f" Its FCP names {where.value}{': ' + arr.value if arr is not None and arr.source else ''}."
            if where is not None else " The card does not say which PIN.")
    why = (f"{spec.what} READ answered {sw >> 8:02X} {sw & 0xFF:02X} (security status not satisfied): "
           f"it is PIN-protected.{said} The analyzer never sends VERIFY.")
    return Finding(spec.name, "PIN-protected", why, where.source if where else None,
                   where.raw if where else b"", children=tuple(children))


def read_ef(card: SimCard, spec: EfSpec, arr_default: int = FileId.EF_ARR) -> Finding | None:
    """The EF as a finding; None when the card has no such file."""
    selected = card.select_fid(spec.fid)
    if selected.sw in (Sw.NOT_FOUND, 0x9404):
        return None
    if not ok(selected.sw):
        return Finding(spec.name, f"not selected ({selected.sw:04X})", spec.what)
    info = selected.info
    if spec.records:
        count = info.records or 16  # no count in the FCP: read until the card says no more
        parts: list[Finding] = []
        for number in range(1, min(count, 16) + 1):
            answer = card.read_record(number, info.record_size)
            if refused(answer.sw):
                return _refusal(card, spec, selected, answer.sw, arr_default)
            if not ok(answer.sw):
                break
            parts.append(finding(spec.decode(answer.data), single(answer)))
        return Finding(spec.name, f"{len(parts)} record(s)", spec.what, children=tuple(parts))
    content = card.read_binary(info.size)
    if refused(content.sw):
        return _refusal(card, spec, selected, content.sw, arr_default)
    if not content.ok:
        return Finding(spec.name, f"not read ({content.sw:04X})", spec.what,
                       children=template_findings(selected))
    decoded = finding(spec.decode(content.data), content)
    detail = decoded.explanation[:1].upper() + decoded.explanation[1:]
    return Finding(spec.name, decoded.value, f"{spec.what} {detail}".strip(), decoded.source,
                   decoded.raw, decoded.sensitive, decoded.children)
