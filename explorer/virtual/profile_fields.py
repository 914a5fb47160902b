"""Reading a profile's JSON: each field's type and range checked, and a ProfileError that names
the JSON path of what is wrong ("files.children[2]: content is not hex (...)"). Shared by the
parts of the profile format (explorer.virtual.profile, profile_files, the passport's `bac`)."""

from __future__ import annotations

from typing import Any

from explorer.core.hexfmt import HexError, parse_hex
from explorer.core.input_error import InputError
from explorer.core.json_input import describe, quoted, string, whole
from explorer.core.tlv import decode_tlv


class ProfileError(InputError):
    """A profile that cannot be used. `where` is the JSON path of the object at
    fault ("files.children[0]"), empty for the top level or the file itself."""


def fail(problem: str, where: str) -> ProfileError:
    return ProfileError(problem, where)


def as_object(value: Any, where: str, what: str = "an object") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(f"expected {what}, found {describe(value)}", where)
    return {k: v for k, v in value.items() if not k.startswith("_")}


def check_keys(obj: dict[str, Any], where: str, required: set[str], allowed: set[str]) -> None:
    missing, unknown = sorted(required - obj.keys()), sorted(obj.keys() - allowed)
    if missing:
        raise fail(f"missing key {missing[0]!r}", where)
    if unknown:
        raise fail(f"unknown key {quoted(unknown[0])} (expected one of {', '.join(sorted(allowed))})", where)


def text_of(obj: dict[str, Any], key: str, where: str) -> str:
    return string(obj[key], key, where)


def int_of(obj: dict[str, Any], key: str, where: str, low: int, high: int) -> int:
    return whole(obj[key], key, where, low, high)


def hex_of(obj: dict[str, Any], key: str, where: str, low: int = 0, high: int = 1 << 20) -> bytes:
    text = text_of(obj, key, where)
    try:
        data = parse_hex(text)
    except HexError as exc:
        raise fail(f"{key} is not hex ({exc})", where) from None
    if not low <= len(data) <= high:
        size = f"{low} bytes" if low == high else f"{low} to {high} bytes"
        raise fail(f"{key} must have {size}, found {len(data)}", where)
    return data


def tlv_of(obj: dict[str, Any], key: str, where: str) -> bytes:
    """Optional BER-TLV objects (up to 200 bytes) a template carries: checked, since a reader's
    TLV parser meets them."""
    data = hex_of(obj, key, where, 0, 200) if key in obj else b""
    bad = decode_tlv(data).error
    if bad is not None:
        raise fail(f"{key} is not BER-TLV ({bad.message})", where)
    return data
