"""The GlobalPlatform analyzer: decoding checked field by field on byte strings from the
specification's layouts and published examples, then the whole analysis on the embedded virtual
reader with resources/cards/globalplatform.json (no pcscd)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.apps.findings import Finding
from explorer.apps.gp import GpAnalyzer
from explorer.apps.gp.capabilities import decode_capabilities, privileges
from explorer.apps.gp.carddata import decode_recognition, i_bits
from explorer.apps.gp.cplc import LENGTH, date_text, decode_cplc
from explorer.apps.gp.fci import decode_fci, looks_like_isd
from explorer.apps.gp.keyinfo import decode_key_information
from explorer.apps.gp.oid import decode_oid, encode_oid
from explorer.apps.session import AnalysisSession
from explorer.assets import asset_path
from explorer.core.exchange import Reply
from explorer.virtual.card import VirtualCard
from explorer.virtual.profile import demo_profile, load_profile
from tests.app_helpers import Bench, answer, assert_traced, node, profile_card, values

GP_PROFILE = asset_path("cards", "globalplatform.json")


# -- CPLC -----------------------------------------------------------------------------

#: 18 fields in the specified order and lengths, each value distinct so a shifted field shows.
CPLC_FIELDS = [
    ("IC fabricator", "4790"), ("IC type", "5167"), ("Operating system identifier", "4791"),
    ("Operating system release date", "3102"), ("Operating system release level", "3B00"),
    ("IC fabrication date", "3250"), ("IC serial number", "12345678"), ("IC batch identifier", "0042"),
    ("IC module fabricator", "4812"), ("IC module packaging date", "3280"), ("ICC manufacturer", "8100"),
    ("IC embedding date", "3301"), ("IC pre-personalizer", "4812"),
    ("IC pre-personalization equipment date", "3320"),
    ("IC pre-personalization equipment identifier", "00000017"), ("IC personalizer", "4813"),
    ("IC personalization date", "4015"), ("IC personalization equipment identifier", "00000023"),
]
CPLC = bytes.fromhex("".join(v for _, v in CPLC_FIELDS))


def test_cplc_is_decoded_field_by_field_with_its_bytes() -> None:
    assert len(CPLC) == LENGTH == 42
    data = bytes.fromhex("9F7F2A") + CPLC
    fields = decode_cplc(answer(data, 3), 3, len(data))
    assert [f.name for f in fields] == [name for name, _ in CPLC_FIELDS]
    pos = 3
    for found, (_, hex_value) in zip(fields, CPLC_FIELDS, strict=True):
        raw = bytes.fromhex(hex_value)
        assert found.raw == raw and found.source is not None
        assert (found.source.exchange, found.source.start, found.source.end) == (3, pos, pos + len(raw))
        assert found.explanation
        pos += len(raw)
    by_name = {f.name: f for f in fields}
    assert by_name["IC fabricator"].value == "4790 (NXP)"
    assert by_name["IC serial number"].value == "12345678"
    release = by_name["Operating system release date"]
    assert release.value == "day 102 of a year ending in 3"
    assert "last digit of the year" in release.explanation and "2023-04-12" in release.explanation
    assert "2024-01-15" in by_name["IC personalization date"].explanation


def test_cplc_dates_follow_yddd() -> None:
    # Day 366 exists only in leap years: 2014 has none.
    shown, why = date_text(bytes.fromhex("4366"))
    assert shown == "day 366 of a year ending in 4"
    assert "2004-12-31" in why and "2024-12-31" in why and "2014" not in why
    assert "not set" in date_text(b"\x00\x00")[1] and "not set" in date_text(b"\xff\xff")[1]
    assert "not a valid YDDD date" in date_text(bytes.fromhex("1A00"))[1]
    assert "not a valid YDDD date" in date_text(bytes.fromhex("3400"))[1]  # day 400
    assert "not a valid YDDD date" in date_text(bytes.fromhex("3000"))[1]  # day 0


def test_cplc_short_or_long_says_so() -> None:
    short = decode_cplc(answer(CPLC[:20]), 0, 20)
    assert short[-1].name == "Missing fields" and "IC module packaging date" in short[-1].explanation
    assert [f.name for f in short[:-1]] == [name for name, _ in CPLC_FIELDS[:9]]
    long = decode_cplc(answer(CPLC + b"\x01\x02"), 0, LENGTH + 2)
    assert long[-1].name == "Extra bytes" and long[-1].raw == b"\x01\x02"


# -- card recognition data ------------------------------------------------------------------

#: GET DATA 66 as a Nokia 6131 NFC answered it (published in "Card recognition data", 0x9000
#: blog, 2009): GP 2.1.1, SCP02 i=55, an NXP configuration OID, Java Card 2.
CARD_DATA_6131 = bytes.fromhex(
    "664C734A06072A864886FC6B01600C060A2A864886FC6B02020101630906072A864886FC6B03640B06092A864886FC6B"
    "040255650B06092B8510864864020103660C060A2B060104012A026E0102")


def test_oids_in_dotted_form() -> None:
    assert decode_oid(bytes.fromhex("2A864886FC6B01")) == "1.2.840.114283.1"
    assert decode_oid(bytes.fromhex("2B060104012A026E0102")) == "1.3.6.1.4.1.42.2.110.1.2"
    assert decode_oid(bytes.fromhex("2A8648")) == "1.2.840"
    assert decode_oid(bytes.fromhex("2A86")) is None and decode_oid(b"") is None
    assert encode_oid("1.2.840.114283.2.2.3.1") == bytes.fromhex("2A864886FC6B02020301")


def test_card_data_of_a_published_card() -> None:
    data = CARD_DATA_6131
    recognition = decode_recognition(answer(data), node(data).children[0])
    got = values(recognition)
    assert got == {
        "Card recognition data OID": "1.2.840.114283.1",
        "Card management type and version": "GlobalPlatform 2.1.1",
        "Card identification scheme": "IIN and CIN",
        "Secure channel protocol": "SCP02 i=55",
        "Card configuration details": "1.3.656.840.100.2.1.3",
        "Card / chip details": "Java Card 2",
    }
    scp = recognition.find("Secure channel protocol")
    assert scp is not None
    assert "well-known pseudo-random algorithm" in scp.explanation
    assert "3 Secure Channel keys" in scp.explanation
    config = recognition.find("Card configuration details")
    assert config is not None and "implementation-specific" in config.explanation
    # The template, its OID, five tags and the OID in each.
    assert assert_traced(recognition, lambda _: data) == 12


def test_scp_options_bit_by_bit() -> None:
    text = i_bits(0x02, 0x15)
    for part in ("3 Secure Channel keys", "C-MAC on unmodified APDU", "initiation mode explicit",
                 "ICV set to zero", "ICV encryption for C-MAC session", "no R-MAC support"):
        assert part in text
    assert i_bits(0x03, 0x70) == ("i=70: pseudo-random card challenge, R-MAC support, R-ENCRYPTION support")
    assert i_bits(0x03, 0x00) == "i=00: random card challenge, no R-MAC support, no R-ENCRYPTION support"
    assert "RFU bits 01 set" in i_bits(0x03, 0x01)


def test_card_capabilities() -> None:
    # 67 { A0 { 80 SCP03, 81 i=70, 82 AES-128/192/256 }, 83 SHA-1 and SHA-256, 81 SD privileges }
    data = bytes.fromhex("6714" "A009800103810170820107" "83020102" "8103FE0000")
    found = decode_capabilities(answer(data), node(data))
    scp = found.children[0]
    assert values(scp) == {"Protocol": "SCP03", "Options": "i=70", "Key lengths": "AES-128, AES-192, AES-256"}
    assert values(found)["Load file data block hash algorithms"] == "SHA-1, SHA-256"
    assert values(found)["Privileges for security domains"] == ", ".join(privileges(b"\xfe\x00\x00"))
    assert privileges(b"\xfe\x00\x00") == ["Security Domain", "DAP Verification", "Delegated Management",
                                           "Card Lock", "Card Terminate", "Card Reset", "CVM Management"]
    assert assert_traced(found, lambda _: data) == 7


# -- key information ------------------------------------------------------------------------

DES_16 = "DES, mode (ECB/CBC) implicitly known (Triple DES for SCP02) (80), 16 bytes"

def test_key_information_basic_format() -> None:
    # Three AES-256 keys of version 01, an RSA token verification key (modulus 128 bytes,
    # exponent 3 bytes) and a DES receipt key: GPPro's parsing test vector.
    data = bytes.fromhex("E020C00401018820C00402018820C00403018820C0060170A180A003C00401718010")
    found = decode_key_information(answer(data), node(data))
    assert found.value == "5 keys"
    names = [k.name for k in found.children]
    assert names == ["Key 01 version 01", "Key 02 version 01", "Key 03 version 01", "Key 01 version 70",
                     "Key 01 version 71"]
    first = found.children[0]
    assert values(first) == {"Key ID": "01", "Key version": "01",
                             "Key component": "AES (88), 32 bytes, 256 bits"}
    assert "ENC" in first.children[0].explanation
    token = found.children[3]
    parts = [c.value for c in token.children if c.name == "Key component"]
    assert parts == ["RSA public key, modulus N (A1), 128 bytes",
                     "RSA public key, public exponent e (A0), 3 bytes"]
    assert "token verification" in token.children[1].explanation
    assert found.children[4].value == DES_16
    # The template, five keys, the ID and version of each, six key components.
    assert assert_traced(found, lambda _: data) == 1 + 5 + 10 + 6


def test_key_information_extended_format() -> None:
    data = bytes.fromhex("E00CC00A0120FF80001001000100")
    found = decode_key_information(answer(data), node(data))
    key = found.children[0]
    assert key.name == "Key 01 version 20"
    assert values(key)["Key component"] == DES_16
    assert values(key)["Key usage and access"] == "01 00 01 00"


def test_key_information_cut_short() -> None:
    data = bytes.fromhex("E005C003010188")
    found = decode_key_information(answer(data), node(data))
    assert "too short" in found.children[0].explanation


# -- FCI --------------------------------------------------------------------------------------

def test_isd_fci() -> None:
    profile = load_profile(GP_PROFILE)
    assert profile.mf.fci is not None
    data = profile.mf.fci
    assert looks_like_isd(data)
    found = decode_fci(answer(data))
    assert found.value == "A0 00 00 01 51 00 00 00"
    proprietary = found.find("Proprietary data")
    assert proprietary is not None
    assert values(proprietary) == {"Security domain management data": "GlobalPlatform 2.3.1; SCP03 i=70",
                                   "Application production life cycle data": "47 90 51 67 00 00",
                                   "Maximum command data length": "255 bytes"}
    assert assert_traced(found, lambda _: data) > 10
    # An ISO file's FCI (the demo card's MF) is no security domain's.
    assert not looks_like_isd(bytes.fromhex("6F0A8201388302 3F008A0105".replace(" ", "")))


# -- the analysis on the embedded reader ----------------------------------------------------------

def assert_read_only(card: VirtualCard) -> None:
    """Only SELECT (00 A4) and GET DATA (80 or 00 CA) reached the card, and GET RESPONSE (00 C0)
    right after a 61xx: the link's own step on a T=0 card."""
    allowed = {(0x00, 0xA4), (0x80, 0xCA), (0x00, 0xCA)}
    received = card.received
    for n, apdu in enumerate(received):
        if (apdu[0], apdu[1]) == (0x00, 0xC0):
            assert n and received[n - 1][1] in (0xA4, 0xCA, 0xC0), apdu.hex()
            continue
        assert (apdu[0], apdu[1]) in allowed, apdu.hex()


