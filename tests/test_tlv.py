from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.hexfmt import parse_hex
from explorer.core.tlv import TlvError, TlvNode, TlvResult, decode_tlv, looks_like_tlv, tlv_lines

FCI = parse_hex("6F 1A 84 07 A0 00 00 00 04 10 10 A5 0F 50 0A 4D 61 73 74 65 72 43 61 72 64 87 01 01")


def decode(text: str, **kwargs: int) -> TlvResult:
    return decode_tlv(parse_hex(text), **kwargs)


def shape(nodes: tuple[TlvNode, ...]) -> list[tuple[str, int, int, object]]:
    """(tag, offset, length, children or value hex) for compact comparisons."""
    return [(n.tag_hex, n.offset, n.length, shape(n.children) if n.constructed else n.value.hex().upper())
            for n in nodes]


def walk(nodes: tuple[TlvNode, ...]) -> list[TlvNode]:
    out: list[TlvNode] = []
    for node in nodes:
        out.append(node)
        out.extend(walk(node.children))
    return out


# -- good data ----------------------------------------------------------------

def test_fci_tree() -> None:
    result = decode_tlv(FCI)
    assert result.error is None
    (fci,) = result.nodes
    assert (fci.tag, fci.tag_hex, fci.name, fci.constructed) == (0x6F, "6F", "FCI template", True)
    assert (fci.offset, fci.header_length, fci.length, fci.end) == (0, 2, 0x1A, 28)
    assert fci.value == FCI[2:]
    df_name, prop = fci.children
    assert (df_name.tag_hex, df_name.name, df_name.offset, df_name.end) == ("84", "DF name", 2, 11)
    assert df_name.value == bytes.fromhex("A0000000041010")
    assert not df_name.constructed and df_name.children == ()
    assert (prop.tag_hex, prop.name, prop.offset, prop.length, prop.constructed) == (
        "A5", "FCI proprietary template", 11, 15, True)
    label, priority = prop.children
    assert (label.name, label.offset, label.value) == ("application label", 13, b"MasterCard")
    assert (priority.tag, priority.offset, priority.value, priority.end) == (0x87, 25, b"\x01", 28)


def test_fci_lines() -> None:
    assert tlv_lines(decode_tlv(FCI)) == [
        "6F (FCI template) 1A",
        "  84 (DF name) 07: A0 00 00 00 04 10 10",
        "  A5 (FCI proprietary template) 0F",
        '    50 (application label) 0A: 4D 61 73 74 65 72 43 61 72 64 "MasterCard"',
        "    87 (FCI extension EF / application priority indicator) 01: 01",
    ]


def test_lines_unknown_tag_short_ascii_and_empty_value() -> None:
    # ASCII is shown from three bytes up: two printable bytes are as often a number.
    assert tlv_lines(decode("DF 7E 02 41 42 C0 00 C1 03 41 42 43")) == [
        "DF7E 02: 41 42", "C0 00", 'C1 03: 41 42 43 "ABC"']


def test_multi_byte_tags() -> None:
    result = decode("BF 0C 0B 9F 38 03 9F 1A 02 5F 2D 02 65 6E")
    assert result.error is None
    (bf0c,) = result.nodes
    assert (bf0c.tag, bf0c.tag_bytes, bf0c.header_length, bf0c.constructed) == (0xBF0C, b"\xbf\x0c", 3, True)
    assert bf0c.name == "FCI issuer discretionary data"
    pdol, lang = bf0c.children
    assert (pdol.tag, pdol.tag_hex, pdol.name, pdol.offset, pdol.value) == (
        0x9F38, "9F38", "PDOL", 3, bytes.fromhex("9F1A02"))
    assert (lang.tag, lang.name, lang.offset, lang.value) == (0x5F2D, "language preference", 9, b"en")


def test_three_and_four_byte_tags() -> None:
    result = decode("DF 81 01 01 AA 1F 81 82 03 00")
    assert result.error is None
    assert [(n.tag, n.header_length) for n in result.nodes] == [(0xDF8101, 4), (0x1F818203, 5)]


@pytest.mark.parametrize(("length_field", "size"), [("81 80", 0x80), ("81 05", 5), ("82 01 2C", 300),
                                                      ("83 00 01 00", 256), ("84 00 00 00 03", 3)])
def test_long_form_lengths(length_field: str, size: int) -> None:
    result = decode_tlv(bytes.fromhex("90" + length_field.replace(" ", "")) + bytes(range(256)) * 2,
                        max_depth=1)
    node = result.nodes[0]
    assert (node.length, node.header_length) == (size, 1 + len(length_field.split()))
    assert node.value == (bytes(range(256)) * 2)[:size]


