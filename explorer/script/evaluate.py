"""Judging one answer against a command's expectation, taking captures, and putting variables
into commands. Pure: the runner calls these on whatever thread it runs on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from explorer.core.hexfmt import to_hex
from explorer.script.model import Capture, Compare, Expectation, HexPart, Var

if TYPE_CHECKING:
    from explorer.core.tlv import TlvNode


def assemble(parts: Sequence[HexPart], variables: Mapping[str, bytes]) -> bytes:
    """The command's bytes with every ${NAME} replaced. KeyError names a variable that has no
    value (the parser refuses those it can see are unset; a capture that found nothing is one)."""
    return b"".join(part if isinstance(part, bytes) else variables[part.name] for part in parts)


def _path_text(path: Sequence[int]) -> str:
    return "/".join(f"{tag:02X}" for tag in path)


def find_tlv(data: bytes, path: Sequence[int]) -> TlvNode | None:
    """The element at `path` (outermost tag first) in BER-TLV `data`, or None."""
    from explorer.core.tlv import decode_tlv  # for TLV expectations only: not every run's start

    nodes: Sequence[TlvNode] = decode_tlv(data).nodes
    found: TlvNode | None = None
    for tag in path:
        found = next((node for node in nodes if node.tag == tag), None)
        if found is None:
            return None
        nodes = found.children
    return found


def check(expect: Expectation, data: bytes, sw: int | None) -> list[str]:
    """What does not hold, each as "expected …, got …"; empty when the answer is as expected."""
    failures: list[str] = []
    if expect.sw is not None:
        if sw is None:
            failures.append(f"expected SW {expect.sw.text}, got no status word")
        elif not expect.sw.matches(sw):
            failures.append(f"expected SW {expect.sw.text}, got {sw >> 8:02X} {sw & 0xFF:02X}")
    if expect.data is not None and not expect.data.matches(data):
        failures.append(f"expected data {expect.data_text or '(none)'}, got {to_hex(data) or '(none)'}")
    if expect.length is not None:
        compare, length = expect.length
        if (len(data) != length) if compare is Compare.EXACTLY else (len(data) < length):
            wanted = f"{length}" if compare is Compare.EXACTLY else f"at least {length}"
            failures.append(f"expected {wanted} data bytes, got {len(data)}")
    for path, value, text in expect.tlv:
        node = find_tlv(data, path)
        if node is None:
            failures.append(f"expected TLV {_path_text(path)}, not found in the data")
        elif value is not None and not value.matches(node.value):
            got = to_hex(node.value) or "(empty)"
            failures.append(f"expected TLV {_path_text(path)} = {text}, got {got}")
    return failures


def take(capture: Capture, data: bytes) -> bytes | str:
    """The captured bytes, or why there are none (a message)."""
    if capture.tlv_path:
        node = find_tlv(data, capture.tlv_path)
        if node is None:
            return f"capture {capture.name}: TLV {_path_text(capture.tlv_path)} is not in the data"
        return node.value
    end = len(data) if capture.length is None else capture.offset + capture.length
    if capture.offset > len(data) or end > len(data):
        return (f"capture {capture.name}: bytes {capture.offset} to {end - 1} asked, "
                f"the data has {len(data)}")
    return data[capture.offset:end]


def unset(parts: Sequence[HexPart], variables: Mapping[str, bytes]) -> list[str]:
    return [part.name for part in parts if isinstance(part, Var) and part.name not in variables]
