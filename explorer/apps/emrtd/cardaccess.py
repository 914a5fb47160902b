"""EF.CardAccess (ICAO Doc 9303-11 9.2): the SecurityInfos a chip offers before any access
control, read in plain from the MF; PACEInfo says PACE is supported, with which mapping, cipher
and domain parameters."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.emrtd.constants import (
    ID_PACE,
    PACE_CIPHERS,
    PACE_MAPPINGS,
    PACE_PARAMETERS,
    SECURITY_INFO_NAMES,
)
from explorer.apps.emrtd.reading import Content
from explorer.apps.findings import Finding
from explorer.apps.gp.oid import decode_oid
from explorer.core.tlv import TlvNode, decode_tlv


@dataclass(frozen=True)
class CardAccess:
    finding: Finding
    pace: tuple[str, ...]  # each PACE protocol offered, named


def _integer(node: TlvNode | None) -> int | None:
    if node is None or node.tag != 0x02 or not node.value or len(node.value) > 4:
        return None
    return int.from_bytes(node.value, "big", signed=True)


def pace_name(oid: str) -> str | None:
    """"ECDH, generic mapping, AES-CBC-CMAC-128" for a PACE protocol OID; None for other OIDs."""
    if not oid.startswith(ID_PACE + "."):
        return None
    arcs = oid[len(ID_PACE) + 1:].split(".")
    mapping = PACE_MAPPINGS.get(arcs[0], f"mapping {arcs[0]}")
    if len(arcs) == 1:
        return f"{mapping}: domain parameters"
    return f"{mapping}, {PACE_CIPHERS.get(arcs[1], 'cipher ' + arcs[1])}"


def _info(content: Content, node: TlvNode, pace: list[str]) -> Finding:
    oid_node = node.children[0] if node.children and node.children[0].tag == 0x06 else None
    oid = decode_oid(oid_node.value) if oid_node is not None else None
    if oid is None:
        return content.at(node.offset, node.end, "SecurityInfo", "no protocol OID")
    named = pace_name(oid)
    rest = node.children[1:]
    if named is not None and not named.endswith("domain parameters"):
        version = _integer(rest[0] if rest else None)
        parameter = _integer(rest[1] if len(rest) > 1 else None)
        params = (f", parameters {parameter}: {PACE_PARAMETERS.get(parameter, 'proprietary')}"
                  if parameter is not None else "")
        pace.append(named + params)
        return content.at(node.offset, node.end, "PACEInfo", named + params,
                          f"PACE version {version}, protocol {oid} (9303-11 9.2.1).")
    if named is not None:
        return content.at(node.offset, node.end, "PACEDomainParameterInfo", named, f"Protocol {oid}.")
    name = SECURITY_INFO_NAMES.get(oid, "SecurityInfo")
    return content.at(node.offset, node.end, name, oid, "A SecurityInfo this analyzer names only.")


def decode_card_access(content: Content) -> CardAccess:
    result = decode_tlv(content.data)
    top = result.nodes[0] if result.nodes else None
    if top is None or top.tag != 0x31:
        return CardAccess(Finding("EF.CardAccess", "not decoded", "EF.CardAccess should be a SET (31) "
                                  "of SecurityInfos" + (f": {result.error.message}" if result.error else
                                                        "."), raw=content.data), ())
    pace: list[str] = []
    infos = [_info(content, n, pace) for n in top.children if n.tag == 0x30]
    value = "PACE supported" if pace else "no PACE"
    why = ("The chip offers PACE (" + "; ".join(pace) + "). This analyzer does BAC only."
           if pace else "The chip names no PACE protocol.")
    if result.error is not None:
        why += f" Decoding stopped: {result.error.message}."
    return CardAccess(content.at(top.offset, top.end, "EF.CardAccess", value, why, infos), tuple(pace))
