"""The ISO/IEC 7816-4 file-system analyzer: FCP decoding field by field, and a read-only walk of
the demo card through the in-process virtual reader (no pcscd)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from explorer.apps.analyzer import Analyzer
from explorer.apps.findings import Finding
from explorer.apps.fs import FileSystemAnalyzer, Options
from explorer.apps.fs.constants import FileType, LifeCycle, life_cycle
from explorer.apps.fs.fcp import FileInfo, decode_select, file_type
from explorer.apps.session import AnalysisSession
from explorer.core.exchange import Reply
from explorer.link.connection import CardConnection
from explorer.virtual.card import VirtualCard
from explorer.virtual.card_sources import CardSource, SourceKind, load_card
from explorer.virtual.embedded import EmbeddedReaders
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import demo_profile_path, parse_profile

DEMO_ATR = bytes.fromhex("3B8E800180 31C073F60100 5643454465 6D6F89".replace(" ", ""))
APP_AID = "F043415244455850"


def fcp(text: str) -> tuple[Finding, FileInfo]:
    return decode_select(bytes.fromhex(text.replace(" ", "")), 0)


def child(finding: Finding, prefix: str) -> Finding:
    found = next((c for c in finding.children if c.name.startswith(prefix)), None)
    assert found is not None, f"no {prefix!r} in {[c.name for c in finding.children]}"
    return found


def assert_sources(root: Finding, data_of: Callable[[int], bytes]) -> int:
    """Every finding with a source: its raw bytes are the bytes the source points at."""
    traced = 0
    for _, finding in root.walk():
        if finding.source is not None:
            source = finding.source
            assert data_of(source.exchange)[source.start:source.end] == finding.raw, finding.name
            traced += 1
    return traced


# -- FCP decoding: ISO/IEC 7816-4 7.4 ----------------------------------------------------

@pytest.mark.parametrize(("descriptor", "expected"), [
    (0x01, FileType.TRANSPARENT), (0x02, FileType.LINEAR_FIXED), (0x03, FileType.LINEAR_FIXED_TLV),
    (0x04, FileType.LINEAR_VARIABLE), (0x05, FileType.LINEAR_VARIABLE_TLV), (0x06, FileType.CYCLIC),
    (0x07, FileType.CYCLIC_TLV), (0x00, FileType.NO_INFORMATION), (0x38, FileType.DF),
    (0x78, FileType.DF), (0x41, FileType.TRANSPARENT), (0x09, FileType.TRANSPARENT),
    (0x39, FileType.BER_TLV), (0x3A, FileType.SIMPLE_TLV), (0x11, FileType.PROPRIETARY),
    (0x81, FileType.RFU),
])
def test_file_descriptor_byte_types(descriptor: int, expected: FileType) -> None:
    assert file_type(descriptor) is expected


def test_descriptor_explains_shareable_and_internal_efs() -> None:
    found, info = fcp("62 03 82 01 78")
    assert info.is_df and "shareable" in child(found, "82").explanation
    assert "not shareable" not in child(found, "82").explanation
    found, _ = fcp("62 03 82 01 09")
    assert child(found, "82").explanation.startswith("internal EF")


@pytest.mark.parametrize(("descriptor", "size", "count"), [
    ("02 21 1E", 30, None),  # 1-byte maximum record size
    ("02 21 00 1E", 30, None),  # 2-byte maximum record size
    ("04 21 00 40 0A", 64, 10),  # 2-byte size, 1-byte count (ETSI TS 102 221 style)
    ("06 21 01 00 01 2C", 256, 300),  # 2 + 2
])
def test_record_descriptor_sizes_and_counts(descriptor: str, size: int, count: int | None) -> None:
    value = bytes.fromhex(descriptor.replace(" ", ""))
    found, info = decode_select(bytes([0x62, len(value) + 2, 0x82, len(value)]) + value, 0)
    assert info.type is not None and info.type.records
    assert (info.record_size, info.records) == (size, count)
    coding = child(child(found, "82"), "Data coding byte")
    # 21 is what UICCs send: bits 7-6 = 01, write behaviour proprietary; 1-byte data units.
    assert coding.value == "21" and "proprietary" in coding.explanation and "1 byte" in coding.explanation


@pytest.mark.parametrize(("value", "state"), [
    (0x00, LifeCycle.NO_INFORMATION), (0x01, LifeCycle.CREATION), (0x03, LifeCycle.INITIALISATION),
    (0x05, LifeCycle.ACTIVATED), (0x07, LifeCycle.ACTIVATED), (0x04, LifeCycle.DEACTIVATED),
    (0x06, LifeCycle.DEACTIVATED), (0x0C, LifeCycle.TERMINATED), (0x0F, LifeCycle.TERMINATED),
    (0x02, LifeCycle.RFU), (0x08, LifeCycle.RFU), (0x10, LifeCycle.PROPRIETARY),
    (0xFF, LifeCycle.PROPRIETARY),
])
def test_life_cycle_status_byte(value: int, state: LifeCycle) -> None:
    assert life_cycle(value) is state
    found, _ = decode_select(bytes([0x62, 0x03, 0x8A, 0x01, value]), 0)
    assert child(found, "8A").explanation == state.value


# An EF's FCP with every tag of ISO/IEC 7816-4 Table 12 that a file carries.
EVERY_TAG = (
    "62 52"
    " 80 02 00 40"  # 64 data bytes
    " 81 02 00 48"  # 72 bytes with structural information
    " 82 02 01 21"  # transparent, data coding 21
    " 83 02 2F 01"
    " 84 03 41 42 43"
    " 85 02 01 02"
    " 86 02 AA BB"
    " 87 02 2F 10"
    " 88 01 F0"  # SFI 30
    " 8A 01 05"
    " 8B 03 2F 06 02"  # EF.ARR 2F06, record 2
    " 8C 03 03 FF 00"  # UPDATE never, READ always
    " 8D 02 2F 20"
    " 8E 01 01"
    " A0 05 80 01 01 90 00"  # data objects: GET DATA always
    " A1 03 8C 01 00"
    " A5 05 50 03 44 45 4D"  # label "DEM"
    " AB 05 80 01 01 90 00"  # READ always
)


def test_fcp_every_tag_decoded_and_traced() -> None:
    data = bytes.fromhex(EVERY_TAG.replace(" ", ""))
    found, info = decode_select(data, 0)
    names = [c.name for c in found.children]
    assert [n.split()[0] for n in names] == ["80", "81", "82", "83", "84", "85", "86", "87", "88", "8A", "8B",
                                             "8C", "8D", "8E", "A0", "A1", "A5", "AB"]
    assert found.name == "62 FCP template" and found.source is not None and found.raw == data
    assert (info.type, info.size, info.fid, info.df_name, info.sfi) == (FileType.TRANSPARENT, 64, 0x2F01,
                                                                        b"ABC", 30)
    assert child(found, "81").value == "72 bytes"
    assert "EF.ARR 2F06" in child(found, "8B").explanation and "record 2" in child(found, "8B").explanation
    assert "card's maker" in child(found, "86").explanation
    assert child(found, "A5").children[0].value.endswith('"DEM"')
    assert info.rules.conditions == {"UPDATE": "never", "READ": "always", "GET DATA": "always"}
    # Every field points at its own bytes in the answer.
    assert assert_sources(found, lambda _: data) >= 30


def test_compact_security_attributes_one_condition_byte_per_access_mode_bit() -> None:
    # AM 43: DELETE FILE (b7), UPDATE (b2), READ (b1); then their SC bytes in that order.
    found, info = fcp("62 09 82 01 01 8C 04 43 FF 92 12")
    compact = child(found, "8C")
    assert [c.name for c in compact.children] == ["Access mode byte", "DELETE FILE", "UPDATE", "READ"]
    assert info.rules.conditions["DELETE FILE"] == "never"
    assert info.rules.conditions["UPDATE"] == ("user authentication (PIN), in security environment 2")
    assert info.rules.conditions["READ"] == "user authentication (PIN), in security environment 2"
    assert child(compact, "DELETE FILE").source is not None and child(compact, "READ").raw == b"\x12"


def test_compact_security_condition_bits() -> None:
    # SC 70: SM, external and user authentication, at least one; F0: all of them.
    _, info = fcp("62 07 82 01 01 8C 02 01 70")
    assert info.rules.conditions["READ"] == ("secure messaging or external authentication or user "
                                             "authentication (PIN), no security environment referenced")
    _, info = fcp("62 07 82 01 01 8C 02 01 E0")
    assert info.rules.conditions["READ"].startswith("secure messaging and external authentication")


def test_compact_security_of_a_df_uses_the_df_table_and_reports_missing_bytes() -> None:
    found, info = fcp("62 07 82 01 38 8C 02 06 00")  # CREATE DF and CREATE EF: one SC byte for two
    assert info.rules.conditions == {"CREATE FILE (DF)": "always"}
    compact = child(found, "8C")
    assert child(compact, "CREATE FILE (EF)").value == "missing"


def test_expanded_security_attributes() -> None:
    found, info = fcp(
        "62 2A 82 01 01 AB 25"
        " 80 01 01 90 00"  # READ: always
        " 80 01 02 A4 06 83 01 81 95 01 08"  # UPDATE: PIN 81 (user verification)
        " 80 01 40 97 00"  # DELETE: never
        " 80 01 04 A0 0B A4 06 83 01 01 95 01 80 9E 01 40"  # WRITE: ext. auth key 01 or SM
    )
    assert info.rules.conditions == {
        "READ": "always", "UPDATE": "PIN 81", "DELETE FILE": "never",
        "WRITE": "(external authentication with key 01 or secure messaging, no security environment "
                 "referenced)",
    }
    expanded = child(found, "AB")
    assert len(expanded.children) == 8 and expanded.children[3].explanation == "UPDATE: PIN 81"


def test_expanded_form_wins_over_compact_whatever_the_order() -> None:
    _, info = fcp("62 14 82 01 01 AB 0B 80 01 01 A4 06 83 01 81 95 01 08 8C 02 01 10")
    assert info.rules.conditions["READ"] == "PIN 81"


@pytest.mark.parametrize(("value", "text"), [
    ("01", "record 1 of the EF.ARR of the current DF"),
    ("2F 06 03", "record 3 of EF.ARR 2F06"),
    ("2F 06 01 02 02 05", "SE 1: record 2, SE 2: record 5"),
])
def test_referenced_security_attributes(value: str, text: str) -> None:
    raw = bytes.fromhex(value.replace(" ", ""))
    found, _ = decode_select(bytes([0x62, len(raw) + 2, 0x8B, len(raw)]) + raw, 0)
    assert text in child(found, "8B").explanation


def test_sfi_absent_and_proprietary() -> None:
    found, info = fcp("62 02 88 00")
    assert info.sfi is None and child(found, "88").value == "none"
    found, info = fcp("62 03 88 01 0B")  # low bits set: not an SFI
    assert info.sfi is None and "proprietary" in child(found, "88").explanation


def test_fci_with_proprietary_template_and_fmd() -> None:
    found, info = fcp("6F 0F 84 08 F0 43 41 52 44 45 58 50 A5 03 87 01 01")
    assert found.name == "6F FCI template" and info.df_name == bytes.fromhex(APP_AID)
    found, _ = fcp("64 05 A5 03 50 01 41")
    assert found.name == "64 FMD template" and child(found, "A5").children[0].name.startswith("50")


def test_select_data_that_is_no_template_is_shown_as_it_came() -> None:
    found, info = fcp("01 02 03")
    assert "not an FCP" in found.name and found.raw == b"\x01\x02\x03" and info.type is None
    found, _ = decode_select(b"", 5)
    assert found.value == "none"


def test_decoding_garbage_never_raises() -> None:
    rng = random.Random(7816)
    for _ in range(3000):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        tag = rng.choice([0x62, 0x6F, 0x64])
        data = bytes([tag, len(body)]) + body if rng.random() < 0.8 else body
        found, _ = decode_select(data, 0)
        assert_sources(found, dict.fromkeys([0], data).__getitem__)


# -- likely(): the historical bytes ---------------------------------------------------------

@pytest.mark.parametrize(("atr", "expected"), [
    (DEMO_ATR.hex(), True),  # card service data C0: selection by full and partial DF name
    ("3B 00", False),  # no historical bytes
    ("3B 02 10 01", True),  # category 10: a DIR data reference
    ("3B 03 80 31 00", False),  # card service data 00: nothing said
    ("3B 04 80 71 10 00", True),  # card capabilities: DF selection by FID  (73 would be 3 bytes)
    ("3B 05 41 42 43 44 45", False),  # proprietary historical bytes
])
def test_likely(atr: str, expected: bool) -> None:
    assert FileSystemAnalyzer().likely(bytes.fromhex(atr.replace(" ", ""))) is expected


# -- the demo card, through the in-process virtual reader ----------------------------------

@dataclass
class Demo:
    card: VirtualCard
    connection: CardConnection

    def session(self, progress: Callable[[str, float], None] = lambda what, done: None) -> AnalysisSession:
        conn = self.connection
        return AnalysisSession(lambda apdu: conn.send(apdu).result(timeout=5), progress=progress)


@pytest.fixture
def demo() -> Iterator[Demo]:
    hub = EmbeddedReaders(lambda event: None)
    reader = hub.add_reader()
    loaded = load_card(CardSource(SourceKind.DEMO))
    hub.insert(reader, loaded.card, loaded.label)
    conn = CardConnection(reader, hub.link(reader), None, lambda: hub.refresh(reader))
    conn.connect().result(timeout=5)
    yield Demo(loaded.card, conn)
    assert conn.close(timeout=5)


SCAN = range(0x0100, 0x0210)


@pytest.fixture
def scanned(demo: Demo) -> tuple[Finding, AnalysisSession]:
    session = demo.session()
    return FileSystemAnalyzer(Options(scan=SCAN)).analyze(session), session


def test_finds_the_mf_ef_dir_and_its_applications(demo: Demo) -> None:
    root = FileSystemAnalyzer().analyze(demo.session())
    assert root.value == "7 files read, 1 refused"
    mf = root.find("MF 3F00")
    assert mf is not None and child(mf, "62").explanation == "DF"
    ef_dir = root.find("EF 2F00")
    assert ef_dir is not None and child(ef_dir, "62").explanation.startswith("linear fixed EF")
    assert [c.name for c in ef_dir.children if c.name.startswith("Record")] == ["Record 1", "Record 2"]
    ef_atr = root.find("EF 2F01")
    assert ef_atr is not None and child(child(ef_atr, "Content"), "47").value == "F6 01 00"
    apps = root.find("Applications (EF.DIR)")
    assert apps is not None
    assert [c.name for c in apps.children] == [f'Application {APP_AID} "Demo application"',
                                               f'Application {APP_AID}02 "Demo loyalty"']
    # Without a scan, the application's EFs are found by SFI and read.
    app = apps.children[0]
    assert child(app, "62").find("84 DF name") is not None
    probe = child(app, "SFI probe")
    assert probe.value == "3 found"
    text = child(child(probe, "EF with SFI 1"), "Content").raw
    assert text.startswith(b"Hello from the Card Explorer demo card.")
    assert child(child(probe, "EF with SFI 3"), "Reading refused").value == "69 82"


def test_application_files_with_their_fcps_and_contents(scanned: tuple[Finding, AnalysisSession]) -> None:
    root, _ = scanned
    hello = root.find("EF 0101")
    assert hello is not None and child(hello, "62").explanation == "transparent EF, 96 bytes, SFI 1"
    assert child(hello, "Content").raw.startswith(b"Hello from the Card Explorer demo card.")
    records = root.find("EF 0102")
    assert records is not None and child(records, "62").explanation.startswith("linear variable EF")
    first = child(child(records, "Record 1"), "70")
    assert child(first, "5F20").value.endswith('"DEMO/CARD HOLDER"')
    cyclic = root.find("EF 0202")
    assert cyclic is not None and child(cyclic, "62").explanation.startswith("cyclic EF")
    assert [c.raw.hex() for c in cyclic.children if c.name.startswith("Record")] == [
        "25050100000a", "250420000005", "250402 00001b".replace(" ", "")]
    # Every EF found by FID was tried by SFI no more.
    app = root.find(f'Application {APP_AID} "Demo application"')
    assert app is not None and child(app, "SFI probe").value == "0 found"


def test_pin_protected_file_is_refused_with_its_access_condition(
        demo: Demo, scanned: tuple[Finding, AnalysisSession]) -> None:
    root, _ = scanned
    secret = root.find("EF 0103")
    assert secret is not None and secret.value == "refused"
    refused = child(secret, "Reading refused")
    assert refused.value == "69 82"
    assert "READ needs PIN 81" in refused.explanation
    assert "Security status not satisfied" in refused.explanation
    assert not any(c.name == "Content" for c in secret.children)
    assert all(apdu[1] != 0x20 for apdu in demo.card.received)  # never a VERIFY


def test_every_finding_points_at_its_bytes(scanned: tuple[Finding, AnalysisSession]) -> None:
    root, session = scanned
    assert assert_sources(root, lambda index: session.replies[index].data) > 100


def test_read_only_at_the_card(demo: Demo, scanned: tuple[Finding, AnalysisSession]) -> None:
    # C0 is the link's automatic GET RESPONSE (the demo card answers 61xx under T=0).
    instructions = {apdu[1] for apdu in demo.card.received}
    assert instructions <= {0xA4, 0xB0, 0xB2, 0xCA, 0xC0}
    assert {0xA4, 0xB0, 0xB2} <= instructions


def test_scan_reports_progress_and_stops_on_cancel(demo: Demo) -> None:
    seen: list[tuple[str, float]] = []
    at_cancel: list[int] = []

    def progress(what: str, done: float) -> None:
        seen.append((what, done))
        if what.startswith("FID scan in the MF") and done >= 0.25 and not at_cancel:
            at_cancel.append(len(demo.card.received))
            session.cancel()

    session = demo.session(progress)
    root = FileSystemAnalyzer(Options(scan=SCAN)).analyze(session)
    assert root.children[-1].name == "Cancelled"
    assert len(demo.card.received) == at_cancel[0]  # not one command after the cancel
    fractions = [done for what, done in seen if what.startswith("FID scan in the MF")]
    assert fractions == sorted(fractions) and 0 < len(fractions) < len(SCAN)
    assert root.find("EF 2F00") is not None  # what was read before stands
    # The connection is still usable.
    assert demo.connection.send(bytes.fromhex("00A4000C023F00")).result(timeout=5).sw == 0x9000


def test_a_card_that_answers_garbage_never_raises() -> None:
    rng = random.Random(15)

    def transmit(apdu: bytes) -> Reply:
        sw = rng.choice([0x9000, 0x6A82, 0x6982, 0x6981, 0x6A83, 0x6282, 0x6B00, 0x6D00,
                         rng.randrange(0x10000)])
        data = bytes(rng.randrange(256) for _ in range(rng.choice([0, 2, 5, 30, 200])))
        return Reply((), data, sw)

    for _ in range(20):
        session = AnalysisSession(transmit)
        root = FileSystemAnalyzer(Options(scan=range(0x10, 0x20))).analyze(session)
        assert root.name == "ISO/IEC 7816-4 files"
        replies = session.replies
        assert_sources(root, lambda index: replies[index].data)  # noqa: B023 (used at once)


def test_is_an_analyzer() -> None:
    analyzer: Analyzer = FileSystemAnalyzer()  # mypy checks the protocol; this checks the names
    assert (analyzer.key, analyzer.title) == ("fs", "ISO/IEC 7816-4 files")


def test_ef_dir_applications_by_path_and_by_command_and_never_another_command() -> None:
    """EF.DIR may name an application by path (51) or by the command that selects it (52); a
    52 that is not a SELECT (here DELETE FILE) is the card's data, not something to send."""
    spec = json.loads(demo_profile_path().read_text(encoding="utf-8"))
    spec["t0"] = False
    spec["files"]["children"][0]["records"] = [
        "61 0F 51 04 3F 00 20 00 50 07" + b"By path".hex(),
        "61 1B 52 0D 00 A4 04 0C 08" + APP_AID + "50 0A" + b"By command".hex(),
        "61 0E 52 07 00 E4 00 00 02 10 00 50 03" + b"Bad".hex(),
    ]
    card = FileSystemCard(parse_profile(spec, "test"))
    sent: list[bytes] = []

    def transmit(apdu: bytes) -> Reply:
        sent.append(apdu)
        response = card(apdu)
        return Reply((), response[:-2], int.from_bytes(response[-2:], "big"))

    root = FileSystemAnalyzer().analyze(AnalysisSession(transmit))
    by_path = root.find('Application 3F002000 "By path"')
    assert by_path is not None and by_path.explanation == "selected by path"
    assert bytes.fromhex("00A4080402200000") in sent
    assert child(by_path, "SFI probe").value == "2 found"
    by_command = root.find('Application without AID or path "By command"')
    assert by_command is not None and by_command.explanation == "selected by EF.DIR's command"
    assert child(by_command, "SFI probe").value == "3 found"
    bad = root.find('Application without AID or path "Bad"')
    assert bad is not None and "no AID, path or SELECT command" in bad.explanation
    assert all(apdu[1] in (0xA4, 0xB0, 0xB2) for apdu in sent)


