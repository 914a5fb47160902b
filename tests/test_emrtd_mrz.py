"""The MRZ as a user gives it (three fields, or the whole zone pasted) and as DG1 holds it, checked
on ICAO Doc 9303's specimens (Part 4 TD3, Part 5 TD1, Part 6 TD2)."""

from __future__ import annotations

import pytest

from explorer.apps.emrtd.mrz import Layout, MrzError, parse_entry, parse_mrz, read_mrz

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
       "7408122F1204159UTO<<<<<<<<<<<6\n"
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
       "D231458907UTO7408122F1204159<<<<<<<6")
#: The older TD3 specimen, whose number and dates 9303-11's BAC worked example uses.
TD3_BAC = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
           "L898902C<3UTO6908061F9406236ZE184226B<<<<<14")


def fields(text: str) -> dict[str, str]:
    return {f.name: f.value for f in parse_mrz(text).fields}


def test_td3_specimen_gives_every_field_and_the_bac_information() -> None:
    mrz = parse_mrz(TD3)
    assert mrz.layout is Layout.TD3
    assert fields(TD3) == {
        "Document code": "P", "Issuing state": "UTO", "Primary identifier": "ERIKSSON",
        "Secondary identifier": "ANNA MARIA", "Document number": "L898902C3", "Nationality": "UTO",
        "Date of birth": "740812", "Sex": "F", "Date of expiry": "120415", "Optional data": "ZE184226B"}
    assert mrz.information == "L898902C3674081221204159"


def test_td1_and_td2_specimens() -> None:
    for text, layout in ((TD1, Layout.TD1), (TD2, Layout.TD2)):
        mrz = parse_mrz(text)
        assert mrz.layout is layout
        got = fields(text)
        assert (got["Document number"], got["Date of birth"], got["Date of expiry"]) == (
            "D23145890", "740812", "120415")
        assert (got["Primary identifier"], got["Secondary identifier"]) == ("ERIKSSON", "ANNA MARIA")
        assert mrz.information == "D23145890774081221204159"


def test_bac_worked_example_information() -> None:
    # 9303-11 Appendix D.2: MRZ information L898902C<369080619406236.
    assert parse_mrz(TD3_BAC).information == "L898902C<369080619406236"


def test_spaces_newlines_and_lowercase_are_tolerated() -> None:
    pasted = "  " + TD3.lower().replace("\n", " \r\n ") + "\n"
    assert parse_mrz(pasted).information == parse_mrz(TD3).information


def test_td1_long_document_number_continues_in_the_optional_data() -> None:
    # 9303-5 note j: the 10th-12th characters after a filler in the check digit position, then
    # the check digit of the whole number.
    line1 = "I<UTOD23145890<7349<<<<<<<<<<<"
    line2_head = "7408122F1204159UTO<<<<<<<<<<<"
    from explorer.core.mrz_digits import check_digit
    composite = check_digit(line1[5:30] + line2_head[:7] + line2_head[8:15] + line2_head[18:29])
    mrz = parse_mrz(line1 + line2_head + composite + "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
    assert mrz.document_number == "D23145890734"
    assert check_digit("D23145890734") == "9"
    assert mrz.information == "D23145890734974081221204159"


def _changed(text: str, line: int, position: int, char: str) -> str:
    lines = text.split("\n")
    lines[line] = lines[line][:position] + char + lines[line][position + 1:]
    return "\n".join(lines)


@pytest.mark.parametrize(("line", "position", "named"), [
    (1, 9, "Document number"), (1, 19, "Date of birth"), (1, 27, "Date of expiry"),
    (1, 42, "Optional data"), (1, 43, "Composite")])
def test_td3_each_wrong_check_digit_is_named(line: int, position: int, named: str) -> None:
    wrong = _changed(TD3, line, position, "8" if TD3.split("\n")[line][position] != "8" else "7")
    with pytest.raises(MrzError, match=f"^{named}: check digit is [0-9], should be"):
        parse_mrz(wrong)
    # read_mrz keeps the fields (DG1 is shown even when wrong) and names the problem.
    assert read_mrz(wrong).problems[0].startswith(named)


@pytest.mark.parametrize(("line", "position", "named"), [
    (0, 14, "Document number"), (1, 6, "Date of birth"), (1, 14, "Date of expiry"), (1, 29, "Composite")])
def test_td1_each_wrong_check_digit_is_named(line: int, position: int, named: str) -> None:
    with pytest.raises(MrzError, match=f"^{named}: check digit"):
        parse_mrz(_changed(TD1, line, position, "1"))


@pytest.mark.parametrize(("position", "named"), [
    (9, "Document number"), (19, "Date of birth"), (27, "Date of expiry"), (35, "Composite")])
def test_td2_each_wrong_check_digit_is_named(position: int, named: str) -> None:
    with pytest.raises(MrzError, match=f"^{named}: check digit"):
        parse_mrz(_changed(TD2, 1, position, "1"))


def test_not_an_mrz_says_why() -> None:
    with pytest.raises(MrzError, match="87 characters"):
        parse_mrz(TD3[:-1])
    with pytest.raises(MrzError, match=r"character 6 \('\*'\)"):
        parse_mrz("P<UTO*" + TD3[6:])


def test_entry_pads_the_number_and_checks_the_dates() -> None:
    entry = parse_entry("l898902c", "690806", "940623")
    assert entry.document_number == "L898902C<"
    assert entry.information == "L898902C<369080619406236"


@pytest.mark.parametrize(("number", "birth", "expiry", "message"), [
    ("", "690806", "940623", "document number: empty"),
    ("L898-902", "690806", "940623", "document number: '-' is not 0-9, A-Z or <"),
    ("L898902C", "6908", "940623", "date of birth: '6908' is not a date written YYMMDD"),
    ("L898902C", "690806", "941323", "date of expiry: '941323' is not a real date"),
    ("L898902C", "690230", "940623", "date of birth: '690230' is not a real date"),
])
def test_entry_errors_name_the_field(number: str, birth: str, expiry: str, message: str) -> None:
    with pytest.raises(MrzError) as caught:
        parse_entry(number, birth, expiry)
    assert str(caught.value).startswith(message)


def test_29_february_is_a_date() -> None:
    assert parse_entry("X", "000229", "240229").date_of_birth == "000229"


def test_the_one_field_takes_three_fields_or_a_whole_mrz() -> None:
    from explorer.apps.emrtd.entry import mrz_information_from

    assert mrz_information_from("L898902C<, 690806, 940623") == "L898902C<369080619406236"
    assert mrz_information_from(" l898902c 690806;940623 ") == "L898902C<369080619406236"
    assert mrz_information_from(TD3_BAC[:44] + "\n" + TD3_BAC[44:]) == "L898902C<369080619406236"
    assert mrz_information_from(TD1) == "D23145890774081221204159"
    for bad, said in (("L898902C<, 690806", "give the document number"),
                      ("L898902C<, 690806, 941323", "date of expiry"),
                      (TD3.replace("L898902C36", "L898902C35"), "Document number: check digit")):
        with pytest.raises(ValueError, match=said):
            mrz_information_from(bad)