def test_the_gp_profile_is_read_whole(bench: Callable[[VirtualCard], Bench]) -> None:
    profile = load_profile(GP_PROFILE)
    run = bench(profile_card(profile))
    analyzer = GpAnalyzer()
    assert (analyzer.key, analyzer.title) == ("gp", "GlobalPlatform")
    assert analyzer.likely(profile.atr)
    root = analyzer.analyze(run.session)
    assert root.value == "Issuer Security Domain A0 00 00 01 51 00 00 00"
    # The default SELECT found the ISD: no AID had to be tried.
    assert run.card.received[0] == bytes.fromhex("00A4040000")
    assert len(run.card.received) == 1 + 8
    assert_read_only(run.card)
    # Each finding holds the bytes it points at, in the reply it names.
    assert assert_traced(root, run.data) > 60
    objects = {obj.tag: obj.value for obj in profile.data_objects}

    def check(name: str, value: str, tag: int) -> Finding:
        found = root.find(name)
        assert found is not None and found.value == value, (name, found)
        assert found.source is not None
        # The whole data object, tag and length included, as GET DATA answered it.
        assert found.raw.endswith(objects[tag]) and found.source.start == 0
        assert found.raw == run.data(found.source.exchange)
        return found

    cplc = check("Card production life cycle data (CPLC)", "IC fabricator 4790 (NXP)", 0x9F7F)
    assert [(c.name, c.raw.hex().upper()) for c in cplc.children] == [(n, v) for n, v in CPLC_FIELDS]
    card_data = check("Card data", "GlobalPlatform 2.3.1; SCP03 i=70", 0x66)
    assert values(card_data.children[0])["Card / chip details"] == "Java Card 3"
    check("Card capability information", "SCP03, i=70", 0x67)
    keys = check("Key information template", "3 keys", 0xE0)
    assert [(k.name, k.value) for k in keys.children] == [
        (f"Key 0{n} version 30", "AES (88), 16 bytes, 128 bits") for n in (1, 2, 3)]
    assert ["ENC" in k.children[0].explanation for k in keys.children] == [True, False, False]
    check("Issuer identification number (IIN)", "99 12 34", 0x42)
    check("Card image number (CIN)", "CE 00 00 00 12 34 56 78", 0x45)
    check("Sequence counter", "00 00 05 (5)", 0xC1)
    check("Confirmation counter", "00 00 (0)", 0xC2)
    fci = root.find("File control information")
    assert fci is not None and fci.raw == profile.mf.fci


