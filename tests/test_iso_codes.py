"""Country, currency and language names for the numbers and letters EMV cards write."""

from __future__ import annotations

from explorer.core.iso_codes import (
    COUNTRIES,
    CURRENCIES,
    LANGUAGES,
    country_name,
    currency_name,
    language_name,
)


def test_names_of_well_known_codes() -> None:
    assert country_name(826) == "United Kingdom, GB" and country_name(250) == "France, FR"
    assert country_name(840) == "United States, US" and country_name(276) == "Germany, DE"
    assert currency_name(978) == "EUR, Euro" and currency_name(826) == "GBP, Pound Sterling"
    assert currency_name(840) == "USD, US Dollar" and currency_name(392) == "JPY, Yen"
    assert language_name("en") == "English" and language_name("FR") == "French"


def test_codes_it_does_not_list_have_no_name() -> None:
    assert country_name(0) is None and country_name(999) is None
    assert currency_name(0) is None and currency_name(1) is None
    assert language_name("zz") is None and language_name("") is None


def test_tables_are_whole_and_well_formed() -> None:
    assert len(COUNTRIES) >= 249 and len(CURRENCIES) >= 170 and len(LANGUAGES) >= 180
    assert all(0 < n < 1000 and len(a) == 2 and a.isupper() and name for n, (a, name) in COUNTRIES.items())
    assert all(0 < n < 1000 and len(a) == 3 and a.isupper() and name for n, (a, name) in CURRENCIES.items())
    assert all(len(code) == 2 and code.islower() and name for code, name in LANGUAGES.items())
