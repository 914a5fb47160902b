"""`card-explorer analyze` on the real stack: the shipped profiles served over vpcd, analysed
through pcscd by the CLI as a user runs it. Each analyzer finds and decodes what the profile
holds, the same as on the in-process virtual reader; only reading commands reach the card; a
capture emulated over vpcd analyses the same; a cancel mid-scan leaves the connection usable; a
card pulled mid-analysis is a card error with what was read before.

A new profile is one entry in CASES (its file, its analyze options, what its findings must say).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from explorer.apps.analysis import run_analyzers
from explorer.apps.fs import FileSystemAnalyzer
from explorer.apps.fs.walk import Options
from explorer.apps.session import AnalysisSession
from explorer.core.exchange import Origin, TransmitOptions
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.link.connection import CardConnection, WorkerSession
from explorer.virtual.card import Handler
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import CardProfile, demo_profile, demo_profile_path, load_profile
from tests.conftest import CardFactory, running, wait_reader
from tests.testbed import PcscBed

pytestmark = pytest.mark.pcsc
ROOT = Path(__file__).resolve().parent.parent
CARDS = ROOT / "resources" / "cards"
CLI = [sys.executable, "-m", "explorer"]
#: What an analysis may send: SELECT, READ BINARY, READ RECORD, GET DATA, GET RESPONSE.
READING = {0xA4: "SELECT", 0xB0: "READ BINARY", 0xB2: "READ RECORD", 0xCA: "GET DATA",
           0xC0: "GET RESPONSE"}

Report = dict[str, Any]


# -- reading a report -----------------------------------------------------------------------


def findings(report: Report, key: str) -> dict[str, Any]:
    """The root finding of analyzer `key`, which must have run through."""
    (result,) = [r for r in report["analyzers"] if r["key"] == key]
    assert not result["error"], result["error"]
    return result["findings"]  # type: ignore[no-any-return]


def child(node: dict[str, Any], name: str) -> dict[str, Any]:
    """The one child named `name` (or starting with it, for names that carry a value)."""
    kids = node.get("children", [])
    exact = [c for c in kids if c["name"] == name]
    hits = exact or [c for c in kids if c["name"].startswith(name)]
    assert len(hits) == 1, f"{name!r} under {node['name']!r}: {[c['name'] for c in kids]}"
    return hits[0]  # type: ignore[no-any-return]


def path(node: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        node = child(node, name)
    return node


def profile_json(name: str) -> dict[str, Any]:
    file = demo_profile_path() if name == "demo" else CARDS / f"{name}.json"
    return json.loads(file.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def luhn_digit(digits: str) -> int:
    """The Luhn check digit over `digits` (ITU-T E.118 for an ICCID), computed here, not by the app."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


# -- what each profile holds, read from the profile file and checked in the findings -------------


def check_demo(report: Report) -> None:
    fs = findings(report, "fs")
    records = path(fs, "MF 3F00", "EF 2F00")
    labels = [path(records, f"Record {n}", "61 application template", "50 application label")["value"]
              for n in (1, 2)]
    assert ['"Demo application"' in labels[0], '"Demo loyalty"' in labels[1]] == [True, True], labels
    apps = child(fs, "Applications (EF.DIR)")
    assert apps["value"] == "2"
    demo_app = child(apps, 'Application F043415244455850 "Demo application"')
    # The PIN-protected EF, found by the FID scan: refused, with the access condition of its FCP.
    secret = child(demo_app, "EF 0103")
    assert secret["value"] == "refused"
    refused = child(secret, "Reading refused")
    assert refused["value"] == "69 82" and "READ needs PIN 81" in refused["explanation"]
    assert path(secret, "62 FCP template", "AB security attributes (expanded)")["explanation"] == (
        "UPDATE: PIN 81; READ: PIN 81")
    text = path(demo_app, "EF 0101", "Content")["value"]
    assert text.startswith("48 65 6C 6C 6F")  # "Hello", as the profile holds it


def check_globalplatform(report: Report) -> None:
    gp = findings(report, "gp")
    objects = profile_json("globalplatform")["data_objects"]
    cplc = bytes.fromhex(objects["9F7F"])
    decoded = child(gp, "Card production life cycle data (CPLC)")
    # GP Card Specification table H-3: fabricator, type, OS id, OS date, OS level, fabrication
    # date, serial number, batch, … personalization equipment identifier last.
    assert child(decoded, "IC fabricator")["value"].startswith(cplc[0:2].hex().upper())
    assert child(decoded, "IC type")["value"] == cplc[2:4].hex().upper()
    assert child(decoded, "IC serial number")["value"] == cplc[12:16].hex().upper()
    assert child(decoded, "IC batch identifier")["value"] == cplc[16:18].hex().upper()
    assert child(decoded, "IC personalization equipment identifier")["value"] == cplc[38:42].hex().upper()
    assert len(decoded["children"]) == 18
    assert "SCP03 i=70" in child(gp, "Card data")["value"]
    assert path(gp, "Card capability information", "Secure channel protocol", "Options")["value"] == "i=70"
    keys = child(gp, "Key information template")
    assert keys["value"] == "3 keys"
    assert [k["name"] for k in keys["children"]] == [f"Key 0{n} version 30" for n in (1, 2, 3)]
    assert all("AES" in k["value"] and "16 bytes" in k["value"] for k in keys["children"])
    assert child(gp, "Issuer identification number (IIN)")["value"] == objects["42"]
    assert child(gp, "Card image number (CIN)")["value"] == objects["45"]
    assert child(gp, "Sequence counter")["value"].startswith(objects["C1"])


