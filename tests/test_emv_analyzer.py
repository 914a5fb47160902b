"""The EMV analyzer: AIP, AFL, CVM list, AUC, DOLs and track 2 decoded on byte strings laid out as
EMV Book 3 specifies, then the whole analysis on the embedded virtual reader with
resources/cards/emv.json (no pcscd): PPSE and PSE, FCIs, GPO only when allowed (counted at the
card), AFL records, PAN masked unless revealed, the ATC, the transaction log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.apps.analysis import Analysis, run_analyzers
from explorer.apps.capture import capture
from explorer.apps.emv import EmvAnalyzer
from explorer.apps.emv.dol import fill_dol, parse_dol
from explorer.apps.emv.fields import luhn_ok, service_code, track2_parts
from explorer.apps.emv.gpo import decode_gpo, gpo_command
from explorer.apps.emv.lists import afl_entries, aip, auc, cvm_list, cvm_rule, iac
from explorer.apps.emv.objects import decode_object
from explorer.apps.findings import Finding, mask_value
from explorer.apps.report import analysis_json, analysis_text
from explorer.apps.session import AnalysisSession
from explorer.assets import asset_path
from explorer.core.exchange import Reply
from explorer.virtual.card import VirtualCard
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import ProfileError, demo_profile, load_profile, parse_profile
from tests.app_helpers import Bench, answer, assert_traced, node, values

EMV_PROFILE = asset_path("cards", "emv.json")
PAN = "5413330089010012"
MASTERCARD = "A0 00 00 00 04 10 10"
CB = "A0 00 00 00 42 10 10"


# -- decoding -------------------------------------------------------------------------------

def test_aip_bits_are_named_per_book_3() -> None:
    # 39 00: DDA, cardholder verification, terminal risk management, CDA.
    found = aip(answer(bytes.fromhex("3900")), 0, 2)
    assert found.value == "39 00"
    for text in ("DDA supported", "cardholder verification is supported",
                 "terminal risk management is to be performed", "CDA supported"):
        assert text in found.explanation
    assert "SDA supported" not in found.explanation
    assert "RFU bits set (byte 2: 02)" in aip(answer(bytes.fromhex("0002")), 0, 2).explanation
    contactless = aip(answer(bytes.fromhex("8081")), 0, 2).explanation
    assert "XDA supported" in contactless and "EMV mode is supported" in contactless
    assert "relay resistance protocol" in contactless and "RFU" not in contactless


def test_afl_entries_give_sfi_records_and_offline_count() -> None:
    value = bytes.fromhex("08010100 10010301 18020200")
    entries = afl_entries(value)
    assert [(e.sfi, e.first, e.last, e.offline) for e in entries] == [
        (1, 1, 1, 0), (2, 1, 3, 1), (3, 2, 2, 0)]
    data = bytes([0x94, len(value)]) + value
    found = decode_object(answer(data), node(data))
    assert [c.name for c in found.children] == ["SFI 1", "SFI 2", "SFI 3"]
    assert found.children[1].value == "records 1-3, 1 for offline authentication"
    assert found.children[1].raw == bytes.fromhex("10010301")


def test_gpo_answers_in_both_formats_give_the_afl() -> None:
    format1 = bytes.fromhex("80 06 1800 08010200")
    found, afl = decode_gpo(answer(format1))
    assert [(e.sfi, e.first, e.last) for e in afl] == [(1, 1, 2)]
    assert found.children[0].value == "18 00"
    format2 = bytes.fromhex("77 0E 82 02 3900 94 08 08010100 10010200")
    found, afl = decode_gpo(answer(format2))
    assert [(e.sfi, e.first, e.last) for e in afl] == [(1, 1, 1), (2, 1, 2)]
    assert "CDA supported" in found.children[0].explanation
    _, afl = decode_gpo(answer(bytes.fromhex("6F 00")))
    assert afl == []


def test_cvm_list_is_decoded_rule_by_rule() -> None:
    data = bytes.fromhex("8E 10 000003E8 00000000 4403 4203 1E06 1F03")
    found = cvm_list(answer(data), node(data))
    rules = values(found)
    assert rules["Amount X"] == "1000"
    assert rules["Rule 1"] == "enciphered PIN verified by the ICC, if the terminal supports the CVM"
    assert rules["Rule 3"] == ("signature (paper), if the transaction is in the application currency and "
                               "under X")
    assert "cardholder verification fails" in found.children[4].explanation  # 1E: b7 clear
    assert "next rule applies" in found.children[2].explanation  # 44: b7 set
    assert found.children[2].raw == bytes.fromhex("4403")
    assert cvm_rule(0x09, 0x00)[0] == "finger biometric verified online, always"  # EMV 4.4
    assert "reserved for use by the individual payment systems" in cvm_rule(0x60, 0x00)[0]
    assert "reserved for use by the issuer" in cvm_rule(0x30, 0x80)[0]


def test_auc_and_iac_bits() -> None:
    data = bytes.fromhex("9F07 02 AB80")
    found = auc(answer(data), node(data))
    for text in ("valid for domestic cash", "valid for domestic goods", "valid for domestic services",
                 "valid at ATMs", "valid at terminals other than ATMs", "domestic cashback allowed"):
        assert text in found.explanation
    assert "international goods" not in found.explanation
    data = bytes.fromhex("9F0E 05 0010000000")
    found = iac(answer(data), node(data), "IAC denial", "decline offline")
    assert "requested service not allowed for card product" in found.explanation
    assert "expired" not in found.explanation


def test_dol_parsing_names_tags_and_lengths() -> None:
    entries, problem = parse_dol(bytes.fromhex("9F0206 9F1A02 5F2A02 9A03 9C01 9F3704"))
    assert problem == ""
    assert [(e.tag, e.length) for e in entries] == [(0x9F02, 6), (0x9F1A, 2), (0x5F2A, 2), (0x9A, 3),
                                                    (0x9C, 1), (0x9F37, 4)]
    assert entries[0].name == "amount authorised"
    _, problem = parse_dol(bytes.fromhex("9F02"))
    assert "cut short" in problem
    data = bytes.fromhex("9F38 06 9F0206 9F3704")
    found = decode_object(answer(data), node(data))
    assert found.value == "2 data objects, 10 bytes"
    assert [c.name for c in found.children] == ["amount authorised", "unpredictable number"]


def test_pdol_is_filled_with_the_documented_neutral_values() -> None:
    entries, _ = parse_dol(bytes.fromhex("9F0206 9F1A02 5F2A02 9A03 9C01 9F3704 9F6604"))
    assert fill_dol(entries) == bytes.fromhex("000000000000 0826 0826 000000 00 00000000 00000000")
    assert gpo_command(None) == bytes.fromhex("80A8000002830000")
    assert gpo_command(bytes.fromhex("9F1A02")) == bytes.fromhex("80A80000048302082600")
    long_form = gpo_command(bytes.fromhex("9F0290"))  # 144 bytes: the template's length as 81 90
    assert long_form is not None and long_form[4:8] == bytes.fromhex("93 83 81 90")
    assert gpo_command(bytes.fromhex("9F02FF 9F03FF")) is None  # more than a short command carries


def test_track2_is_split_and_masked() -> None:
    value = bytes.fromhex(PAN + "D2912201" + "0000099999991F")
    assert track2_parts(value) == (PAN, "2912", "201", "0000099999991")
    data = bytes([0x57, len(value)]) + value
    found = decode_object(answer(data), node(data))
    assert found.sensitive
    assert PAN not in found.shown() and found.shown(reveal=True).startswith(PAN + "D")
    pan = found.find("PAN")
    assert pan is not None and pan.sensitive and pan.shown() == mask_value(PAN) == "••••••••••••0012"
    assert service_code("201") == ("international interchange, use the chip; normal authorisation; "
                                   "no restrictions")
    assert luhn_ok(PAN) and not luhn_ok("5413330089010013")
    assert track2_parts(bytes.fromhex("1234")) is None


def test_sensitive_tags_and_names() -> None:
    for data, name in ((bytes.fromhex("5A 08") + bytes.fromhex(PAN), "PAN"),
                       (b"\x5f\x20\x09TEST/CARD", "Cardholder name")):
        found = decode_object(answer(data), node(data))
        assert found.name == name and found.sensitive, found
    data = bytes.fromhex("5F24 03 291231")
    assert decode_object(answer(data), node(data)).value == "2029-12-31"


# -- the virtual card's GPO -----------------------------------------------------------------

def test_profile_gpo_must_be_one_response_template() -> None:
    raw = json.loads(EMV_PROFILE.read_text())
    raw["files"]["children"][2]["gpo"] = "82 02 18 00"
    with pytest.raises(ProfileError, match="gpo must be one response template"):
        parse_profile(raw, "emv.json")


def test_virtual_gpo_answers_the_current_application_and_counts_the_atc() -> None:
    card = FileSystemCard(load_profile(EMV_PROFILE))
    assert card(bytes.fromhex("80CA9F3600")) == bytes.fromhex("9F3602 0012 9000")
    assert card(bytes.fromhex("80A8000002830000")) == bytes.fromhex("6985")  # nothing selected
    assert card(bytes.fromhex("00A4040007 A0000000421010 00"))[-2] == 0x61
    answer = card(bytes.fromhex("80A8000002830000"))
    assert answer[0] == 0x61  # T=0: the answer waits for GET RESPONSE
    assert card(bytes([0x00, 0xC0, 0x00, 0x00, answer[1]])) == bytes.fromhex("8006 1800 08010200 9000")
    assert card(bytes.fromhex("80CA9F3600")) == bytes.fromhex("9F3602 0013 9000")
    assert card(bytes.fromhex("00A8000002830000")) == bytes.fromhex("6D00")  # GPO is CLA 80 only
    # A profile without any `gpo` answers 80 A8 as before: class not supported.
    assert FileSystemCard(demo_profile())(bytes.fromhex("80A8000002830000")) == bytes.fromhex("6E00")


# -- the analysis on the embedded reader ----------------------------------------------------

@pytest.fixture
def bench() -> Iterator[Callable[[bool], Bench]]:
    made: list[Bench] = []
    card = load_profile(EMV_PROFILE)

    def make(allow_changes: bool) -> Bench:
        made.append(Bench(VirtualCard(card.atr, FileSystemCard(card)), allow_changes))
        return made[-1]
    yield make
    for one in made:
        assert one.conn.close(timeout=5)


def application(top: Finding, aid: str) -> Finding:
    found = next((c for c in top.children if c.name.startswith(f"Application {aid}")), None)
    assert found is not None, [c.name for c in top.children]
    return found


def gpo_count(card: VirtualCard) -> int:
    return sum(1 for apdu in card.received if apdu[:2] == b"\x80\xa8")


def atc(finding: Finding) -> int:
    return int(finding.value.split()[0])


def test_without_allow_changes_no_gpo_reaches_the_card(bench: Callable[[bool], Bench]) -> None:
    one = bench(False)
    top = EmvAnalyzer().analyze(one.session)
    assert gpo_count(one.card) == 0
    assert top.value == "2 applications: MASTERCARD, CB"
    ppse = top.find("PPSE (2PAY.SYS.DDF01, contactless)")
    assert ppse is not None and ppse.value == "2 applications"
    pse = top.find("PSE (1PAY.SYS.DDF01, contact)")
    assert pse is not None and pse.value == "directory SFI 1, 2 applications"
    listed = top.find("Application list")
    assert listed is not None
    assert [c.value for c in listed.children] == [f"{MASTERCARD} MASTERCARD", f"{CB} CB"]
    kernel = listed.children[0].find("Kernel identifier")
    assert kernel is not None and kernel.value == "02"
    mc = application(top, MASTERCARD)
    pdol = mc.find("PDOL")
    assert pdol is not None and pdol.value == "6 data objects, 18 bytes"
    assert [c.name for c in pdol.children][-1] == "unpredictable number"
    language = mc.find("Language preference")
    assert language is not None and language.value == "fr (French), en (English)"
    log_entry = mc.find("Log entry")
    assert log_entry is not None and log_entry.value == "SFI 11, 5 records"
    gpo = mc.find("GET PROCESSING OPTIONS")
    assert gpo is not None and gpo.value == "not sent"
    assert "increments its application transaction counter" in gpo.explanation
    assert "unpredictable number fixed 00 00 00 00" in gpo.explanation
    # The records are found by probing SFIs 1-10, READ RECORD being read-only.
    pan = mc.find("PAN")
    assert pan is not None and pan.value == PAN and pan.sensitive
    country, currency = mc.find("Issuer country code"), mc.find("Application currency code")
    assert country is not None and country.value == "250 (France, FR)"
    assert currency is not None and currency.value == "978 (EUR, Euro)"
    log = mc.find("Transaction log")
    assert log is not None and log.value == "SFI 11, 3 of at most 5 records"
    assert assert_traced(top, one.data) > 50


def test_with_allow_changes_gpo_is_sent_once_per_application(bench: Callable[[bool], Bench]) -> None:
    one = bench(True)
    result = run_analyzers(one.session, [EmvAnalyzer()], "Virtual", one.card.atr)
    top = result.results[0].finding
    assert result.results[0].error == ""
    assert gpo_count(one.card) == 2
    for aid, records in ((MASTERCARD, ["SFI 1 record 1", "SFI 2 record 1", "SFI 2 record 2"]),
                         (CB, ["SFI 1 record 1", "SFI 1 record 2"])):
        app = application(top, aid)
        gpo = app.find("GET PROCESSING OPTIONS")
        assert gpo is not None and gpo.value == "sent"
        afl = app.find("Records (AFL)")
        assert afl is not None and [c.name for c in afl.children] == records
        before, after = app.find("ATC"), app.find("ATC after GPO")
        assert before is not None and after is not None
        assert atc(after) == atc(before) + 1
    assert atc(application(top, MASTERCARD).find("ATC")) == 18  # type: ignore[arg-type]
    mc = application(top, MASTERCARD)
    aip_found = mc.find("Application interchange profile (AIP)")
    assert aip_found is not None and aip_found.value == "18 00"
    cvm = mc.find("CVM list")
    assert cvm is not None and cvm.value == "4 rules"
    name = mc.find("Cardholder name")
    assert name is not None and name.sensitive and name.value == "TEST/CARD"
    track2 = mc.find("Track 2 equivalent data")
    assert track2 is not None and track2.sensitive
    log = mc.find("Transaction log")
    assert log is not None and [c.value for c in log.children] == [
        "2026-11-15, 14:30:00, 1250", "2026-11-10, 09:15:00, 4500", "2026-11-01, 18:02:45, 20000"]
    merchant = log.children[0].find("Merchant name and location")
    assert merchant is not None and merchant.value == "TEST SHOP PARIS"
    assert assert_traced(top, one.data) > 50
    masked = json.dumps(analysis_json(result), ensure_ascii=False)
    assert PAN not in masked and PAN.replace("", " ").strip() not in masked
    assert "54 13 33 00 89 01 00 12" not in masked  # nor in the exchanges' bytes
    assert "TEST/CARD" not in masked and "••••••••••••0012" in masked
    revealed = json.dumps(analysis_json(result, reveal=True), ensure_ascii=False)
    assert PAN in revealed and "54 13 33 00 89 01 00 12" in revealed
    assert PAN not in analysis_text(result)


def test_a_card_without_payment_applications_says_so(bench: Callable[[bool], Bench]) -> None:
    card = demo_profile()
    hub_bench = Bench(VirtualCard(card.atr, FileSystemCard(card)), True)
    try:
        top = EmvAnalyzer().analyze(hub_bench.session)
    finally:
        assert hub_bench.conn.close(timeout=5)
    assert top.value == "not an EMV card"
    assert gpo_count(hub_bench.card) == 0
    assert not EmvAnalyzer().likely(card.atr)


# -- a card that answers garbage --------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.binary(max_size=80), st.sampled_from([0x9000, 0x9000, 0x6A82, 0x6A83, 0x6985])),
                min_size=1, max_size=12),
       st.booleans())
def test_garbage_answers_never_raise(answers: list[tuple[bytes, int]], allow: bool) -> None:
    """Any bytes with any status word, cycled: the analyzer finishes with findings, never an
    exception, and every finding still points at the bytes it shows."""
    sent: list[bytes] = []

    def transmit(apdu: bytes) -> Reply:
        data, sw = answers[len(sent) % len(answers)]
        sent.append(apdu)
        return Reply((), data, sw)
    session = AnalysisSession(transmit, allow_changes=allow)
    top = EmvAnalyzer().analyze(session)
    assert top.name == "EMV payment" and top.value
    assert_traced(top, lambda i: session.replies[i].data)
    assert len(sent) < 5000
    if not allow:
        assert not any(apdu[:2] == b"\x80\xa8" for apdu in sent)


@pytest.mark.parametrize("data", [
    bytes.fromhex("6F 10 84 0E 32 50 41 59 2E 53 59 53 2E 44 44 46 30"),  # cut short
    bytes.fromhex("6F 08 A5 06 BF 0C 03 61 01 4F"),  # a 61 whose 4F has no length
    bytes.fromhex("70 05 5A 03 12 34"),  # a record cut short
])
def test_malformed_answers_are_reported(data: bytes) -> None:
    session = AnalysisSession(lambda apdu: Reply((), data, 0x9000))
    top = EmvAnalyzer().analyze(session)
    assert any(f.name.startswith("Malformed") or "not BER-TLV" in f.explanation
               for _, f in top.walk()), analysis_text_of(top)


def analysis_text_of(top: Finding) -> str:
    return "\n".join(f"{'  ' * d}{f.name}: {f.value}" for d, f in top.walk())


# -- capture round trip ---------------------------------------------------------------------

def _findings(analysis: Analysis) -> object:
    return analysis_json(analysis, reveal=True)["analyzers"]


@pytest.mark.parametrize("allow", [False, True])
def test_capture_of_the_emv_card_analyzes_the_same(bench: Callable[[bool], Bench], allow: bool) -> None:
    one = bench(allow)
    first = run_analyzers(one.session, [EmvAnalyzer()], "Virtual", one.card.atr)
    captured = parse_profile(capture(first).profile, "captured.json")
    if allow:  # the GPO answers are in the capture, and the ATC as the card left it (2 GPOs later)
        apps = {df.name: df for df in captured.mf.children if df.name is not None}
        assert apps[bytes.fromhex("A0000000421010")].gpo == bytes.fromhex("8006 1800 08010200")
        assert {o.tag: o.value for o in captured.data_objects}[0x9F36] == bytes.fromhex("0014")
        return
    again = Bench(VirtualCard(captured.atr, FileSystemCard(captured)), allow)
    try:
        second = run_analyzers(again.session, [EmvAnalyzer()], "Virtual", captured.atr)
    finally:
        assert again.conn.close(timeout=5)
    assert _findings(second) == _findings(first)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255), st.booleans()), min_size=1, max_size=8))
def test_a_card_with_damaged_answers_never_raises(damage: list[tuple[int, int, bool]]) -> None:
    """The EMV profile's own answers, each cut short or with one byte changed in turn: the
    decoders meet almost-right data (lengths that overrun, DOLs cut in two, odd CVM lists)."""
    card = FileSystemCard(load_profile(EMV_PROFILE))
    sent: list[bytes] = []

    def transmit(apdu: bytes) -> Reply:
        raw = card(apdu)
        if raw[-2] == 0x61:  # the link's GET RESPONSE, done here
            raw = card(bytes([0x00, 0xC0, 0x00, 0x00, raw[-1]]))
        data, sw = raw[:-2], int.from_bytes(raw[-2:], "big")
        at_, value, cut = damage[len(sent) % len(damage)]
        sent.append(apdu)
        if data:
            pos = at_ % len(data)
            data = data[:pos] if cut else data[:pos] + bytes([value]) + data[pos + 1:]
        return Reply((), data, sw)
    session = AnalysisSession(transmit, allow_changes=True)
    top = EmvAnalyzer().analyze(session)
    assert top.value
    assert_traced(top, lambda i: session.replies[i].data)
