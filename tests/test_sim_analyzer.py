"""The SIM/USIM analyzer: decoders checked against the specifications' codings (ICCID with its
Luhn digit, IMSI with its parity, PLMN nibble order with 2- and 3-digit MNCs, service tables,
SPN alphabets, access rules), the analyzer on the test USIM profile in the in-process virtual
reader (no VERIFY ever sent, every finding's bytes where its source says), on a GSM-only SIM
(CLA A0, 9Fxx) and on cards that are no SIM."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from explorer.apps.analysis import Analysis, run_analyzers
from explorer.apps.findings import Finding
from explorer.apps.session import AnalysisSession
from explorer.apps.sim import access
from explorer.apps.sim.analyzer import SimAnalyzer
from explorer.apps.sim.ef_decoders import decode_ad, decode_plmn_list, decode_spn, mnc_length
from explorer.apps.sim.fcp import parse_fcp, parse_gsm_response
from explorer.apps.sim.identities import decode_iccid, decode_imsi, luhn_digit, plmn
from explorer.apps.sim.services import decode_sst, ust_services
from explorer.apps.sim.text import alpha, gsm7
from explorer.assets import asset_path
from explorer.core.exchange import Exchange, Origin, TransmitOptions, run_pipeline
from explorer.core.link_modes import Protocol, ShareMode
from explorer.link.connection import CardConnection, WorkerSession
from explorer.virtual.card import VirtualCard
from explorer.virtual.embedded import EmbeddedReaders
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import ProfileError, load_profile, parse_profile

USIM = asset_path("cards", "usim.json")
H = bytes.fromhex


# -- decoders ----------------------------------------------------------------------------------

def test_luhn_and_iccid_with_swapped_nibbles() -> None:
    assert luhn_digit("7992739871") == 3  # the textbook example
    good = decode_iccid(H("98 00 01 21 43 65 87 09 21 F0"))
    assert good.value == "8900101234567890120"
    check = next(c for c in good.children if c.name == "Check digit")
    assert check.value == "0 (correct)" and (check.start, check.end) == (9, 10)
    bad = decode_iccid(H("98 00 01 21 43 65 87 09 31 F0"))  # digit 18 now 3: the check must be 8
    assert next(c for c in bad.children if c.name == "Check digit").value == "0 (wrong: Luhn gives 8)"


def test_imsi_odd_and_even_parity_and_mnc_length() -> None:
    odd = decode_imsi(H("08 09 10 10 10 32 54 76 98"), 2)  # 15 digits: parity bit set
    assert odd.value == "001010123456789" and odd.sensitive
    parts = {c.name: c for c in odd.children}
    assert parts["MCC"].value == "001" and parts["MNC"].value == "01" and parts["MSIN"].value == "0123456789"
    assert (parts["MNC"].start, parts["MNC"].end) == (3, 4)
    assert "odd" in parts["Identity type and parity"].value
    even = decode_imsi(H("08 31 01 14 10 32 54 76 F8"), 3)  # 14 digits: F filler, parity clear
    parts = {c.name: c for c in even.children}
    assert even.value == "31041012345678"
    assert (parts["MCC"].value, parts["MNC"].value, parts["MSIN"].value) == ("310", "410", "12345678")
    assert (parts["MNC"].start, parts["MNC"].end) == (3, 5)
    assert decode_imsi(H("FF FF FF")).value == "not set"


def test_plmn_nibble_order_two_and_three_digit_mnc() -> None:
    # 24.008 10.5.1.3: MCC2|MCC1, MNC3|MCC3, MNC2|MNC1; MNC3 = F for two digits.
    assert plmn(H("13 00 14")) == ("310", "410")
    assert plmn(H("62 F2 10")) == ("262", "01")
    assert plmn(H("00 F1 10")) == ("001", "01")
    assert plmn(H("FF FF FF")) is None
    listing = decode_plmn_list(H("13 00 14 FF FF FF 62 F2 10"), "FPLMN", "")
    assert [c.value for c in listing.children] == ["MCC 310 MNC 410", "MCC 262 MNC 01"]
    assert [(c.start, c.end) for c in listing.children] == [(0, 3), (6, 9)]
    wact = decode_plmn_list(H("00 F1 10 C0 80"), "HPLMN", "", 5)
    assert wact.children[0].value == "MCC 001 MNC 01, UTRAN + E-UTRAN + GSM"


def test_service_tables() -> None:
    assert ust_services(H("01")) == [1]
    assert ust_services(H("80")) == [8]
    assert ust_services(H("00 00 14 00 01 04")) == [19, 21, 33, 43]
    sst = decode_sst(H("FF 00 01"))  # services 1-4 allocated and activated; 9 allocated only
    assert [c.name for c in sst.children] == ["Service 1", "Service 2", "Service 3", "Service 4", "Service 9"]
    assert sst.children[-1].value == "MSISDN: allocated, not activated"


def test_spn_and_alpha_identifiers() -> None:
    assert gsm7(H("00 01 02 1B 65 41 FF 41")) == "@£$€A"  # escape 1B 65 is the euro sign; FF ends
    spn = decode_spn(H("02 43 61 72 64 FF FF"))
    assert spn.value == "Card" and "not shown when roaming" in spn.children[0].explanation
    assert alpha(H("80 04 1F 04 40 FF FF")) == ("Пр", "UCS2 (first byte 80)")
    assert alpha(H("81 02 08 9F 41 FF"))[0] == "ПA"  # base 08 × 128 = 0400, 9F: 0400 + 1F
    assert alpha(H("82 02 04 00 9F 41"))[0] == "ПA"
    ad = decode_ad(H("80 00 00 03"))
    assert ad.value == "type approval operations" and mnc_length(H("80 00 00 03")) == 3


def test_access_rules_compact_expanded_referenced_and_gsm() -> None:
    arr = access.expanded_rules(H("80 01 01 A4 06 83 01 01 95 01 08 80 01 02 A4 06 83 01 0A 95 01 08 FF FF"))
    assert access.read_rule(arr) == "verify PIN 01 (application PIN 1)"
    assert arr[1].operation == "UPDATE" and "ADM1" in arr[1].condition
    compact = access.compact_rules(H("03 FF 00"))  # AM b2 UPDATE, b1 READ: SC bytes in that order
    assert [(r.operation, r.condition) for r in compact] == [("UPDATE", "never"), ("READ", "always")]
    assert access.referenced(H("6F 06 02")) == (0x6F06, 2)
    fcp = parse_fcp(H("62 13 82 02 41 21 83 02 6F 07 8A 01 05 8B 03 6F 06 02 80 01 09"))
    assert fcp.arr == (0x6F06, 2) and fcp.size == 9 and fcp.structure == "transparent"
    gsm = parse_gsm_response(H("00 00 00 09 6F 07 04 00 14 FF 44 01 02 00 00"))
    assert gsm.size == 9 and access.read_rule(list(gsm.rules)) == "CHV1 (PIN1)"


# -- the profile format: fcp_extra ----------------------------------------------------------------

def _profile(ef: dict[str, object]) -> dict[str, object]:
    return {"format": "card-explorer-profile", "version": 1, "name": "t", "atr": "3B 00",
            "files": {"fid": "3F00", "type": "MF", "fcp_extra": "C6 03 83 01 01", "children": [ef]}}


def test_fcp_extra_is_carried_in_the_fcp_and_checked() -> None:
    ef: dict[str, object] = {"fid": "6F07", "type": "EF", "structure": "transparent", "content": "00",
          "fcp_extra": "8B 03 6F 06 02"}
    card = FileSystemCard(parse_profile(_profile(ef)))
    fcp = card(H("00 A4 00 04 02 6F 07 00"))
    assert fcp[-2:] == H("9000") and fcp[:-2].endswith(H("8A 01 05 8B 03 6F 06 02"))
    assert card(H("00 A4 00 04 02 3F 00 00"))[:-2].endswith(H("8A 01 05 C6 03 83 01 01"))
    with pytest.raises(ProfileError, match=r"files.children\[0\]: fcp_extra is not BER-TLV"):
        parse_profile(_profile({**ef, "fcp_extra": "8B 05 6F"}))
    # Without the key, a file's FCP is built as always, with its own compact rule (UPDATE never,
    # READ always); with security attributes in fcp_extra those replace the built ones.
    plain = FileSystemCard(parse_profile(_profile({k: v for k, v in ef.items() if k != "fcp_extra"})))
    assert plain(H("00 A4 00 04 02 6F 07 00"))[:-2] == H("62 15 80 02 00 01 82 01 01 83 02 6F 07 88 00"
                                                          "8C 03 03 FF 00 8A 01 05")
    assert b"\x8c" not in fcp[:-2]


def test_a_compact_security_attribute_is_reported_with_the_refusal() -> None:
    # 8C 03 03 FF 90: UPDATE never; READ needs user authentication (b5), all conditions (b8).
    profile = {"format": "card-explorer-profile", "version": 1, "name": "t", "atr": "3B 00",
               "pins": [{"reference": "01", "value": "31323334FFFFFFFF"}],
               "files": {"fid": "3F00", "type": "MF", "children": [
                   {"fid": "7FF0", "type": "DF", "name": "A0000000871002", "children": [
                       {"fid": "6F07", "type": "EF", "structure": "transparent", "read": "pin:01",
                        "content": "08 09 10 10 10 32 54 76 98", "fcp_extra": "8C 03 03 FF 90"}]}]}}
    top, sent = _analyze(FileSystemCard(parse_profile(profile)))
    imsi = top.find("EF.IMSI")
    assert imsi is not None and imsi.value == "PIN-protected"
    assert "READ needs user authentication (a PIN)" in imsi.explanation and imsi.raw == H("8C 03 03 FF 90")
    assert "partial AID" in (top.find("ADF.USIM") or Finding("")).explanation
    assert all(apdu[1] != 0x20 for apdu in sent)


# -- the analyzer on the test USIM, in the in-process virtual reader -------------------------------

class Counting:
    """The card's handler, counting commands by INS as they reach the card."""

    def __init__(self, card: FileSystemCard) -> None:
        self.card = card
        self.ins: Counter[int] = Counter()

    def __call__(self, apdu: bytes) -> bytes:
        self.ins[apdu[1]] += 1
        return self.card(apdu)


