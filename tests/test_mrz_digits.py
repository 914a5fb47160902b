"""ICAO 9303 check digits and the BAC MRZ information, against the specification's own examples."""

from __future__ import annotations

import pytest

from explorer.core.mrz_digits import MrzCharacterError, check_digit, mrz_information


def test_the_worked_example_of_9303_part_11() -> None:
    # 9303-11 Appendix D.2: document L898902C<, born 690806, expires 940623.
    assert mrz_information("L898902C", "690806", "940623") == "L898902C<369080619406236"


@pytest.mark.parametrize(("field", "digit"), [("520727", "3"), ("AB2134<<<", "5"), ("<<<<<<<<<", "0"),
                                              ("D23145890734", "9")])
def test_check_digits_of_9303_part_3(field: str, digit: str) -> None:
    assert check_digit(field) == digit


def test_a_character_outside_the_mrz_set_is_named_with_its_place() -> None:
    with pytest.raises(MrzCharacterError, match="character 3"):
        check_digit("L8-8902C<")
