"""Access rules as a UICC declares them (ETSI TS 102 221 9.2, ISO/IEC 7816-4 7.4): compact
(8C), expanded (AB, and EF.ARR records), referenced to an EF.ARR record (8B); and a GSM SIM's
access condition nibbles (51.011 9.3)."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.sim.constants import key_reference_name
from explorer.core.tlv import TlvNode, decode_tlv

#: Access mode byte bits for an EF, b7 down to b1 (7816-4 table 18): the order compact SC bytes follow.
_EF_OPS = ("DELETE FILE", "TERMINATE EF", "ACTIVATE", "DEACTIVATE", "WRITE", "UPDATE", "READ")
_DF_OPS = ("DELETE FILE", "TERMINATE DF", "ACTIVATE", "DEACTIVATE", "CREATE DF", "CREATE EF",
           "DELETE FILE (child)")


@dataclass(frozen=True)
class Rule:
    operation: str
    condition: str


def _operations(am: int, df: bool) -> list[str]:
    names = _DF_OPS if df else _EF_OPS
    return [names[i] for i in range(7) if am >> (6 - i) & 1]


def _compact_condition(sc: int) -> str:
    if sc == 0x00:
        return "always"
    if sc == 0xFF:
        return "never"
    parts = [what for bit, what in ((0x40, "secure messaging"), (0x20, "external authentication"),
                                    (0x10, "user authentication (a PIN)")) if sc & bit]
    joined = (" and " if sc & 0x80 else " or ").join(parts) or "a condition"
    se = sc & 0x0F
    return joined + (f", security environment {se}" if se else "")


def compact_rules(data: bytes, df: bool = False) -> list[Rule]:
    """8C: an access mode byte, then one security condition byte per operation it names."""
    if not data:
        return []
    ops = _operations(data[0], df)
    return [Rule(op, _compact_condition(sc) if sc is not None else "missing")
            for op, sc in zip(ops, list(data[1:]) + [None] * len(ops), strict=False)]


def _condition(node: TlvNode) -> str:
    if node.tag == 0x90:
        return "always"
    if node.tag == 0x97:
        return "never"
    if node.tag == 0xA4:  # control reference template for user authentication
        refs = [c.value[0] for c in node.children if c.tag == 0x83 and c.value]
        return " / ".join(f"verify {key_reference_name(r)}" for r in refs) or "user authentication"
    if node.tag in (0xA0, 0xAF):
        parts = [_condition(c) for c in node.children]
        return (" or " if node.tag == 0xA0 else " and ").join(parts)
    if node.tag == 0x9E:
        return "security condition byte " + _compact_condition(node.value[0] if node.value else 0)
    return f"condition {node.tag_hex}"


def expanded_rules(data: bytes, df: bool = False) -> list[Rule]:
    """AB or an EF.ARR record: access mode DOs (80: an AM byte) each followed by its conditions."""
    rules: list[Rule] = []
    ops: list[str] = []
    for node in decode_tlv(data).nodes:
        if node.tag == 0x80:
            ops = _operations(node.value[0], df) if node.value else []
        elif 0x81 <= node.tag <= 0x8F:
            ops = [f"commands named in {node.tag_hex}"]
        else:
            cond = _condition(node)
            rules += [Rule(op, cond) for op in ops]
    return rules


def referenced(data: bytes) -> tuple[int | None, int] | None:
    """8B: (EF.ARR FID or None for the default one, record number), or None when unreadable."""
    if len(data) == 1:
        return None, data[0]
    if len(data) >= 3:
        # FID + record, or FID + (SE number, record) pairs: the first pair's record stands for all
        return int.from_bytes(data[:2], "big"), data[2] if len(data) == 3 else data[3]
    return None


def rules_text(rules: list[Rule]) -> str:
    return "; ".join(f"{r.operation}: {r.condition}" for r in rules) or "no rule"


def read_rule(rules: list[Rule]) -> str | None:
    return next((r.condition for r in rules if r.operation == "READ"), None)


_GSM_LEVELS = {0x0: "always", 0x1: "CHV1 (PIN1)", 0x2: "CHV2 (PIN2)", 0x3: "RFU", 0xF: "never"}


def gsm_condition(nibble: int) -> str:
    return _GSM_LEVELS.get(nibble, f"ADM (level {nibble:X}, the operator's)")


def gsm_rules(conditions: bytes) -> list[Rule]:
    """51.011 9.2.1 bytes 9-11: READ|UPDATE, INCREASE|RFU, REHABILITATE|INVALIDATE."""
    if len(conditions) < 3:
        return []
    a, b, c = conditions[:3]
    return [Rule("READ", gsm_condition(a >> 4)), Rule("UPDATE", gsm_condition(a & 0x0F)),
            Rule("INCREASE", gsm_condition(b >> 4)), Rule("REHABILITATE", gsm_condition(c >> 4)),
            Rule("INVALIDATE", gsm_condition(c & 0x0F))]