def test_an_application_is_walked_in_its_own_df_not_in_the_mf_it_can_see() -> None:
    """From ADF.USIM, a SELECT by FID also finds the MF's files (ETSI TS 102 221 8.4.1): the MF's
    EF.ARR is not the application's, and the SFI probe that follows reads the ADF's own EFs."""
    spec = json.loads((demo_profile_path().parent / "usim.json").read_text(encoding="utf-8"))
    spec["t0"] = False  # answers in one exchange: no GET RESPONSE here
    card = FileSystemCard(parse_profile(spec, "usim.json"))

    def transmit(apdu: bytes) -> Reply:
        response = card(apdu)
        return Reply((), response[:-2], int.from_bytes(response[-2:], "big"))

    root = FileSystemAnalyzer().analyze(AnalysisSession(transmit))
    (usim,) = child(root, "Applications (EF.DIR)").children
    assert [c.name for c in usim.children if c.name.startswith("EF ")] == []
    probe = child(usim, "SFI probe")
    found = {c.name: c for c in probe.children}
    assert found["EF with SFI 7"].value == "refused"  # EF.IMSI, behind PIN 01 (3GPP TS 31.102 SFI 07)
    assert "EF with SFI 30" not in found  # the MF's EF.DIR
    assert child(found["EF with SFI 2"], "Content").value == "65 6E FF FF"  # EF.LI, not EF.ICCID


def test_ef_arr_records_are_read_as_access_rules() -> None:
    """EF.ARR's records hold access rules (80 access mode, 90 always, A4 a PIN by key reference):
    decoded as such, not with the names the same tags have in other data (EMV's 95 TVR)."""
    spec = json.loads((demo_profile_path().parent / "usim.json").read_text(encoding="utf-8"))
    spec["t0"] = False
    card = FileSystemCard(parse_profile(spec, "usim.json"))

    def transmit(apdu: bytes) -> Reply:
        response = card(apdu)
        return Reply((), response[:-2], int.from_bytes(response[-2:], "big"))

    session = AnalysisSession(transmit)
    root = FileSystemAnalyzer().analyze(session)
    arr = child(child(root, "MF 3F00"), "EF 2F06")
    first, second = child(arr, "Record 1"), child(arr, "Record 2")
    assert first.value == "READ: always; UPDATE: PIN 0A"
    assert second.value == "READ: PIN 01; UPDATE: PIN 0A"
    assert [c.name for c in second.children] == ["80 access mode", "A4 security condition"] * 2
    assert all("TVR" not in f.name for _, f in arr.walk())
    assert_sources(arr, lambda i: session.replies[i].data)