def check_usim(report: Report) -> None:
    sim = findings(report, "sim")
    assert sim["value"] == "USIM"
    mf = profile_json("usim")["files"]
    content = bytes.fromhex(next(f for f in mf["children"] if f["fid"] == "2FE2")["content"])
    digits = "".join(f"{b & 0xF:x}{b >> 4:x}" for b in content).rstrip("f")  # BCD, nibbles swapped
    iccid = child(sim, "EF.ICCID")
    assert iccid["value"] == digits
    assert int(digits[-1]) == luhn_digit(digits[:-1])  # the profile is right, and the app says so
    assert child(iccid, "Check digit")["value"] == f"{digits[-1]} (correct)"
    (app,) = child(sim, "EF.DIR")["children"]
    assert app["value"] == "USIM"
    aid = child(app, "AID")["value"].split()[0]
    adf = child(sim, "ADF.USIM")
    assert adf["value"] == "selected" and child(adf, "DF name (AID)")["value"] == aid
    imsi = child(adf, "EF.IMSI")
    assert imsi["value"] == "PIN-protected" and "69 82" in imsi["explanation"]
    assert child(imsi, "Security attributes (referenced)")["value"] == "record 2 of EF.ARR 6F06"
    assert child(imsi, "Access rule")["value"].startswith("READ: verify PIN 01")


@dataclass(frozen=True)
class Case:
    name: str  # "demo", or a profile in resources/cards without .json
    args: tuple[str, ...]  # analyze options beyond --reader/--profile and --json
    check: Callable[[Report], None]

    @property
    def profile_arg(self) -> str:
        return "demo" if self.name == "demo" else str(CARDS / f"{self.name}.json")

    def profile(self) -> CardProfile:
        return demo_profile() if self.name == "demo" else load_profile(CARDS / f"{self.name}.json")


def check_emv(report: Report) -> None:
    emv = findings(report, "emv")
    assert emv["value"].startswith("2 applications") and "GET PROCESSING OPTIONS was not sent" in (
        emv["explanation"])
    text = json.dumps(report, ensure_ascii=False)
    # The profile's test PAN is read (by the SFI probe, without GPO) and masked in the report.
    pan = "5413330089010012"
    assert pan not in text and " ".join(pan[i:i + 2] for i in range(0, 16, 2)) not in text
    assert "••••••••••••0012" in text


CASES = [
    # The scan finds the PIN-protected EF with its FCP (by SFI alone its access rule is unknown).
    Case("demo", ("--scan", "0100-0104"), check_demo),
    Case("globalplatform", (), check_globalplatform),
    Case("usim", (), check_usim),
    Case("emv", (), check_emv),
]


