"""EF.DIR: one application template (61) per record, with its AID (4F) and label (50), as ETSI
TS 102 221 13.1 describes; AIDs of the 3GPP and ETSI RIDs named (ETSI TS 101 220 annex E)."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.sim.constants import RID_3GPP, RID_ETSI, AppCode3gpp
from explorer.apps.sim.fields import Field
from explorer.core.tlv import decode_tlv


@dataclass(frozen=True)
class Application:
    aid: bytes
    label: str
    field: Field


def aid_field(aid: bytes, start: int) -> Field:
    children: list[Field] = []
    rid = aid[:5]
    owner = {RID_3GPP: "3GPP", RID_ETSI: "ETSI"}.get(rid, "")
    children.append(Field("RID", rid.hex().upper(),
                          f"registered application provider: {owner or 'not named here'}",
                          start, start + min(5, len(aid))))
    name = ""
    if owner == "3GPP" and len(aid) >= 7:
        code = int.from_bytes(aid[5:7], "big")
        try:
            name = AppCode3gpp(code).name
        except ValueError:
            name = ""
        children.append(Field("Application code", f"{code:04X}" + (f" ({name})" if name else ""),
                              "the first two bytes of the PIX: which 3GPP application", start + 5, start + 7))
        if len(aid) > 7:
            children.append(Field("Rest of the PIX", aid[7:].hex().upper(),
                                  "country code, application provider code and field, as the issuer set them",
                                  start + 7, start + len(aid)))
    value = aid.hex().upper() + (f" ({name})" if name else "")
    return Field("AID", value, "application identifier (ISO/IEC 7816-4: RID + PIX)", start, start + len(aid),
                 children=tuple(children))


def decode_dir_record(record: bytes) -> Application | None:
    """An EF.DIR record; None for an empty (FF-filled) one or one without an AID."""
    nodes = decode_tlv(record).nodes
    template = next((n for n in nodes if n.tag == 0x61), None)
    if template is None:
        return None
    children: list[Field] = []
    aid, label = b"", ""
    for node in template.children:
        start = node.offset + node.header_length
        if node.tag == 0x4F:
            aid = node.value
            children.append(aid_field(aid, start))
        elif node.tag == 0x50:
            label = node.value.decode("utf-8", "replace")
            children.append(Field("Label", label, "50: the application's name", start, start + node.length))
    if not aid:
        return None
    field = Field("Application", label or aid.hex().upper(), "61: application template",
                  template.offset, template.end, children=tuple(children))
    return Application(aid, label, field)