@pytest.fixture
def usim_analysis() -> Iterator[tuple[Analysis, Counting]]:
    hub = EmbeddedReaders(lambda event: None)
    reader = hub.add_reader()
    counting = Counting(FileSystemCard(load_profile(USIM)))
    hub.insert(reader, VirtualCard(counting.card.atr, counting), "test USIM")
    conn = CardConnection(reader, hub.link(reader))
    try:
        atr = conn.connect(Protocol.ANY, ShareMode.SHARED).result(5).atr

        def job(worker: WorkerSession) -> Analysis:
            session = AnalysisSession(lambda apdu: worker.send(apdu, TransmitOptions(), False, "analyze"))
            return run_analyzers(session, [SimAnalyzer()], reader, atr)

        yield conn.run_job(job, Origin.ANALYZER).result(10), counting
    finally:
        assert conn.close(timeout=5)


def _points_at_its_bytes(analysis: Analysis) -> int:
    checked = 0
    for result in analysis.results:
        for _, f in result.finding.walk():
            if f.source is not None:
                data = analysis.replies[f.source.exchange].data
                assert data[f.source.start : f.source.end] == f.raw, f.name
                assert f.raw, f.name
                checked += 1
    return checked


def test_usim_profile_read_without_a_pin(usim_analysis: tuple[Analysis, Counting]) -> None:
    analysis, counting = usim_analysis
    (result,) = analysis.results
    top = result.finding
    assert not result.error and top.value == "USIM"
    style = top.find("Command style")
    assert style is not None and "CLA 00" in style.value
    iccid = top.find("EF.ICCID")
    assert iccid is not None and iccid.value == "8900101234567890120"
    assert iccid.raw == H("98 00 01 21 43 65 87 09 21 F0")
    app = top.find("Application")
    assert app is not None and app.value == "USIM"
    aid = top.find("AID")
    assert aid is not None and aid.value == "A0000000871002FFFFFFFF8907090000 (USIM)"
    adf = top.find("ADF.USIM")
    assert adf is not None and adf.value == "selected" and "from EF.DIR" in adf.explanation
    values = {c.name: c.value for c in adf.children}
    assert values["EF.SPN"] == "Card Explorer"
    assert values["EF.UST"].startswith("4 services: 19, 21, 33, 43")
    assert values["EF.LI"] == "en"
    assert values["EF.FPLMN"] == "2 of 4 entries used"
    assert values["EF.AD"] == "normal operation"
    assert values["PIN status"] == "01 enabled"
    # The IMSI is refused without PIN 01, and said so with the rule the FCP refers to.
    imsi = next(c for c in adf.children if c.name == "EF.IMSI")
    assert imsi.value == "PIN-protected"
    assert "record 2 of EF.ARR 6F06" in imsi.explanation and "verify PIN 01" in imsi.explanation
    assert imsi.raw == H("8B 03 6F 06 02")
    rule = imsi.find("Access rule")
    assert rule is not None and rule.value.startswith("READ: verify PIN 01")
    for protected in ("EF.ACC", "EF.LOCI", "EF.HPLMNwAcT", "EF.MSISDN"):
        assert values[protected] == "PIN-protected", protected
    # Read-only: no VERIFY (nor anything but SELECT, READ and GET RESPONSE) reached the card.
    assert counting.ins[0x20] == 0
    assert set(counting.ins) <= {0xA4, 0xB0, 0xB2, 0xC0}
    assert _points_at_its_bytes(analysis) > 40


