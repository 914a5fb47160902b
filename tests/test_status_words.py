"""Status-word tables, context-dependent meanings and the stop/continue chain (pure, no PC/SC)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.status_words import Severity, StatusWord, SwExplanation, explain, sw_of
from explorer.core.sw_checks import DEFAULT_CHAIN, CheckChain, SwPatternError, SwRule, Verdict

ISO4, ISO8, ISO9 = "ISO/IEC 7816-4", "ISO/IEC 7816-8", "ISO/IEC 7816-9"
SOURCES = {ISO4, ISO8, ISO9, "GlobalPlatform", "EMV", "unknown"}

# Commands used for context: raw C-APDUs as a tester would type them.
VERIFY_PIN = bytes.fromhex("00 20 00 81 08 31 32 33 34 FF FF FF FF")
VERIFY_STATUS = bytes.fromhex("00 20 00 81")
CHANGE_REF = bytes.fromhex("00 24 00 81 08 31 32 33 34 35 36 37 38")
RESET_RETRY = bytes.fromhex("00 2C 00 81 08 31 32 33 34 35 36 37 38")
READ_BINARY = bytes.fromhex("00 B0 00 00 10")
READ_RECORD = bytes.fromhex("00 B2 01 0C 00")
SELECT_FID = bytes.fromhex("00 A4 00 0C 02 3F 00")
SELECT_NAME = bytes.fromhex("00 A4 04 00 06 D2 76 00 01 24 01")
SELECT_VISA = bytes.fromhex("00 A4 04 00 07 A0 00 00 00 03 10 10 00")
SELECT_PPSE = b"\x00\xa4\x04\x00\x0e2PAY.SYS.DDF01\x00"
CREATE_FILE = bytes.fromhex("00 E0 00 00 04 62 02 83 00")
MSE_SET = bytes.fromhex("00 22 41 B6 03 84 01 81")
EMV_VERIFY = bytes.fromhex("00 20 00 80 08 24 12 34 FF FF FF FF FF")
GPO = bytes.fromhex("80 A8 00 00 02 83 00 00")
INIT_UPDATE = bytes.fromhex("80 50 00 00 08 01 02 03 04 05 06 07 08 00")
EXT_AUTH = bytes.fromhex("84 82 01 00 10" + "00" * 16)
GET_STATUS = bytes.fromhex("80 F2 40 00 02 4F 00 00")
INSTALL = bytes.fromhex("80 E6 0C 00 04 01 02 03 04")
GP_DELETE = bytes.fromhex("80 E4 00 00 07 4F 05 A0 00 00 00 01")


def sev_text(sw: int, command: bytes | None = None) -> tuple[Severity, str, str]:
    e = explain(sw, command)
    return e.severity, e.text, e.source


# -- ISO/IEC 7816-4 table -----------------------------------------------------------


@pytest.mark.parametrize(("sw", "severity", "text"), [
    (0x9000, Severity.SUCCESS, "Normal processing: command successful"),
    (0x6200, Severity.WARNING, "Warning: no information given, non-volatile memory unchanged"),
    (0x6281, Severity.WARNING, "Part of the returned data may be corrupted"),
    (0x6283, Severity.WARNING, "Selected file deactivated"),
    (0x6286, Severity.WARNING, "No input data available from a sensor on the card"),
    (0x6381, Severity.WARNING, "File filled up by the last write"),
    (0x6401, Severity.ERROR, "Immediate response required by the card"),
    (0x6581, Severity.ERROR, "Memory failure"),
    (0x6881, Severity.ERROR, "Logical channel not supported"),
    (0x6884, Severity.ERROR, "Command chaining not supported"),
    (0x6986, Severity.ERROR, "Command not allowed: no current EF"),
    (0x6988, Severity.ERROR, "Incorrect secure messaging data objects"),
    (0x6A82, Severity.ERROR, "File or application not found"),
    (0x6A87, Severity.ERROR, "Nc inconsistent with parameters P1-P2"),
    (0x6A8A, Severity.ERROR, "DF name already exists"),
    (0x6B00, Severity.ERROR, "Wrong parameters P1-P2"),
    (0x6D00, Severity.ERROR, "Instruction code not supported or invalid"),
    (0x6E00, Severity.ERROR, "Class not supported"),
    (0x6F00, Severity.ERROR, "No precise diagnosis"),
])
def test_iso_fixed_words(sw: int, severity: Severity, text: str) -> None:
    assert sev_text(sw) == (severity, text, ISO4)


def test_61xx_counts_bytes_and_is_success() -> None:
    assert sev_text(0x6110) == (Severity.SUCCESS,
                                "0x10 (16) bytes still available: GET RESPONSE with Le=10", ISO4)
    assert explain(0x6100).text == "256 or more bytes still available: GET RESPONSE with Le=00"
    assert {explain(0x6100 | n).severity for n in range(256)} == {Severity.SUCCESS}


def test_6cxx_gives_exact_le_and_is_warning() -> None:
    assert sev_text(0x6C10) == (Severity.WARNING,
                                "Wrong length Le: 0x10 (16) bytes available, re-send with Le=10", ISO4)
    assert explain(0x6C00).text == "Wrong length Le: 256 bytes available, re-send with Le=00"


def test_triggering_ranges() -> None:
    assert sev_text(0x6205) == (Severity.WARNING,
                                "Triggering by the card (SW2=05): SW1 62 means warning, non-volatile memory "
                                "unchanged", ISO4)
    assert explain(0x6480).severity is Severity.ERROR
    assert explain(0x6480).text.startswith("Triggering by the card (SW2=80)")
    assert not explain(0x6481).text.startswith("Triggering")


def test_66xx_is_a_security_error() -> None:
    assert sev_text(0x6612) == (Severity.ERROR,
                                "Security-related issue (SW2=12, reserved by ISO/IEC 7816-4)", ISO4)


def test_severity_follows_sw1_without_context() -> None:
    for sw in range(0x6000, 0xA000):
        sw1 = sw >> 8
        expected: Severity | None
        if sw1 == 0x61 or sw == 0x9000:
            expected = Severity.SUCCESS
        elif sw1 in (0x62, 0x63, 0x6C):
            expected = Severity.WARNING
        elif 0x60 <= sw1 <= 0x6F or sw in (0x9484, 0x9485):  # GP's two errors in the 9X space
            expected = Severity.ERROR
        elif sw1 >= 0x90:
            expected = Severity.WARNING
        else:
            expected = None
        if expected is not None:
            assert explain(sw).severity is expected, f"{sw:04X}"


# -- context-dependent meanings -------------------------------------------------------


def test_63cx_after_pin_commands_is_a_wrong_pin() -> None:
    assert sev_text(0x63C2, VERIFY_PIN) == (Severity.WARNING,
                                            "Verification failed (wrong PIN): 2 tries left", ISO4)
    assert explain(0x63C1, CHANGE_REF).text == "Verification failed (wrong PIN): 1 try left"
    assert explain(0x63C0, VERIFY_PIN).text == "Verification failed (wrong PIN): 0 tries left, now blocked"
    assert explain(0x63C9, RESET_RETRY).text == "Verification failed (wrong reset code or PUK): 9 tries left"


def test_63cx_after_verify_without_data_is_only_the_state() -> None:
    assert explain(0x63C3, VERIFY_STATUS).text == "Verification required: 3 tries left"


def test_63cx_after_other_commands_is_a_counter() -> None:
    assert explain(0x63C2, READ_BINARY).text == "Counter: 2 (meaning depends on the command)"
    assert explain(0x63C2).text == "Counter: 2 (meaning depends on the command)"
    assert explain(0x63CF, b"\x00").text == "Counter: 15 (meaning depends on the command)"


def test_63cx_after_authenticate_counts_tries() -> None:
    assert explain(0x63C2, EXT_AUTH).text == "Authentication failed: 2 tries left"


def test_iso_context() -> None:
    assert explain(0x6282, READ_RECORD).text == "End of file or record reached before reading Le bytes"
    assert sev_text(0x6A82, SELECT_FID) == (Severity.ERROR,
                                            "File not found: no file with this identifier or path", ISO4)
    assert (explain(0x6A82, SELECT_NAME).text
            == "Application not found: no DF or application with this name (AID)")
    assert explain(0x6B00, READ_BINARY).text == "Wrong parameters P1-P2: offset outside the EF"
    assert explain(0x6983, VERIFY_PIN).text == "Authentication method blocked: no PIN tries left"


def test_iso_7816_8_and_9_context() -> None:
    assert sev_text(0x6283, SELECT_FID) == (
        Severity.WARNING, "Selected file deactivated (invalidated): most commands on it will fail", ISO9)
    assert sev_text(0x6A89, CREATE_FILE) == (
        Severity.ERROR, "File already exists: the file identifier is already used in this DF", ISO9)
    assert sev_text(0x6A84, CREATE_FILE) == (Severity.ERROR,
                                             "Not enough memory space to create the file", ISO9)
    assert sev_text(0x6985, MSE_SET) == (
        Severity.ERROR,
        "Conditions of use not satisfied: the current security environment does not allow this", ISO8)
    assert sev_text(0x6984, VERIFY_PIN) == (
        Severity.ERROR, "Reference data not usable: the PIN is blocked or deactivated", ISO4)
    assert explain(0x6984, MSE_SET).source == ISO8


def test_globalplatform_context() -> None:
    assert sev_text(0x6A88, INIT_UPDATE) == (
        Severity.ERROR, "Referenced data not found: no key with this key version", "GlobalPlatform")
    assert sev_text(0x6300, EXT_AUTH) == (Severity.ERROR,
                                          "Authentication of host cryptogram failed", "GlobalPlatform")
    assert explain(0x6310, GET_STATUS).text.startswith("More data available: repeat GET STATUS")
    assert explain(0x6A84, INSTALL).text == "Not enough memory space on the card"
    assert (explain(0x6A88, GP_DELETE).text
            == "Referenced data not found: no application or package with this AID")
    assert explain(0x6600, INSTALL).text == "Security-related error"
    # GP-only words mean the same without a command.
    assert sev_text(0x9484) == (Severity.ERROR, "Algorithm not supported", "GlobalPlatform")
    assert sev_text(0x9485) == (Severity.ERROR, "Invalid key check value", "GlobalPlatform")
    assert sev_text(0x6310) == (Severity.WARNING, "More data available", "GlobalPlatform")


def test_same_ins_with_interindustry_cla_is_iso_not_gp() -> None:
    # 00 E4 is ISO DELETE FILE, 80 E4 is GP DELETE.
    iso_delete = bytes.fromhex("00 E4 00 00 02 2F 00")
    assert explain(0x6A88, iso_delete).source == ISO4
    assert explain(0x6A88, GP_DELETE).source == "GlobalPlatform"


def test_emv_context() -> None:
    assert sev_text(0x6985, GPO) == (Severity.ERROR,
                                     "Conditions of use not satisfied (e.g. PDOL data rejected)", "EMV")
    assert sev_text(0x6A82, SELECT_VISA) == (Severity.ERROR, "Application not found", "EMV")
    assert explain(0x6A81, SELECT_PPSE).text == "Card blocked or command not supported"
    assert sev_text(0x6283, SELECT_VISA) == (Severity.WARNING, "Selected file (application) blocked", "EMV")
    assert sev_text(0x6983, EMV_VERIFY) == (Severity.ERROR, "PIN try limit exceeded", "EMV")
    assert explain(0x6984, GPO).text == "Referenced data invalidated"
    # A PIV-style VERIFY with P2=80 carries an ASCII PIN, not an EMV PIN block.
    piv_verify = bytes.fromhex("00 20 00 80 08 31 32 33 34 35 36 FF FF")
    assert explain(0x6983, piv_verify).source == ISO4


# -- unknown and invalid words ----------------------------------------------------------


def test_unknown_and_invalid_words() -> None:
    assert sev_text(0x91AF) == (Severity.WARNING, "Proprietary status (application-specific)", "unknown")
    assert sev_text(0x0000) == (
        Severity.ERROR, "Not a valid status word: SW1 must be 6X or 9X (ISO/IEC 7816-4 5.6)", "unknown")
    assert explain(0x1234).text == explain(0x0000).text
    assert explain(0x6012).severity is Severity.ERROR
    assert sev_text(0x6999) == (
        Severity.ERROR, "Unknown error status (SW1=69, SW2=99 not defined): SW1 69 means command not allowed",
        "unknown")
    assert sev_text(0x6D12) == (
        Severity.ERROR,
        "Unknown error status (SW1=6D, proprietary SW2): "
        "6D 00 means instruction code not supported or invalid", "unknown")
    assert explain(0x6299).text.startswith("Unknown warning status (SW1=62")


# -- totality and small API --------------------------------------------------------------


CONTEXT_COMMANDS = [None, b"", b"\x00", VERIFY_PIN, GPO, INIT_UPDATE, SELECT_VISA, CREATE_FILE]


@pytest.mark.parametrize("command", CONTEXT_COMMANDS)
def test_explain_is_total(command: bytes | None) -> None:
    for sw in range(0x10000):
        e = explain(sw, command)
        assert e.sw == sw and e.text and e.source in SOURCES and not e.text.endswith(".")


@given(st.integers(0, 0xFFFF), st.one_of(st.none(), st.binary(max_size=300)))
def test_explain_never_raises(sw: int, command: bytes | None) -> None:
    e = explain(sw, command)
    assert isinstance(e, SwExplanation)
    assert e.text[:1].isupper() or e.text[:1].isdigit()  # sentence case
    assert e.hex == f"{sw >> 8:02X} {sw & 0xFF:02X}"


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=0x10000)))
def test_out_of_range_raises(sw: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        explain(sw)


def test_status_word_enum() -> None:
    assert int(StatusWord.FILE_NOT_FOUND) == 0x6A82
    assert explain(StatusWord.NO_ERROR).sw == 0x9000
    assert type(explain(StatusWord.NO_ERROR).sw) is int
    assert explain(StatusWord.WRONG_LENGTH).hex == "67 00"
    assert max(Severity) is Severity.ERROR and max(Severity.SUCCESS, Severity.WARNING) is Severity.WARNING
    # Every named word has its own table entry, not the "unknown" fallback.
    assert all(explain(w).source != "unknown" for w in StatusWord)


def test_sw_of() -> None:
    assert sw_of(b"\x01\x02\x90\x00") == 0x9000
    assert sw_of(b"\x6a\x82") == 0x6A82
    assert sw_of(b"\x90") is None
    assert sw_of(b"") is None


# -- check chain -------------------------------------------------------------------------


def test_rule_patterns() -> None:
    rule = SwRule("63cx", Verdict.STOP)
    assert rule.pattern == "63CX"
    assert rule.matches(0x63C0) and rule.matches(0x63CF)
    assert not rule.matches(0x6300) and not rule.matches(0x64C0) and not rule.matches(-1)
    assert SwRule("xxxx", Verdict.CONTINUE).matches(0x1234)
    assert SwRule("63CX", Verdict.STOP) == rule


@pytest.mark.parametrize(("pattern", "position", "words"), [
    ("6G00", 1, "'G' at column 2 is not a hex digit or X"),
    ("900", None, "must be 4 characters"),
    ("90000", None, "must be 4 characters"),
    ("9*00", 1, "'*' at column 2"),
])
def test_bad_patterns(pattern: str, position: int | None, words: str) -> None:
    with pytest.raises(SwPatternError) as info:
        SwRule(pattern, Verdict.STOP)
    assert info.value.position == position
    assert info.value.pattern == pattern
    assert words in str(info.value) and pattern in str(info.value)


def test_default_chain_stops_on_errors_only() -> None:
    assert DEFAULT_CHAIN.verdict(0x9000) is Verdict.CONTINUE
    assert DEFAULT_CHAIN.verdict(0x6110) is Verdict.CONTINUE
    assert DEFAULT_CHAIN.verdict(0x6283) is Verdict.CONTINUE
    assert DEFAULT_CHAIN.verdict(0x6A82) is Verdict.STOP
    assert DEFAULT_CHAIN.verdict(0x91AF) is Verdict.CONTINUE
    # Context reaches the fallback: GP host cryptogram failure is an error.
    assert DEFAULT_CHAIN.verdict(0x6300) is Verdict.CONTINUE
    assert DEFAULT_CHAIN.verdict(0x6300, EXT_AUTH) is Verdict.STOP


def test_first_match_wins() -> None:
    chain = CheckChain((SwRule("6A82", Verdict.CONTINUE), SwRule("6AXX", Verdict.STOP),
                        SwRule("6A83", Verdict.CONTINUE)))
    assert chain.verdict(0x6A82) is Verdict.CONTINUE
    assert chain.verdict(0x6A83) is Verdict.STOP
    assert chain.explain_verdict(0x6A83) == "6A 83 stops: rule 6AXX"
    assert chain.explain_verdict(0x6A82) == "6A 82 continues: rule 6A82"


def test_fallback_by_severity() -> None:
    strict = CheckChain(stop_at=Severity.WARNING)
    assert strict.verdict(0x6283) is Verdict.STOP
    assert strict.verdict(0x9000) is Verdict.CONTINUE
    assert strict.explain_verdict(0x6283) == "62 83 stops: warning at or above the stop level (warning)"
    assert DEFAULT_CHAIN.explain_verdict(0x6283) == "62 83 continues: warning below the stop level (error)"
    assert DEFAULT_CHAIN.explain_verdict(0x6A82) == "6A 82 stops: error at or above the stop level (error)"


def test_parse_and_round_trip() -> None:
    text = """
        # expected on this card
        6283 continue
        63cx STOP    # any wrong PIN fails the test
        62 84 continue

        stop-at warning
    """
    chain = CheckChain.parse(text)
    assert chain == CheckChain((SwRule("6283", Verdict.CONTINUE), SwRule("63CX", Verdict.STOP),
                                SwRule("6284", Verdict.CONTINUE)), Severity.WARNING)
    assert chain.to_text() == "6283 continue\n63CX stop\n6284 continue\nstop-at warning\n"
    assert CheckChain.parse(chain.to_text()) == chain
    assert CheckChain.parse(DEFAULT_CHAIN.to_text()) == DEFAULT_CHAIN
    assert CheckChain.parse("") == DEFAULT_CHAIN


@given(st.lists(st.tuples(st.text("0123456789abcdefABCDEFxX", min_size=4, max_size=4),
                          st.sampled_from(Verdict)), max_size=8),
       st.sampled_from(Severity))
def test_round_trip_any_chain(rules: list[tuple[str, Verdict]], stop_at: Severity) -> None:
    chain = CheckChain(tuple(SwRule(p, v) for p, v in rules), stop_at)
    assert CheckChain.parse(chain.to_text()) == chain


@pytest.mark.parametrize(("text", "line", "words"), [
    ("9000 continue\n6G00 stop\n", 2, "line 2: pattern '6G00': 'G' at column 2"),
    ("# head\n\n9000 maybe\n", 3, "line 3: expected 'PATTERN continue|stop'"),
    ("9000\n", 1, "line 1: expected 'PATTERN continue|stop'"),
    ("stop-at fatal\n", 1, "line 1: expected 'stop-at success|warning|error'"),
    ("stop-at error\n6A82 stop\nstop-at warning\n", 3, "line 3: second 'stop-at' line"),
    ("9000 continue\n900 stop\n", 2, "line 2: pattern '900' must be 4 characters"),
])
def test_parse_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(SwPatternError) as info:
        CheckChain.parse(text)
    assert info.value.line == line
    assert words in str(info.value)


def test_sw_patterns_take_ascii_digits_only() -> None:
    from explorer.core.sw_checks import SwPatternError, SwRule, Verdict

    with pytest.raises(SwPatternError, match="U\\+FF16"):
        SwRule("６３Ｃ９", Verdict.STOP)
    with pytest.raises(SwPatternError, match="column 2"):
        SwRule("9ß00", Verdict.STOP)  # "ß".upper() is "SS": columns must follow the pattern as typed
