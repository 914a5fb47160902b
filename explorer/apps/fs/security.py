"""Security attributes of a file (ISO/IEC 7816-4 7.4.3): the compact form (tag 8C: an access mode
byte, then one security condition byte per command group), the expanded form (AB, and the A0/A1
templates: access mode data objects each followed by the condition that guards them) and the
referenced form (8B: a record of EF.ARR). Each decoder also says, per command group, what the
condition is ("READ": "PIN 81"), so a refused READ can be explained without a VERIFY."""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.apps.findings import Finding
from explorer.apps.fs.constants import DF_ACCESS_MODES, EF_ACCESS_MODES, ExpandedTag, ScByte
from explorer.apps.fs.content import Buffer, text_of
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode, decode_tlv, looks_like_tlv


@dataclass
class Rules:
    """Condition per command group, as far as the attributes say. The expanded form wins over the
    compact one whatever their order: it can name the PIN ("PIN 81") where a compact condition
    byte only says "user authentication". Within one form, the first rule for a group wins."""

    compact: dict[str, str] = field(default_factory=dict)
    expanded: dict[str, str] = field(default_factory=dict)

    def add(self, mode: str, condition: str, *, expanded: bool = False) -> None:
        (self.expanded if expanded else self.compact).setdefault(mode, condition)

    @property
    def conditions(self) -> dict[str, str]:
        return {**self.compact, **self.expanded}


def sc_byte_text(sc: int) -> str:
    if sc == 0x00:
        return "always"
    if sc == 0xFF:
        return "never"
    parts = [text for flag, text in ((ScByte.SECURE_MESSAGING, "secure messaging"),
                                     (ScByte.EXTERNAL_AUTHENTICATION, "external authentication"),
                                     (ScByte.USER_AUTHENTICATION, "user authentication (PIN)"))
             if sc & flag]
    se = sc & 0x0F
    where = ("no security environment referenced" if se == 0 else
             "security environment: RFU value F" if se == 0xF else f"in security environment {se}")
    if not parts:
        return f"no condition bit set, {where}"
    joined = (" and " if sc & ScByte.ALL_CONDITIONS else " or ").join(parts)
    return f"{joined}, {where}"


Modes = tuple[tuple[int, str], ...]


def mode_table(df: bool) -> Modes:
    return DF_ACCESS_MODES if df else EF_ACCESS_MODES


def _modes(am: int, table: Modes) -> list[str]:
    return [name for bit, name in table if am & bit]


def compact(buffer: Buffer, node: TlvNode, df: bool, rules: Rules) -> Finding:
    """8C: AM byte, then SC bytes in the order of the AM bits set, bit 7 first."""
    value = node.value
    start = node.offset + node.header_length
    name = "8C security attributes (compact)"
    if not value:
        return buffer.node(node, name, "empty", "no access mode byte: no rule given")
    am = value[0]
    children = []
    if am & 0x80:
        return buffer.node(node, name, to_hex(value), "access mode byte with bit 8 set: its bits 7-1 "
                           "do not follow the file table of ISO/IEC 7816-4 (proprietary use)",
                           (buffer.finding("Access mode byte", start, start + 1, f"{am:02X}"),))
    modes = _modes(am, mode_table(df))
    children.append(buffer.finding("Access mode byte", start, start + 1, f"{am:02X}",
                                   "guards: " + (", ".join(modes) or "nothing")))
    scs = value[1:]
    for i, mode in enumerate(modes):
        if i >= len(scs):
            children.append(buffer.finding(f"{mode}", start + 1 + len(scs), start + 1 + len(scs), "missing",
                                           f"the access mode byte announces {len(modes)} security "
                                           f"condition bytes, {len(scs)} present"))
            break
        text = sc_byte_text(scs[i])
        rules.add(mode, text)
        children.append(buffer.finding(mode, start + 1 + i, start + 2 + i, f"{scs[i]:02X}", text))
    if len(scs) > len(modes):
        children.append(buffer.finding("Extra bytes", start + 1 + len(modes), node.end,
                                       to_hex(scs[len(modes):]), "more security condition bytes than "
                                       "access mode bits set"))
    summary = "; ".join(f"{m}: {rules.compact.get(m, 'missing')}" for m in modes)
    return buffer.node(node, name, to_hex(value), summary, tuple(children))


def referenced(buffer: Buffer, node: TlvNode) -> Finding:
    """8B: the rules are a record of EF.ARR (FID, then record numbers, optionally per SE)."""
    value = node.value
    name = "8B security attributes (referenced)"
    if len(value) == 1:
        text = f"rules in record {value[0]} of the EF.ARR of the current DF"
    elif len(value) == 3:
        text = f"rules in record {value[2]} of EF.ARR {value[:2].hex().upper()}"
    elif len(value) >= 4 and len(value) % 2 == 0:
        pairs = ", ".join(f"SE {value[i]}: record {value[i + 1]}" for i in range(2, len(value), 2))
        text = f"EF.ARR {value[:2].hex().upper()}, per security environment: {pairs}"
    else:
        text = "length not defined for the referenced form (1, 3, or 2 + pairs of SE and record)"
    return buffer.node(node, name, to_hex(value), text + " (not read: the rules are shown as referenced)")