def test_likely_reads_the_class_indicator_of_the_atr() -> None:
    assert SimAnalyzer().likely(load_profile(USIM).atr)  # T=15 with TA: classes A, B, C
    assert not SimAnalyzer().likely(H("3B 8E 80 01 80 31 C0 73 F6 01 00 56 43 45 44 65 6D 6F 89"))
    assert not SimAnalyzer().likely(b"")


# -- other cards ---------------------------------------------------------------------------------

def _analyze(card: Callable[[bytes], bytes]) -> tuple[Finding, list[bytes]]:
    sent: list[bytes] = []

    def transmit(apdu: bytes, origin: Origin) -> Exchange:
        sent.append(apdu)
        return Exchange("R", apdu, card(apdu), 0.0, 0.0, origin)

    session = AnalysisSession(lambda apdu: run_pipeline(apdu, transmit, Origin.ANALYZER))
    analysis = run_analyzers(session, [SimAnalyzer()], "R", b"")
    assert not analysis.results[0].error
    _points_at_its_bytes(analysis)
    return analysis.results[0].finding, sent


def _gsm_sim() -> Callable[[bytes], bytes]:
    """A GSM-only SIM (51.011): CLA 00 refused; SELECT answers 9Fxx, GET RESPONSE the file's
    description; READ BINARY of the IMSI refused with 9804 (CHV1 needed)."""
    def ef(fid: str, size: int, read: int) -> bytes:
        return H(f"0000 {size:04X} {fid} 04 00 {read:X}4 FF 44 01 02 00 00")

    files = {
        "3F00": (H("0000 0000 3F00 01 000000000000 09 13 00 00 00 00 00 00"), b""),
        "2FE2": (ef("2FE2", 10, 0), H("98 00 01 21 43 65 87 09 21 F0")),
        "7F20": (H("0000 0000 7F20 02 000000000000 09 13 00 00 00 00 00 00"), b""),
        "6F07": (ef("6F07", 9, 1), H("08 09 10 10 10 32 54 76 98")),
        "6FAD": (ef("6FAD", 4, 0), H("00 00 00 02")),
        "6F46": (ef("6F46", 17, 0), H("00 54 65 73 74") + b"\xff" * 12),
    }
    current: dict[str, tuple[bytes, bytes]] = {}

    def card(apdu: bytes) -> bytes:
        if apdu[0] != 0xA0:
            return H("6E00")
        ins = apdu[1]
        if ins == 0xA4:
            found = files.get(apdu[5:7].hex().upper())
            if found is None:
                return H("9404")
            current["file"] = found
            return bytes([0x9F, len(found[0])])
        if ins == 0xC0:
            return current["file"][0][: apdu[4]] + H("9000")
        if ins == 0xB0:
            description, data = current["file"]
            if description[8] >> 4:  # READ needs CHV1
                return H("9804")
            return data[: apdu[4]] + H("9000")
        return H("6D00")

    return card