def analyze(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "analyze", "--json", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def report_of(result: subprocess.CompletedProcess[str]) -> Report:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def recording(card: Handler, into: list[bytes]) -> Handler:
    """The card, with every command it receives kept (on the vpcd link's thread)."""

    def handle(apdu: bytes) -> bytes:
        into.append(apdu)
        return card(apdu)

    return handle


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def served(case: Case, readers: list[str], insert_card: CardFactory) -> Iterator[tuple[str, list[bytes]]]:
    """The case's profile in the first bed reader; the commands it receives."""
    received: list[bytes] = []
    profile = case.profile()
    insert_card(readers[0], atr=profile.atr, handler=recording(FileSystemCard(profile), received))
    yield readers[0], received


# -- the tests ------------------------------------------------------------------------------


def test_each_analyzer_finds_what_the_profile_holds_and_pcscd_changes_nothing(
        case: Case, served: tuple[str, list[bytes]]) -> None:
    reader, _ = served
    over_pcscd = report_of(analyze("--reader", reader, *case.args))
    case.check(over_pcscd)
    assert over_pcscd["reader"] == reader
    in_process = report_of(analyze("--profile", case.profile_arg, *case.args))
    case.check(in_process)
    # The same findings and the same exchanges, GET RESPONSE steps included: the virtual card
    # answers 61xx/6Cxx itself (its profile's t0), the same to pcscd + vpcd as to the in-process
    # reader, and both links negotiate the protocol from the ATR alike. Only the reader's name
    # differs. Should a link ever add or drop a step, this comparison is where it shows.
    for key in ("atr", "cancelled", "secrets", "analyzers", "exchanges", "format", "version"):
        assert over_pcscd[key] == in_process[key], key
    assert set(over_pcscd) == set(in_process)


def test_only_reading_commands_reach_the_card(case: Case, served: tuple[str, list[bytes]]) -> None:
    reader, received = served
    report = report_of(analyze("--reader", reader, *case.args))
    by_ins = Counter(READING.get(apdu[1], f"INS {apdu[1]:02X}") for apdu in received)
    assert set(by_ins) <= set(READING.values()), by_ins  # never a VERIFY (20), nor any write
    assert by_ins["SELECT"] > 0
    # Every command the card received is in the report, in order: nothing sent behind its back.
    steps = [bytes.fromhex(s["command"]) for e in report["exchanges"] for s in e["steps"]]
    assert steps == received


def test_a_capture_emulated_over_vpcd_analyzes_the_same(
        case: Case, served: tuple[str, list[bytes]], readers: list[str], bed: PcscBed,
        tmp_path: Path) -> None:
    reader, _ = served
    captured = tmp_path / "captured.json"
    first = report_of(analyze("--reader", reader, "--capture", str(captured), *case.args))
    assert captured.stat().st_mode & 0o777 == 0o600
    again = readers[1]
    with running([*CLI, "emulate", str(captured), "--port", str(bed.port_of(again))]) as emulate:
        wait_reader(again, present=True, timeout=10)
        second = report_of(analyze("--reader", again, *case.args))
        emulate.terminate()
        _, err = emulate.communicate(timeout=10)
    assert emulate.returncode == 0, err
    wait_reader(again, present=False)
    # The capture is a card of its own: the same ATR, and the same answers to the same commands.
    for key in ("atr", "analyzers", "exchanges"):
        assert second[key] == first[key], key
    case.check(second)


def test_cancel_mid_scan_keeps_the_findings_and_the_connection(
        readers: list[str], insert_card: CardFactory) -> None:
    from explorer.pcsc.connection import PcscLink

    profile = demo_profile()
    insert_card(readers[0], atr=profile.atr, handler=FileSystemCard(profile))
    conn = CardConnection(readers[0], PcscLink(readers[0]))
    try:
        atr = conn.connect(Protocol.ANY, ShareMode.SHARED).result(timeout=10).atr
        scanning = threading.Event()
        workers: list[WorkerSession] = []

        def progress(what: str, done: float) -> None:
            if what.startswith("FID scan") and done > 0:
                scanning.set()

        session = AnalysisSession(
            lambda apdu: workers[0].send(apdu, TransmitOptions(), False, "analyze"), progress=progress)
        scan = range(0x0100, 0x1100)

        def job(worker: WorkerSession) -> Any:
            workers.append(worker)
            return run_analyzers(session, [FileSystemAnalyzer(Options(scan=scan))], readers[0], atr)

        future = conn.run_job(job, Origin.ANALYZER)
        assert scanning.wait(30), "the FID scan never reported progress"
        session.cancel()
        analysis = future.result(timeout=30)
        assert analysis.cancelled
        (result,) = analysis.results
        assert result.error == "cancelled"
        names = [f.name for _, f in result.finding.walk()]
        assert "EF 2F00" in names and "Cancelled" in names  # read before the scan; said why it stopped
        assert "FID scan" not in names  # the scan's summary: it never finished
        last = analysis.replies[-1].exchanges[0].command
        assert last[1] == 0xA4 and int.from_bytes(last[5:7]) in scan  # stopped inside the scan
        assert len(analysis.replies) < len(scan)
        # The connection is as it was: the next command is answered.
        reply = conn.send(bytes.fromhex("00 A4 00 0C 02 3F 00"), Origin.API).result(timeout=10)
        assert reply.sw == 0x9000
    finally:
        conn.close(Disposition.LEAVE)


def test_a_card_pulled_mid_analysis_is_a_card_error_with_what_was_read(
        readers: list[str], insert_card: CardFactory) -> None:
    profile = demo_profile()
    card = FileSystemCard(profile)
    pull_at = 200  # inside the FID scan of the MF (the demo's whole analysis is ~155 commands)
    received = [0]
    reached = threading.Event()

    def handler(apdu: bytes) -> bytes:
        received[0] += 1
        if received[0] == pull_at:
            reached.set()
        return card(apdu)

    link = insert_card(readers[0], atr=profile.atr, handler=handler)
    with running([*CLI, "analyze", "--json", "--reader", readers[0], "--scan", "0100-10FF"]) as proc:
        assert reached.wait(60), "the analysis never reached the card"
        link.remove()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 4, err
    assert "Traceback" not in err and "the card was removed" in err
    report = json.loads(out)
    # The file system analyzer stopped where the card went, what it read kept; nothing ran after.
    (fs,) = report["analyzers"]
    assert fs["key"] == "fs" and "the card was removed" in fs["error"]
    assert child(fs["findings"], "Card error")["value"].endswith("the card was removed")
    assert "EF 2F00" in [c["name"] for c in child(fs["findings"], "MF 3F00")["children"]]
    steps = sum(len(e["steps"]) for e in report["exchanges"])
    # Every command answered before the pull (the one it landed on may have had no answer), and
    # far from the end of the scan.
    assert pull_at - 1 <= steps < 3 * 4096