def test_padding_between_objects_is_skipped() -> None:
    # EMV pads records with 00, ISO 7816-4 allows FF too, also inside templates.
    result = decode("00 FF 70 08 5A 01 11 00 FF 88 01 00 00 57 01 22 FF FF 00")
    assert result.error is None
    assert shape(result.nodes) == [("70", 2, 8, [("5A", 4, 1, "11"), ("88", 9, 1, "00")]),
                                   ("57", 13, 1, "22")]


def test_empty_and_padding_only() -> None:
    assert decode_tlv(b"") == TlvResult((), None)
    assert decode("00 00 FF") == TlvResult((), None)


# -- bad data: a partial tree and the first error ------------------------------

@pytest.mark.parametrize(("text", "offset", "words", "kept"), [
    ("84 01 AA 9F", 3, "tag at offset 3 is cut short by the end", ["84"]),
    ("84 01 AA 5F 81", 3, "tag at offset 3 is cut short", ["84"]),
    ("84 01 AA 9F 38", 5, "length at offset 5 is cut short by the end", ["84"]),
    ("84 01 AA 84 82 01", 4, "length at offset 4 is cut short by the end: 0x82 needs 2 bytes more, 1 left",
     ["84"]),
    ("84 01 AA 50 20 41 42 43 44 45 46 47 48 49 4A 4B 4C", 4,
     "length 0x20 at offset 4 runs past the end: 12 bytes left", ["84"]),
    ("84 81 05 01", 1, "length 0x05 at offset 1 runs past the end: 1 byte left", []),
    ("84 01 AA 6F 80 84 01 AA 00 00", 4, "indefinite length (0x80) at offset 4 is not supported", ["84"]),
    ("84 85 00 00 00 00 01 AA", 1, "length byte 0x85 at offset 1 is invalid", []),
    ("84 01 AA 9F 81 82 83 04 00", 3, "tag at offset 3 is longer than 4 bytes", ["84"]),
])
def test_errors(text: str, offset: int, words: str, kept: list[str]) -> None:
    result = decode(text)
    assert result.error is not None
    assert result.error.offset == offset
    assert words in result.error.message
    assert [n.tag_hex for n in result.nodes] == kept
    assert tlv_lines(result)[-1] == f"error at offset {offset}: {result.error.message}"


def test_error_deep_inside_keeps_the_parents() -> None:
    # 6F > A5 > BF0C > (9F4D ok, then 5F2D with a length past the end of BF0C), then 88 never read.
    result = decode("6F 10 84 01 AA A5 0B BF 0C 08 9F 4D 02 0B 0A 5F 2D 05 88 01 01")
    assert result.error is not None
    assert result.error.offset == 17
    assert result.error.message == "length 0x05 at offset 17 runs past the end of BF0C: 0 bytes left"
    assert shape(result.nodes) == [("6F", 0, 0x10, [
        ("84", 2, 1, "AA"),
        ("A5", 5, 0x0B, [("BF0C", 7, 8, [("9F4D", 10, 2, "0B0A")])]),
    ])]
    # The templates keep their whole value so a view can still show the bytes.
    assert result.nodes[0].value == parse_hex("84 01 AA A5 0B BF 0C 08 9F 4D 02 0B 0A 5F 2D 05")


def test_child_cut_by_its_parent_not_by_the_data() -> None:
    # A5 says 3 bytes; its child 50 announces 4, which the data has but A5 does not.
    result = decode("A5 03 50 04 41 42 43 44")
    assert result.error is not None
    assert result.error == TlvError("length 0x04 at offset 3 runs past the end of A5: 1 byte left", 3)
    assert shape(result.nodes) == [("A5", 0, 3, [])]
    cut = decode("A5 01 9F 38 01 00")
    assert cut.error is not None
    assert (cut.error.offset, cut.error.message) == (2, "tag at offset 2 is cut short by the end of A5")
    assert shape(cut.nodes) == [("A5", 0, 1, [])]


def test_offset_shifts_everything() -> None:
    plain, shifted = decode_tlv(FCI), decode_tlv(FCI, offset=100)
    assert [n.offset + 100 for n in walk(plain.nodes)] == [n.offset for n in walk(shifted.nodes)]
    assert [n.end + 100 for n in walk(plain.nodes)] == [n.end for n in walk(shifted.nodes)]
    bad = decode("84 01 AA 50 20 41", offset=7)
    assert bad.error is not None
    assert bad.error.offset == 11
    assert bad.error.message == "length 0x20 at offset 11 runs past the end: 1 byte left"
    assert bad.nodes[0].offset == 7


