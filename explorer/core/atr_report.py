"""A decoded ATR as JSON (the CLI's documented schema) and as plain text
(what the ATR panel copies and `card-explorer atr` prints): one shape each,
used by every front end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from explorer.core.atr import Atr
from explorer.core.atr_fields import span_text
from explorer.core.atrdb import AtrMatch
from explorer.core.hexfmt import to_hex


def _hex1(value: int | None) -> str | None:
    return None if value is None else f"{value:02X}"


def _number(value: float | str | None) -> float | int | str | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def atr_json(atr: Atr, matches: Sequence[AtrMatch] = ()) -> dict[str, Any]:
    """The JSON object of `card-explorer atr --json`; keys and types are the
    README's schema, so change both together."""
    hb = atr.historical
    tlv = None if hb.tlv is None else [
        {"tag": f"{o.tag:X}", "len": o.length, "value": to_hex(o.value)} for o in hb.tlv
    ]
    return {
        "ts": _hex1(atr.ts),
        "convention": atr.convention.value,
        "t0": _hex1(atr.t0),
        "k": atr.k,
        "length": atr.length,
        "interface_bytes": {b.name: f"{b.value:02X}" for b in atr.interface_bytes},
        "protocols": list(atr.protocols),
        "first_protocol": atr.first_protocol,
        "specific_mode_protocol": atr.specific_mode_protocol,
        "default_protocol": atr.default_protocol,
        "Fi": atr.fi,
        "Di": atr.di,
        "fmax_mhz": _number(atr.fmax_mhz),
        "N": atr.n,
        "tck_expected": atr.tck_expected,
        "tck_present": atr.tck_present,
        "tck": _hex1(atr.tck),
        "tck_ok": atr.tck_ok,
        "historical_bytes": to_hex(hb.data),
        "hb_category": _hex1(hb.category),
        "hb_tlv": tlv,
        "hb_status": None if hb.status is None else to_hex(hb.status),
        "hb_dir_ref": _hex1(hb.dir_ref),
        "truncated": atr.truncated,
        "extra_bytes": to_hex(atr.extra_bytes),
        "too_long": atr.too_long,
        "db_matches": [m.to_json() for m in matches],
    }


def summary(atr: Atr) -> str:
    """One line a tester reads first: convention, protocols, rate, checksum."""
    if atr.ts is None:
        return "empty ATR"
    parts = [f"{atr.convention.value} convention"]
    parts.append("protocols " + ", ".join(f"T={t}" for t in atr.protocols)
                 + (f" (specific mode T={atr.specific_mode_protocol})"
                    if atr.specific_mode_protocol is not None else ""))
    if isinstance(atr.fi, int) and isinstance(atr.di, int):
        parts.append(f"Fi={atr.fi} Di={atr.di}")
    if atr.tck_ok is not None:
        parts.append("TCK " + ("correct" if atr.tck_ok else "WRONG"))
    if atr.truncated:
        parts.append("truncated")
    if atr.extra_bytes:
        parts.append(f"{len(atr.extra_bytes)} extra byte(s)")
    if atr.too_long:
        parts.append(f"too long ({atr.length} bytes)")
    card = atr.historical.storage_card
    if card is not None:
        parts.append(card.name)
    return "; ".join(parts)


def atr_text(atr: Atr, matches: Sequence[AtrMatch] = (), source: str | None = None,
             not_looked_up: str | None = None) -> str:
    """`not_looked_up` says why there was no lookup (no list, --no-db); without
    it an empty `matches` reads "not in the list"."""
    lines = [f"ATR: {to_hex(atr.raw)}", summary(atr), ""]
    for field in atr.fields:
        for depth, f in field.walk():
            meaning = f"  {f.meaning}" if f.meaning else ""
            lines.append(f"{'  ' * depth}{f.name}: {f.value}{meaning}")
    if atr.findings:
        lines += ["", "Findings:"]
        lines += [f"  {f.level.name.lower()}: {f.message} ({span_text(f.start, f.end)})"
                  for f in atr.findings]
    if not_looked_up is not None:
        return "\n".join([*lines, "", f"Identification: {not_looked_up}"]) + "\n"
    lines += ["", "Identification" + (f" ({source}):" if source else ":")]
    if not matches:
        lines.append("  not in the list")
    for m in matches:
        lines.append(f"  {m.entry.pattern}  [{'exact' if m.exact else 'pattern'}]")
        lines += [f"      {d}" for d in m.entry.descriptions]
    return "\n".join(lines) + "\n"
