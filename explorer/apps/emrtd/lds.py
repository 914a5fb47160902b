"""The LDS's text files decoded (ICAO Doc 9303-10 4.6, 4.7): EF.COM, DG1 (the MRZ), DG11
(additional personal details) and DG12 (additional document details)."""

from __future__ import annotations

import re

from explorer.apps.emrtd.constants import (
    DATA_GROUPS,
    DG11_ELEMENTS,
    DG12_ELEMENTS,
    DG_BY_TAG,
    IMAGE_ELEMENTS,
    Tag,
)
from explorer.apps.emrtd.mrz import MrzError, read_mrz
from explorer.apps.emrtd.reading import Content
from explorer.apps.findings import Finding
from explorer.core.tlv import TlvNode, TlvResult, decode_tlv

_MRZ_EXPLAINED = {
    "Document code": "P for a passport, I, A or C for other travel documents (9303-4 4.2.2)",
    "Issuing state": "the issuing state or organization, three letters (9303-3 5)",
    "Primary identifier": "the holder's primary identifier (surname)",
    "Secondary identifier": "the holder's secondary identifiers (given names)",
    "Document number": "as the issuer assigned it; BAC's keys start from it",
    "Nationality": "the holder's nationality, three letters",
    "Date of birth": "YYMMDD; BAC's keys start from it",
    "Sex": "F, M, or < (unspecified)",
    "Date of expiry": "YYMMDD; BAC's keys start from it",
}


def template(content: Content, tag: int, name: str) -> tuple[TlvNode | None, Finding | None]:
    """The file's outer template, or a finding saying why there is none."""
    result: TlvResult = decode_tlv(content.data)
    node = result.nodes[0] if result.nodes else None
    if node is None and result.error is not None:
        return None, Finding(name, "not decoded", f"{name} is not whole or not BER-TLV: "
                             f"{result.error.message}.", raw=content.data)
    if node is None or node.tag != tag:
        found = f"{node.tag_hex}" if node is not None else "no data object"
        why = f"{name} should be one {tag:02X} template; found {found}"
        if result.error is not None:
            why += f" ({result.error.message})"
        return None, Finding(name, "not decoded", why + ".", raw=content.data)
    if result.error is not None:
        return node, Finding("Decoding error", result.error.message,
                             f"{name} is cut short or malformed at byte {result.error.offset}: "
                             "what precedes is shown.")
    return node, None


def _child(node: TlvNode, tag: int) -> TlvNode | None:
    return next((c for c in node.children if c.tag == tag), None)


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _date(value: str) -> str:
    """YYYYMMDD (DG11, DG12) as 1974-08-12; anything else as it is."""
    if re.fullmatch(r"\d{8}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if re.fullmatch(r"\d{14}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:8]} {value[8:10]}:{value[10:12]}:{value[12:]}"
    return value


def _name(value: str) -> str:
    """A name written as the MRZ does (primary<<secondary, < between words): spaced."""
    if "<" not in value:
        return value
    primary, _, secondary = value.partition("<<")
    parts = [primary.replace("<", " ").strip(), secondary.replace("<", " ").strip()]
    return ", ".join(p for p in parts if p)


def tag_list(content: Content, node: TlvNode) -> tuple[list[int], Finding]:
    """A 5C tag list: the data groups it names, as numbers, and its finding."""
    tags = list(node.value)
    numbers = [DG_BY_TAG[t] for t in tags if t in DG_BY_TAG]
    names = [f"DG{n} ({DATA_GROUPS[n][1]})" for n in numbers]
    unknown = [f"{t:02X}" for t in tags if t not in DG_BY_TAG]
    value = ", ".join(f"DG{n}" for n in numbers) + (f"; unknown tags {' '.join(unknown)}" if unknown else "")
    return numbers, content.at(node.offset, node.end, "Data groups present", value,
                               "The data groups this document holds: " + ("; ".join(names) or "none"))


def decode_com(content: Content) -> tuple[list[int], Finding]:
    """EF.COM (60): the LDS and Unicode versions and the list of data groups present."""
    node, problem = template(content, Tag.COM, "EF.COM")
    if node is None:
        assert problem is not None
        return [], problem
    children: list[Finding] = [problem] if problem else []
    numbers: list[int] = []
    for child in node.children:
        if child.tag == Tag.LDS_VERSION and len(child.value) == 4:
            v = _text(child.value)
            children.append(content.at(child.offset, child.end, "LDS version", f"{v[:2]}.{v[2:]}",
                                       "The logical data structure's version, aabb for aa.bb"))
        elif child.tag == Tag.UNICODE_VERSION and len(child.value) == 6:
            v = _text(child.value)
            children.append(content.at(child.offset, child.end, "Unicode version",
                                       f"{v[:2]}.{v[2:4]}.{v[4:]}", "The Unicode version of the text"))
        elif child.tag == Tag.TAG_LIST:
            numbers, found = tag_list(content, child)
            children.append(found)
        else:
            children.append(content.at(child.offset, child.end, f"Data object {child.tag_hex}",
                                       child.value.hex(" ").upper()))
    value = ", ".join(f"DG{n}" for n in numbers) or "no data groups listed"
    return numbers, content.at(node.offset, node.end, "EF.COM", value,
                               "The common file: versions and the data groups present (9303-10 4.6.1).",
                               children)


