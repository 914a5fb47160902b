"""Application related data (6E, spec 4.4.3.1): the AID, historical bytes, extended length
information and the discretionary data objects (73) — extended capabilities, algorithm
attributes, PW status, fingerprints, CA fingerprints, generation times, key information, UIF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from explorer.apps.findings import Finding
from explorer.apps.openpgp.aid import Aid, decode_aid
from explorer.apps.openpgp.attributes import Attributes, decode_attributes
from explorer.apps.openpgp.capabilities import (
    decode_extended_capabilities,
    decode_extended_length,
    decode_historical_bytes,
    decode_pw_status,
)
from explorer.apps.openpgp.constants import SLOTS, Tag
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

FINGERPRINT_LENGTH = 20
KEY_STATUS = {0x00: "no key", 0x01: "generated on the card", 0x02: "imported"}
UIF_STATES = {0x00: "disabled", 0x01: "enabled", 0x02: "permanently enabled",
              0x03: "cached (vendor extension)", 0x04: "cached and permanent (vendor extension)"}
_ATTRIBUTE_TAGS = {Tag.ALGORITHM_ATTRIBUTES_SIG: SLOTS[0], Tag.ALGORITHM_ATTRIBUTES_DEC: SLOTS[1],
                   Tag.ALGORITHM_ATTRIBUTES_AUT: SLOTS[2]}
_UIF_TAGS = {Tag.UIF_SIG: SLOTS[0], Tag.UIF_DEC: SLOTS[1], Tag.UIF_AUT: SLOTS[2]}


@dataclass
class StoredKey:
    """What 6E says about one key: its attributes, fingerprint and generation time (0: none)."""

    attributes: Attributes | None = None
    fingerprint: bytes = b""
    created: int = 0


@dataclass
class AppData:
    """What the rest of the analysis needs from 6E."""

    aid: Aid | None = None
    keys: list[StoredKey] = field(default_factory=lambda: [StoredKey() for _ in SLOTS])


def is_unset(value: bytes) -> bool:
    return not any(value)


def date_text(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _thirds(answer: Answer, node: TlvNode, size: int, name: str, show: Callable[[bytes], tuple[str, str]],
            why: str) -> Finding:
    start = node.offset + node.header_length
    parts = []
    for slot in SLOTS:
        pos = start + slot.index * size
        if pos + size > node.end:
            break
        parts.append(at(answer, pos, pos + size, slot.label, *show(answer.data[pos : pos + size])))
    short = "" if len(node.value) == 3 * size else f" ({len(node.value)} bytes: 3 x {size} expected)"
    return of_node(answer, node, name, f"{sum(1 for p in parts if p.value != 'not set')} of 3 set" + short,
                   why, parts)


def _fingerprint_text(raw: bytes) -> tuple[str, str]:
    if is_unset(raw):
        return "not set", "all zero: no key (or no fingerprint written)"
    return raw.hex().upper(), "the OpenPGP v4 fingerprint the card stores for this key"


def _time_text(raw: bytes) -> tuple[str, str]:
    seconds = int.from_bytes(raw, "big")
    if not seconds:
        return "not set", "zero: no generation date"
    return date_text(seconds), f"{seconds} seconds since 1970-01-01 UTC"


def _key_information(answer: Answer, node: TlvNode) -> Finding:
    start = node.offset + node.header_length
    parts = []
    for pos in range(start, node.end - 1, 2):
        ref, status = answer.data[pos], answer.data[pos + 1]
        label = SLOTS[ref - 1].label if 1 <= ref <= 3 else f"Key {ref:02X}"
        parts.append(at(answer, pos, pos + 2, label, KEY_STATUS.get(status, f"status {status:02X}"),
                        f"key reference {ref:02X}, status {status:02X}"))
    return of_node(answer, node, "Key information", "; ".join(f"{p.name}: {p.value}" for p in parts),
                   "Whether each key is there and whether the card made it or it was imported (DE).", parts)


def _uif(answer: Answer, node: TlvNode) -> Finding:
    slot = _UIF_TAGS[Tag(node.tag)]
    value = node.value
    state = UIF_STATES.get(value[0], "reserved value") if value else "empty"
    feature = ""
    if len(value) > 1:
        feature = f"; general feature {value[1]:02X}" + (" (button)" if value[1] == 0x20 else "")
    return of_node(answer, node, f"User interaction flag, {slot.label.lower()}", state,
                   f"Whether using the key needs a touch or button press ({node.tag_hex}){feature}.")


def _generic(answer: Answer, node: TlvNode) -> Finding:
    return of_node(answer, node, f"Tag {node.tag_hex}", to_hex(node.value), "not decoded here")


def _discretionary(answer: Answer, node: TlvNode, out: AppData) -> Finding:
    children = []
    for child in node.children:
        tag = child.tag
        if tag == Tag.EXTENDED_CAPABILITIES:
            children.append(decode_extended_capabilities(answer, child))
        elif tag in _ATTRIBUTE_TAGS:
            slot = _ATTRIBUTE_TAGS[Tag(tag)]
            found, parsed = decode_attributes(answer, child, slot.label)
            out.keys[slot.index].attributes = parsed
            children.append(found)
        elif tag == Tag.PW_STATUS_BYTES:
            children.append(decode_pw_status(answer, child))
        elif tag == Tag.FINGERPRINTS:
            for slot in SLOTS:
                out.keys[slot.index].fingerprint = child.value[slot.index * 20 : slot.index * 20 + 20]
            children.append(_thirds(answer, child, FINGERPRINT_LENGTH, "Fingerprints", _fingerprint_text,
                                    "The v4 fingerprints of the three keys, 20 bytes each (C5)."))
        elif tag == Tag.CA_FINGERPRINTS:
            children.append(_thirds(answer, child, FINGERPRINT_LENGTH, "CA fingerprints", _fingerprint_text,
                                    "Fingerprints of certification authority keys the card trusts (C6)."))
        elif tag == Tag.GENERATION_TIMES:
            for slot in SLOTS:
                raw = child.value[slot.index * 4 : slot.index * 4 + 4]
                out.keys[slot.index].created = int.from_bytes(raw, "big") if len(raw) == 4 else 0
            children.append(_thirds(answer, child, 4, "Key generation dates", _time_text,
                                    "When each key was made, as written with it (CD); the fingerprint "
                                    "covers it."))
        elif tag == Tag.KEY_INFORMATION:
            children.append(_key_information(answer, child))
        elif tag in _UIF_TAGS:
            children.append(_uif(answer, child))
        else:
            children.append(_generic(answer, child))
    return of_node(answer, node, "Discretionary data objects", f"{len(children)} objects",
                   "Capabilities, algorithms, passwords and keys (73).", children)


def decode_application_data(answer: Answer, node: TlvNode) -> tuple[Finding, AppData]:
    """`node` is the 6E template (or the answer's objects, when the card left the 6E out)."""
    out = AppData()
    children = []
    for child in node.children:
        if child.tag == Tag.AID:
            start = child.offset + child.header_length
            found, out.aid = decode_aid(answer, start, child.end)
            children.append(found)
        elif child.tag == Tag.HISTORICAL_BYTES:
            children.append(decode_historical_bytes(answer, child))
        elif child.tag == Tag.EXTENDED_LENGTH_INFORMATION:
            children.append(decode_extended_length(answer, child))
        elif child.tag == Tag.DISCRETIONARY_DATA_OBJECTS:
            children.append(_discretionary(answer, child, out))
        else:
            children.append(_generic(answer, child))
    return of_node(answer, node, "Application related data", f"{len(children)} objects",
                   "What the card says about itself and its three keys (6E), read with GET DATA.",
                   children), out