# -- depth -----------------------------------------------------------------------

def nested(levels: int) -> bytes:
    """`levels` A5 templates, one inside the other, around a 50 00."""
    data = b"\x50\x00"
    for _ in range(levels):
        data = b"\xa5" + bytes([0x82]) + len(data).to_bytes(2, "big") + data
    return data


def test_max_depth() -> None:
    ok = decode_tlv(nested(15))
    assert ok.error is None
    assert len(walk(ok.nodes)) == 16
    deep = decode_tlv(nested(16))
    assert deep.error is not None
    assert deep.error.message == "object at offset 64 is nested deeper than 16 levels"
    assert deep.error.offset == 64
    assert len(walk(deep.nodes)) == 16
    assert decode_tlv(nested(3), max_depth=2).error is not None
    assert decode_tlv(b"\x50\x00", max_depth=0) == TlvResult(
        (), TlvError("object at offset 0 is nested deeper than 0 levels", 0))


def test_very_deep_nesting_never_recurses() -> None:
    data = nested(5000)
    result = decode_tlv(data, max_depth=100_000)
    assert result.error is None
    assert len(tlv_lines(result)) == 5001
    limited = decode_tlv(data)
    assert limited.error is not None and "deeper than 16" in limited.error.message


# -- looks_like_tlv --------------------------------------------------------------

@pytest.mark.parametrize(("data", "expected"), [
    (FCI, True),
    (parse_hex("70 03 5A 01 11 00 00"), True),
    (parse_hex("90 00"), False),
    (parse_hex("6F 00"), False),
    (b"", False),
    (parse_hex("00 00 00"), False),
    (parse_hex("00 84 01 AA"), False),
    (parse_hex("FF 84 01 AA"), False),
    (FCI + b"\x90", False),
    (FCI[:-1], False),
    (b"Hello, world! This is plain ASCII text.", False),
    (b"ABCDEFGH", False),
])
def test_looks_like_tlv(data: bytes, expected: bool) -> None:
    assert looks_like_tlv(data) is expected


# -- properties ------------------------------------------------------------------

def check_spans(data: bytes, base: int, result: TlvResult) -> None:
    def inside(nodes: tuple[TlvNode, ...], lo: int, hi: int) -> None:
        previous_end = lo
        for node in nodes:
            assert previous_end <= node.offset and node.end <= hi
            start = node.offset - base
            assert data[start : start + len(node.tag_bytes)] == node.tag_bytes
            assert node.value == data[start + node.header_length : node.end - base]
            assert node.tag == int.from_bytes(node.tag_bytes, "big")
            assert 1 <= len(node.tag_bytes) <= 4
            assert node.constructed or not node.children
            inside(node.children, node.offset + node.header_length, node.end)
            previous_end = node.end

    inside(result.nodes, base, base + len(data))
    if result.error is not None:
        assert base <= result.error.offset <= base + len(data)
        assert result.error.message


@settings(max_examples=5000, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=1 << 20))
def test_decode_is_total(data: bytes, base: int) -> None:
    result = decode_tlv(data, offset=base)
    check_spans(data, base, result)
    lines = tlv_lines(result)
    assert len(lines) == len(walk(result.nodes)) + (result.error is not None)
    looks_like_tlv(data)


def encode(tag: bytes, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return tag + bytes([n]) + value
    size = (n.bit_length() + 7) // 8
    return tag + bytes([0x80 | size]) + n.to_bytes(size, "big") + value


primitive_tags = st.sampled_from([b"\x84", b"\x50", b"\x9f\x38", b"\x5f\x2d", b"\xdf\x81\x01"])
constructed_tags = st.sampled_from([b"\x6f", b"\xa5", b"\xbf\x0c", b"\x70"])
trees = st.recursive(
    st.tuples(primitive_tags, st.binary(max_size=300)).map(lambda t: encode(*t)),
    lambda inner: st.tuples(constructed_tags, st.lists(inner, max_size=4)).map(
        lambda t: encode(t[0], b"".join(t[1]))),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(trees, st.sampled_from([b"", b"\x00", b"\xff\x00"])), max_size=4))
def test_well_formed_data_decodes_fully(parts: list[tuple[bytes, bytes]]) -> None:
    data = b"".join(tree + pad for tree, pad in parts)
    result = decode_tlv(data)
    assert result.error is None
    assert len(result.nodes) == len(parts)
    check_spans(data, 0, result)