def decode_dg1(content: Content) -> Finding:
    """DG1 (61 { 5F1F }): the MRZ as printed, each field pointing at its characters."""
    node, problem = template(content, Tag.DG1, "DG1")
    if node is None:
        assert problem is not None
        return problem
    mrz_node = _child(node, Tag.MRZ)
    if mrz_node is None:
        return content.at(node.offset, node.end, "DG1", "no MRZ (5F1F)",
                          "DG1 should hold the MRZ in a 5F1F data element.")
    base = mrz_node.offset + mrz_node.header_length
    try:
        mrz = read_mrz(mrz_node.value.decode("latin-1"))
    except MrzError as exc:
        return content.at(mrz_node.offset, mrz_node.end, "DG1", "not an MRZ", str(exc), sensitive=True)
    fields: list[Finding] = [problem] if problem else []
    for field in mrz.fields:
        why = _MRZ_EXPLAINED.get(field.name, "as the issuer wrote it")
        if field.check is not None:
            c = field.check
            why += (f"; check digit {c.found} right" if c.ok else
                    f"; check digit {c.found} WRONG, should be {c.expected}")
        fields.append(content.at(base + field.start, base + field.end, field.name, field.value,
                                 why[:1].upper() + why[1:] + ".", sensitive=True))
    composite = next(c for c in mrz.checks if c.of == "Composite")
    fields.append(content.at(base + composite.position, base + composite.position + 1,
                             "Composite check digit", composite.found,
                             "Over the number, the dates and the optional data: " +
                             ("right." if composite.ok else f"WRONG, should be {composite.expected}.")))
    verdict = ("every check digit right" if not mrz.problems else "; ".join(mrz.problems))
    fields.append(Finding("Check digits", verdict, "Each check digit of DG1's MRZ recomputed "
                          "(9303-3 4.9)."))
    holder = f"{mrz.field('Primary identifier').value}, {mrz.field('Secondary identifier').value}"
    return content.at(node.offset, node.end, "DG1", holder,
                      f"The MRZ as printed on the data page, {mrz.layout.value} (9303-10 4.7.1).",
                      fields, sensitive=True)


def _elements(content: Content, node: TlvNode, names: dict[int, str]) -> list[Finding]:
    out: list[Finding] = []
    for child in node.children:
        if child.tag == Tag.TAG_LIST:
            listed = " ".join(f"{t:02X}" for t in child.value)
            out.append(content.at(child.offset, child.end, "Tags present", listed,
                                  "The data elements this group holds"))
        elif child.tag == Tag.OTHER_NAMES:
            inner = _elements(content, child, names)
            out.append(content.at(child.offset, child.end, "Other names", f"{len(inner) - 1} name(s)"
                                  if inner and inner[0].name == "Count" else "", "", inner))
        elif child.tag == 0x02 and child.value:
            out.append(content.at(child.offset, child.end, "Count", str(child.value[0])))
        elif child.tag in IMAGE_ELEMENTS:
            out.append(content.at(child.offset, child.end, names.get(child.tag, child.tag_hex),
                                  f"image, {len(child.value)} bytes", sensitive=True))
        else:
            name = names.get(child.tag, f"Data object {child.tag_hex}")
            text = _text(child.value)
            # 9303-10 4.7.11: '<' separates a name's parts, and an address's or a place's lines.
            shown = _name(text) if "name" in name.lower() else _date(text).replace("<", ", ")
            out.append(content.at(child.offset, child.end, name, shown, sensitive=True))
    return out


def decode_dg11(content: Content) -> Finding:
    """DG11 (6B): additional personal details (full name, personal number, birth place, …)."""
    node, problem = template(content, Tag.DG11, "DG11")
    if node is None:
        assert problem is not None
        return problem
    found = ([problem] if problem else []) + _elements(content, node, DG11_ELEMENTS)
    named = next((f.value for f in found if f.name == "Full name"), "")
    return content.at(node.offset, node.end, "DG11", named or f"{len(found)} element(s)",
                      "Additional personal details (9303-10 4.7.11).", found, sensitive=bool(named))


def decode_dg12(content: Content) -> Finding:
    """DG12 (6C): additional document details (issuing authority, date of issue, …)."""
    node, problem = template(content, Tag.DG12, "DG12")
    if node is None:
        assert problem is not None
        return problem
    found = ([problem] if problem else []) + _elements(content, node, DG12_ELEMENTS)
    # What DG12 says is about the document, not the person, except names and images.
    found = [f if f.name.startswith(("Name", "Image", "Other")) else
             Finding(f.name, f.value, f.explanation, f.source, f.raw, False, f.children) for f in found]
    issuer = next((f.value for f in found if f.name == "Issuing authority"), "")
    return content.at(node.offset, node.end, "DG12", issuer or f"{len(found)} element(s)",
                      "Additional document details (9303-10 4.7.12).", found)