def test_a_card_without_gp_says_so(bench: Callable[[VirtualCard], Bench]) -> None:
    # A card that knows no SELECT and no GET DATA: 6D00 to everything.
    run = bench(VirtualCard(handler=lambda apdu: b"\x6d\x00"))
    root = GpAnalyzer().analyze(run.session)
    assert root.value == "not a GlobalPlatform card"
    assert "nothing GlobalPlatform-like" in root.explanation
    refused = root.find("CPLC")
    assert refused is not None and refused.value == "not available (6D 00)"
    assert "6D 00" in refused.explanation and "instruction" in refused.explanation.lower()
    assert_read_only(run.card)
    # GET DATA refused for its instruction is asked once more with CLA 00, as some cards want.
    assert sum(1 for apdu in run.card.received if apdu[1] == 0xCA) == 2 * 8


def test_the_demo_card_is_no_isd_but_has_a_cplc(bench: Callable[[VirtualCard], Bench]) -> None:
    profile = demo_profile()
    run = bench(profile_card(profile))
    analyzer = GpAnalyzer()
    assert not analyzer.likely(profile.atr)
    root = analyzer.analyze(run.session)
    assert root.value == "no security domain recognised, GlobalPlatform data found"
    selection = root.find("Default selection")
    assert selection is not None and "6A 82" in selection.explanation
    cplc = root.find("Card production life cycle data (CPLC)")
    assert cplc is not None and len(cplc.children) == 18
    card_data = root.find("Card data")
    assert card_data is not None and card_data.value == "not available (6A 88)"
    assert "not found" in card_data.explanation.lower()
    assert_read_only(run.card)
    assert_traced(root, run.data)


