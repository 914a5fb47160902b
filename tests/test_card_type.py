"""Card-type predicates over ATRs: pure, no PC/SC."""

from __future__ import annotations

import pytest

from explorer.core.card_type import (
    AnyCardType,
    AtrCardType,
    AtrPatternCardType,
    CardType,
    PredicateCardType,
    parse_card_type,
)

H = bytes.fromhex
MIFARE_1K = H("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A")
MIFARE_PATTERN = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 .. .. .. .. .. .. .. .."


def test_any_card_needs_ts_and_t0() -> None:
    any_card = AnyCardType()
    assert any_card.description == "any card"
    assert any_card.matches(H("3B 00"))
    assert any_card.matches(MIFARE_1K)
    assert not any_card.matches(b"")
    assert not any_card.matches(H("3B"))


def test_exact_atr() -> None:
    card = AtrCardType(H("3B 8C 80 01"))
    assert card.matches(H("3B 8C 80 01"))
    assert not card.matches(H("3B 8C 80 02"))
    assert not card.matches(H("3B 8C 80 01 00"))
    assert not card.matches(H("3B 8C 80"))
    assert card.description == "ATR 3B 8C 80 01"


def test_masked_atr() -> None:
    card = AtrCardType(H("3B 8C 80 01"), H("FF FF 00 FF"))
    assert card.matches(H("3B 8C 12 01"))
    assert not card.matches(H("3B 8D 80 01"))
    assert not card.matches(H("3B 8C 80 01 01"))
    nibble = AtrCardType(H("3B 80"), H("FF F0"))
    assert nibble.matches(H("3B 8F")) and not nibble.matches(H("3B 9F"))
    assert card.description == "ATR 3B 8C 80 01 / mask FF FF 00 FF"


def test_mask_length_must_match() -> None:
    with pytest.raises(ValueError, match="mask has 2 bytes but the ATR has 4"):
        AtrCardType(H("3B 8C 80 01"), H("FF FF"))


def test_pattern_with_wildcards() -> None:
    card = AtrPatternCardType(MIFARE_PATTERN)
    assert card.matches(MIFARE_1K)
    assert card.matches(MIFARE_1K[:12] + H("FF FF FF FF FF FF FF FF"))
    assert not card.matches(H("3B 8F 80 01 80 4F 0C A0 00 00 03 07") + MIFARE_1K[12:])
    assert card.description == f"ATR matching {MIFARE_PATTERN}"


def test_pattern_is_anchored() -> None:
    card = AtrPatternCardType(MIFARE_PATTERN)
    assert not card.matches(MIFARE_1K + H("00"))
    assert not card.matches(MIFARE_1K[:-1])
    assert not card.matches(H("3B") + MIFARE_1K)
    assert not AtrPatternCardType("3B 8F").matches(H("3B 8F 80"))


def test_pattern_is_case_insensitive_and_nibble_wise() -> None:
    assert AtrPatternCardType(MIFARE_PATTERN.lower()).matches(MIFARE_1K)
    half = AtrPatternCardType("3b 8. 80 01")
    assert half.matches(H("3B 8C 80 01")) and half.matches(H("3B 8F 80 01"))
    assert not half.matches(H("3B 9C 80 01"))
    # pcsc-tools lines are full regular expressions, alternation included.
    assert AtrPatternCardType("3B (00|FF)").matches(H("3B FF"))
    assert AtrPatternCardType("  3B 00\n").matches(H("3B 00"))


def test_invalid_pattern_names_it() -> None:
    with pytest.raises(ValueError, match=r"ATR pattern '3B \(8F' is not a valid regular expression"):
        AtrPatternCardType("3B (8F")


def test_pattern_equality_ignores_the_compiled_regex() -> None:
    assert AtrPatternCardType("3B ..") == AtrPatternCardType("3B ..")
    assert hash(AtrPatternCardType("3B ..")) == hash(AtrPatternCardType("3B .."))
    assert "_regex" not in repr(AtrPatternCardType("3B .."))


def test_predicate() -> None:
    t1 = PredicateCardType(lambda atr: atr[1] & 0x0F > 4, "more than 4 historical bytes")
    assert t1.matches(H("3B 8C 80 01")) and not t1.matches(H("3B 02 14 50"))
    assert t1.description == "more than 4 historical bytes"
    # A predicate that breaks (here: IndexError on a short ATR) counts as "no match".
    assert not t1.matches(H("3B"))
    assert not PredicateCardType(lambda atr: 1 / 0 > 0, "broken").matches(MIFARE_1K)


def test_all_satisfy_the_protocol() -> None:
    types: list[CardType] = [AnyCardType(), AtrCardType(MIFARE_1K), AtrPatternCardType(MIFARE_PATTERN),
                             PredicateCardType(lambda atr: True, "all")]
    assert [t.matches(MIFARE_1K) for t in types] == [True, True, True, True]


@pytest.mark.parametrize("text", ["", "   ", "any", "ANY", " Any "])
def test_parse_any(text: str) -> None:
    assert parse_card_type(text) == AnyCardType()


@pytest.mark.parametrize("text", ["3B 8C 80 01", "3b8c8001", "3B:8C:80:01", "0x3B 0x8C 0x80 0x01"])
def test_parse_plain_atr(text: str) -> None:
    assert parse_card_type(text) == AtrCardType(H("3B 8C 80 01"))


def test_parse_atr_with_mask() -> None:
    assert parse_card_type("3B 8C 80 01 / FF FF 00 FF") == AtrCardType(H("3B 8C 80 01"), H("FF FF 00 FF"))
    assert parse_card_type("3B8C/FFF0") == AtrCardType(H("3B 8C"), H("FF F0"))


def test_parse_pattern() -> None:
    parsed = parse_card_type(MIFARE_PATTERN)
    assert parsed == AtrPatternCardType(MIFARE_PATTERN)
    assert parsed.matches(MIFARE_1K)
    assert parse_card_type("3B (00|FF)") == AtrPatternCardType("3B (00|FF)")


@pytest.mark.parametrize(("text", "words"), [
    ("3B 8C/FF", "mask has 1 bytes but the ATR has 2"),
    ("3B/FF/FF", "has 2 '/': expected one"),
    ("/FF", "the ATR is empty"),
    ("3B ZZ", "the ATR is not hex ('Z' at column 4 is not a hex digit)"),
    ("3B/GG", "the mask is not hex"),
    ("3B 8", "odd number of hex digits"),
    ("3B (", "not a valid regular expression"),
])
def test_parse_errors(text: str, words: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_card_type(text)
    assert words in str(info.value)