def test_a_gsm_sim_is_read_in_the_gsm_style() -> None:
    top, sent = _analyze(_gsm_sim())
    assert top.value == "GSM SIM"
    style = top.find("Command style")
    assert style is not None and "CLA A0" in style.value and "class not supported" in style.explanation
    iccid = top.find("EF.ICCID")
    assert iccid is not None and iccid.value == "8900101234567890120"
    imsi = top.find("EF.IMSI")
    assert imsi is not None and imsi.value == "PIN-protected" and "CHV1" in imsi.explanation
    spn = top.find("EF.SPN")
    assert spn is not None and spn.value == "Test"
    assert all(apdu[1] != 0x20 for apdu in sent)


def test_a_card_that_is_no_sim_says_so() -> None:
    demo = FileSystemCard(load_profile(asset_path("cards", "demo.json")))
    top, _ = _analyze(demo)
    assert top.value == "not a SIM" and "EF.ICCID" in top.explanation
    top, _ = _analyze(lambda apdu: H("6E00") if apdu[0] == 0 else H("6D00"))
    assert top.value == "not a SIM" and not top.children


def test_garbage_answers_never_raise() -> None:
    rng = random.Random(15)
    for _ in range(300):
        def card(apdu: bytes) -> bytes:
            body = bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 3, 12, 40))))
            sw = rng.choice((H("9000"), H("6982"), H("9F0F"), H("6A82"), H("9000"), H("9104"),
                             bytes([rng.randrange(256), rng.randrange(256)])))
            return body + sw
        top, _ = _analyze(card)
        assert top.value