def test_cla_00_when_the_card_refuses_cla_80(bench: Callable[[VirtualCard], Bench]) -> None:
    cplc = bytes.fromhex("9F7F2A") + CPLC

    def card(apdu: bytes) -> bytes:
        if apdu[0] == 0x80:
            return b"\x6e\x00"
        if apdu[:4] == bytes.fromhex("00CA9F7F"):
            return cplc + b"\x90\x00"
        return b"\x6a\x82"
    run = bench(VirtualCard(handler=card))
    root = GpAnalyzer().analyze(run.session)
    found = root.find("Card production life cycle data (CPLC)")
    assert found is not None and found.raw == cplc
    assert root.value == "no security domain recognised, GlobalPlatform data found"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=80), min_size=1, max_size=12), st.sampled_from([0x9000, 0x6A88, 0x6283]))
def test_garbage_answers_never_raise(answers: list[bytes], sw: int) -> None:
    """A card answering anything: the analysis ends with findings, each still pointing at its bytes."""
    replies = iter(answers * 20)
    session = AnalysisSession(lambda apdu: Reply((), next(replies), sw))
    root = GpAnalyzer().analyze(session)
    assert root.name == "GlobalPlatform"
    assert_traced(root, lambda i: session.replies[i].data)


def test_likely_reads_the_historical_bytes() -> None:
    analyzer = GpAnalyzer()
    # A JCOP ATR names itself in the historical bytes ("JCOP31V232").
    assert analyzer.likely(bytes.fromhex("3B8A80014A434F503331563233327A"))
    assert not analyzer.likely(bytes.fromhex("3B8E800180 31C073F60100 5643454465 6D6F89".replace(" ", "")))
    assert not analyzer.likely(b"\x3b")