def _crt(node: TlvNode) -> str:
    """What a control reference template says: the key or PIN reference and what it is used for."""
    parts = {child.tag: child.value for child in node.children}
    ref = parts.get(0x83) or parts.get(0x84)
    qualifier = parts.get(0x95, b"")
    kind = {ExpandedTag.AUTHENTICATION: "authentication", ExpandedTag.CHECKSUM: "secure messaging (checksum)",
            ExpandedTag.SIGNATURE: "digital signature", ExpandedTag.CONFIDENTIALITY:
            "secure messaging (encipherment)"}.get(ExpandedTag(node.tag), "condition")
    if node.tag == ExpandedTag.AUTHENTICATION and qualifier and qualifier[0] & 0x08:
        return f"PIN {ref.hex().upper()}" if ref else "user verification (PIN)"
    if node.tag == ExpandedTag.AUTHENTICATION and qualifier and qualifier[0] & 0x80:
        return f"external authentication with key {ref.hex().upper()}" if ref else "external authentication"
    return f"{kind} with key {ref.hex().upper()}" if ref else kind


def _condition(node: TlvNode) -> str:
    if node.tag == ExpandedTag.ALWAYS:
        return "always"
    if node.tag == ExpandedTag.NEVER:
        return "never"
    if node.tag == ExpandedTag.SC_BYTE and len(node.value) == 1:
        return sc_byte_text(node.value[0])
    if node.tag in (ExpandedTag.AUTHENTICATION, ExpandedTag.CHECKSUM, ExpandedTag.SIGNATURE,
                    ExpandedTag.CONFIDENTIALITY):
        return _crt(node)
    if node.tag in (ExpandedTag.OR, ExpandedTag.AND):
        word = " or " if node.tag == ExpandedTag.OR else " and "
        return "(" + word.join(_condition(child) for child in node.children) + ")"
    if node.tag == ExpandedTag.NOT:
        return "not (" + " or ".join(_condition(child) for child in node.children) + ")"
    return f"condition {node.tag_hex} not defined by ISO/IEC 7816-4"


def _mode_text(node: TlvNode, table: Modes) -> tuple[list[str], str]:
    if node.tag == ExpandedTag.ACCESS_MODE and len(node.value) == 1:
        modes = _modes(node.value[0], table)
        return modes, "access mode byte: " + (", ".join(modes) or "nothing")
    if 0x81 <= node.tag <= 0x8F:
        # Tag bits 4-1 say which of CLA, INS, P1, P2 the value holds, in that order.
        fields = [n for bit, n in ((8, "CLA"), (4, "INS"), (2, "P1"), (1, "P2")) if node.tag & bit]
        described = ", ".join(f"{n}={b:02X}" for n, b in zip(fields, node.value, strict=False))
        return [f"command {described}"], f"command description ({', '.join(fields)})"
    return [], "not an access mode data object"


def expanded(buffer: Buffer, node: TlvNode, table: Modes, rules: Rules, name: str) -> Finding:
    """AB (and A0 with the data object table): access mode data objects, each followed by its
    security conditions."""
    children, summary = _rule_list(buffer, node.children, table, rules)
    return buffer.node(node, name, "", summary, children)


def arr_record(buffer: Buffer, name: str) -> Finding:
    """A record of EF.ARR: the access rules that an FCP's 8B points at, in the expanded form's
    content (ISO/IEC 7816-4 7.4.3, ETSI TS 102 221 9.2.4), decoded as access rules (80 an access
    mode, 90 always, A4 a PIN or key), not as the data objects the same tags are elsewhere.
    Access mode bits are read as for an EF: the files that point at a rule are EFs far more often."""
    data = buffer.data
    nodes = decode_tlv(data).nodes if looks_like_tlv(data) else ()
    if not nodes:
        return buffer.finding(name, 0, len(data), text_of(data), "not an access rule list (BER-TLV expected)")
    children, summary = _rule_list(buffer, nodes, mode_table(False), Rules())
    return buffer.finding(name, 0, len(data), summary or "no rule decoded",
                          "access rules (EF.ARR record, expanded format)", children)


def _rule_list(buffer: Buffer, nodes: tuple[TlvNode, ...], table: Modes,
               rules: Rules) -> tuple[tuple[Finding, ...], str]:
    children: list[Finding] = []
    modes: list[str] = []
    for child in nodes:
        label = f"{child.tag_hex}"
        if child.tag == ExpandedTag.ACCESS_MODE or 0x81 <= child.tag <= 0x8F:
            modes, text = _mode_text(child, table)
            children.append(buffer.node(child, f"{label} access mode", text_of(child.value), text))
        else:
            condition = _condition(child)
            for mode in modes:
                rules.add(mode, condition, expanded=True)
            guarded = ", ".join(modes) or "no access mode before it"
            children.append(buffer.node(child, f"{label} security condition", to_hex(child.value),
                                        f"{guarded}: {condition}"))
    summary = "; ".join(f"{m}: {c}" for m, c in rules.expanded.items())
    return tuple(children), summary
