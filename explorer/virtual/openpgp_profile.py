"""The `openpgp` key of a card profile: an OpenPGP application's data objects and public keys
(OpenPGP smart card application 3.4), which `openpgp_commands` serves.

    "openpgp": {
        "data_objects": {"6E": "4F10 D276...", "65": "5B0B ...", "7A": "9303000005",
                         "5E": "616C696365", "5F50": "6874...", "7F21": "3082..."},
        "public_keys": {"B6": "7F49 82 0109 81 82 0100 ... 82 03 010001", "B8": "...", "A4": "..."}}

`data_objects`: tag -> value (hex). GET DATA answers the templates 65, 6E, 7A and FA as whole data
objects (tag, length, value) and every other DO as its value alone, as OpenPGP cards do (7F21: the
certificate itself). `public_keys`: control reference template (B6 signature, B8 decryption,
A4 authentication) -> the public key template (7F49 ...) GENERATE ASYMMETRIC KEY PAIR answers in
read mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from explorer.core.hexfmt import HexError, parse_hex
from explorer.core.input_error import InputError
from explorer.core.json_input import describe, quoted, string
from explorer.core.tlv import decode_tlv

#: Constructed DOs the card composes from others: answered with their tag and length.
TEMPLATES = frozenset({0x65, 0x6E, 0x7A, 0xFA})
KEY_REFERENCES = {"B6": 0xB6, "B8": 0xB8, "A4": 0xA4}
_KEYS = {"data_objects", "public_keys"}
#: A DO as big as a short answer chain carries; the extended capabilities usually say 2048 or less.
MAX_DO = 4096


@dataclass(frozen=True)
class OpenPgpSpec:
    data_objects: tuple[tuple[int, bytes], ...] = ()
    public_keys: tuple[tuple[int, bytes], ...] = ()


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"expected an object, found {describe(value)}", where)
    return {k: v for k, v in value.items() if not k.startswith("_")}


def _hex(value: Any, key: str, where: str) -> bytes:
    try:
        data = parse_hex(string(value, key, where))
    except HexError as exc:
        raise InputError(f"the value is not hex ({exc})", where) from None
    if len(data) > MAX_DO:
        raise InputError(f"{len(data)} bytes: at most {MAX_DO}", where)
    return data


def _tag(key: str, where: str) -> int:
    try:
        tag = parse_hex(key)
    except HexError as exc:
        raise InputError(f"the tag is not hex ({exc})", where) from None
    one = len(tag) == 1 and tag[0] & 0x1F != 0x1F
    two = len(tag) == 2 and tag[0] & 0x1F == 0x1F and not tag[1] & 0x80
    # 0101-0104 (private use) are no BER tags, yet GET DATA's P1-P2 for them.
    private = len(tag) == 2 and tag[0] == 0x01
    if not (one or two or private):
        raise InputError("the tag must be a data object tag of 1 or 2 bytes, as GET DATA's P1-P2", where)
    return int.from_bytes(tag, "big")


def _data_objects(value: Any, where: str) -> tuple[tuple[int, bytes], ...]:
    out: dict[int, bytes] = {}
    for key, item in _table(value, where).items():
        at = f"{where}[{quoted(key)}]"
        tag = _tag(key, at)
        if tag in out:
            raise InputError("the tag is declared twice", at)
        data = _hex(item, key, at)
        bad = decode_tlv(data).error if tag in TEMPLATES else None
        if bad is not None:
            raise InputError(f"template {tag:02X} is not BER-TLV ({bad.message})", at)
        out[tag] = data
    return tuple(out.items())


def _public_keys(value: Any, where: str) -> tuple[tuple[int, bytes], ...]:
    out = []
    for key, item in _table(value, where).items():
        at = f"{where}[{quoted(key)}]"
        if key.upper() not in KEY_REFERENCES:
            raise InputError("the key must be B6 (signature), B8 (decryption) or A4 (authentication)", at)
        data = _hex(item, key, at)
        nodes = decode_tlv(data).nodes
        if len(nodes) != 1 or nodes[0].tag != 0x7F49 or nodes[0].end != len(data):
            raise InputError("a public key must be one 7F49 template and nothing after it", at)
        out.append((KEY_REFERENCES[key.upper()], data))
    return tuple(out)


def parse_openpgp(value: Any, where: str = "openpgp") -> OpenPgpSpec:
    """InputError (naming the JSON path) for anything wrong; the profile reader recasts it."""
    obj = _table(value, where)
    unknown = sorted(obj.keys() - _KEYS)
    if unknown:
        expected = ", ".join(sorted(_KEYS))
        raise InputError(f"unknown key {quoted(unknown[0])} (expected one of {expected})", where)
    objects = _data_objects(obj["data_objects"], f"{where}.data_objects") if "data_objects" in obj else ()
    keys = _public_keys(obj["public_keys"], f"{where}.public_keys") if "public_keys" in obj else ()
    return OpenPgpSpec(objects, keys)