def test_a_locked_card_says_so(bench: Callable[[VirtualCard], Bench]) -> None:
    fci = load_profile(GP_PROFILE).mf.fci
    assert fci is not None

    def card(apdu: bytes) -> bytes:
        return fci + b"\x62\x83" if apdu[1] == 0xA4 else b"\x6a\x88"
    run = bench(VirtualCard(handler=card))
    root = GpAnalyzer().analyze(run.session)
    assert root.value == "Issuer Security Domain A0 00 00 01 51 00 00 00"
    state = root.find("Card life cycle state")
    assert state is not None and state.value == "CARD_LOCKED (7F)" and "locked" in state.explanation
    assert run.card.received[0] == bytes.fromhex("00A4040000") and len(run.card.received) == 1 + 8
    assert_traced(root, run.data)


def test_the_isd_is_selected_by_its_aid_when_the_default_selection_fails(
        bench: Callable[[VirtualCard], Bench]) -> None:
    # An Open Platform card manager: no default selection, the older AID, an FCI with its AID only.
    manager = bytes.fromhex("A0000000030000")
    fci = bytes.fromhex("6F0984") + bytes([len(manager)]) + manager

    def card(apdu: bytes) -> bytes:
        if apdu[1] == 0xA4:
            return fci + b"\x90\x00" if apdu[5:-1] == manager else b"\x6a\x82"
        return b"\x6a\x88"
    run = bench(VirtualCard(handler=card))
    root = GpAnalyzer().analyze(run.session)
    assert root.value == "Issuer Security Domain A0 00 00 00 03 00 00"
    assert [apdu.hex().upper() for apdu in run.card.received[:3]] == [
        "00A4040000", "00A4040008A00000015100000000", "00A4040007A000000003000000"]
    assert len(run.card.received) == 3 + 8
    assert root.find("File control information") is not None
    assert_read_only(run.card)
