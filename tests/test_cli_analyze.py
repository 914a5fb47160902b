"""`card-explorer analyze` on an in-process virtual card (--profile): no PC/SC service needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from explorer.apps.registry import ANALYZERS

ROOT = Path(__file__).resolve().parent.parent
CARDS = ROOT / "resources" / "cards"


def analyze(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    return subprocess.run([sys.executable, "-m", "explorer", "analyze", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_globalplatform_profile_analyzed_as_json(tmp_path: Path) -> None:
    result = analyze(tmp_path, "--profile", str(CARDS / "globalplatform.json"), "--only", "gp", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (gp,) = report["analyzers"]
    assert gp["key"] == "gp" and not gp["error"]
    names = json.dumps(gp["findings"])
    assert "Card production life cycle data (CPLC)" in names and "SCP03 i=70" in names
    # Every exchange is an analyzer's: SELECT and GET DATA only, nothing that changes the card.
    commands = [step["command"] for e in report["exchanges"] for step in e["steps"]]
    assert commands and {c.split()[1] for c in commands} <= {"A4", "CA", "C0"}


def test_an_unknown_analyzer_is_usage(tmp_path: Path) -> None:
    result = analyze(tmp_path, "--profile", "demo", "--only", "gp,nope")
    # The message lists every registered analyzer (more come with each card application).

    known = ", ".join(ANALYZERS)
    assert known.startswith("fs, gp, emv, sim") and "piv" in known and "emrtd" in known and "openpgp" in known
    assert result.returncode == 2 and f"no analyzer nope (there are: {known})" in result.stderr


def test_the_html_report_is_private_and_self_contained(tmp_path: Path) -> None:
    page = tmp_path / "gp.html"
    result = analyze(tmp_path, "--profile", str(CARDS / "globalplatform.json"), "--html", str(page))
    assert result.returncode == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "CPLC" in text and page.stat().st_mode & 0o777 == 0o600


def test_the_demo_cards_files_with_the_refused_one_and_its_access_condition(tmp_path: Path) -> None:
    result = analyze(tmp_path, "--profile", "demo", "--only", "fs")
    assert result.returncode == 0, result.stderr
    assert "EF.DIR" in result.stdout and "Demo application" in result.stdout
    assert "EF with SFI 3: refused" in result.stdout  # found by SFI: no FCP, so no condition known
    # Found by a FID scan, the same file has its FCP, and so its access condition.
    scanned = analyze(tmp_path, "--profile", "demo", "--only", "fs", "--scan", "0100-0104")
    assert scanned.returncode == 0, scanned.stderr
    assert "READ needs PIN 81" in scanned.stdout
    bad = analyze(tmp_path, "--profile", "demo", "--scan", "0100-9999")
    assert bad.returncode == 2 and "at most 4096" in bad.stderr


def test_gpo_only_with_allow_gpo_and_the_pan_masked_unless_revealed(tmp_path: Path) -> None:
    emv = str(CARDS / "emv.json")
    plain = analyze(tmp_path, "--profile", emv, "--only", "emv", "--json")
    assert plain.returncode == 0, plain.stderr
    report = json.loads(plain.stdout)
    commands = [step["command"] for e in report["exchanges"] for step in e["steps"]]
    assert not any(c.startswith("80 A8") for c in commands)  # no GET PROCESSING OPTIONS
    allowed = analyze(tmp_path, "--profile", emv, "--only", "emv", "--json", "--allow-gpo")
    assert allowed.returncode == 0, allowed.stderr
    commands = [step["command"] for e in json.loads(allowed.stdout)["exchanges"] for step in e["steps"]]
    assert sum(c.startswith("80 A8") for c in commands) == 2  # once per application
    assert "5413330089010012" not in allowed.stdout and "54 13 33 00 89 01 00 12" not in allowed.stdout
    revealed = analyze(tmp_path, "--profile", emv, "--only", "emv", "--allow-gpo", "--reveal")
    assert "5413330089010012" in revealed.stdout


def test_a_passport_read_with_mrz_masks_personal_data_unless_revealed(tmp_path: Path) -> None:
    passport = str(CARDS / "emrtd.json")
    masked = analyze(tmp_path, "--profile", passport, "--only", "emrtd", "--mrz", "L898902C<, 690806, 940623",
                     "--json", "--html", str(tmp_path / "masked.html"))
    assert masked.returncode == 0, masked.stderr
    shown = analyze(tmp_path, "--profile", passport, "--only", "emrtd", "--mrz", "L898902C<, 690806, 940623",
                    "--json", "--reveal", "--html", str(tmp_path / "shown.html"))
    for personal in ("ERIKSSON", "L898902C", "690806"):
        assert personal not in masked.stdout and personal in shown.stdout
        assert personal not in (tmp_path / "masked.html").read_text()
    assert "data group hashes: all 4 match" in json.dumps(json.loads(masked.stdout)["analyzers"]).lower()
    # BAC's cryptograms, both ways (an offline search of them would give the MRZ away).
    def authentication(out: str) -> dict[str, Any]:
        [bac] = [e for e in json.loads(out)["exchanges"] if e["steps"][0]["command"].startswith("00 82")]
        return bac  # type: ignore[no-any-return]

    bac = authentication(masked.stdout)
    assert bac["steps"][0]["command"] == "00 82 00 00 28 " + "•• " * 40 + "28"
    assert bac["data_sw"] == "•• " * 40 + "90 00"
    assert "••" not in authentication(shown.stdout)["data_sw"]
    # The face is in the revealed report only, as a PNG a browser shows.
    assert "data:image/png;base64," in (tmp_path / "shown.html").read_text()
    assert "data:image/png" not in (tmp_path / "masked.html").read_text()


def test_a_wrong_mrz_is_access_denied_and_a_bad_check_digit_is_usage(tmp_path: Path) -> None:
    passport = str(CARDS / "emrtd.json")
    denied = analyze(tmp_path, "--profile", passport, "--only", "emrtd", "--mrz", "L898902C<, 690806, 940624")
    assert denied.returncode == 0
    assert "access denied: check document number, birth and expiry dates" in denied.stdout
    assert "Traceback" not in denied.stderr
    typo = analyze(tmp_path, "--profile", passport, "--only", "emrtd", "--mrz",
                   "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C37UTO7408122F1204159ZE184226B<<<<<10")
    assert typo.returncode == 2 and "--mrz: Document number: check digit is 7, should be 6" in typo.stderr
