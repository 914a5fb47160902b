"""Capture round trip: analyze a card, capture what was read as a profile, emulate the capture
and analyze it again: the same findings and the same exchanges (on the in-process virtual reader;
the acceptance run over vpcd is the same code path with another link)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.virtual.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
CARDS = ROOT / "resources" / "cards"


def analyze(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    return subprocess.run([sys.executable, "-m", "explorer", "analyze", "--json", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("profile", ["demo", str(CARDS / "globalplatform.json"), str(CARDS / "usim.json"),
                                     str(CARDS / "emv.json")])
def test_a_captured_card_analyzes_the_same(tmp_path: Path, profile: str) -> None:
    captured = tmp_path / "captured.json"
    first = analyze(tmp_path, "--profile", profile, "--capture", str(captured))
    assert first.returncode == 0, first.stderr
    assert captured.stat().st_mode & 0o777 == 0o600
    load_profile(captured)  # a valid profile
    second = analyze(tmp_path, "--profile", str(captured))
    assert second.returncode == 0, second.stderr
    before, after = json.loads(first.stdout), json.loads(second.stdout)
    assert after["atr"] == before["atr"]
    assert after["analyzers"] == before["analyzers"]
    assert after["exchanges"] == before["exchanges"]
    assert "not captured: keys and anything behind authentication are never read" in first.stderr


def test_what_could_not_be_read_is_listed(tmp_path: Path) -> None:
    captured = tmp_path / "captured.json"
    result = analyze(tmp_path, "--profile", str(CARDS / "usim.json"), "--capture", str(captured))
    assert result.returncode == 0, result.stderr
    profile = json.loads(captured.read_text(encoding="utf-8"))
    imsi = "3F00/7FF0/6F07: reading refused (69 82); its content is not in the capture"
    assert imsi in result.stderr and imsi in profile["description"]
    demo = tmp_path / "demo.json"
    result = analyze(tmp_path, "--profile", "demo", "--capture", str(demo), "--scan", "0100-0104")
    assert result.returncode == 0, result.stderr
    profile = json.loads(demo.read_text(encoding="utf-8"))
    assert "PIN 81: its value was not read" in profile["description"]  # from the FCP's AB rule
    assert [p["reference"] for p in profile["pins"]] == ["81"] and "31 32 33 34" not in demo.read_text()


def test_a_passport_read_through_secure_messaging_says_what_the_capture_lacks(tmp_path: Path) -> None:
    captured = tmp_path / "passport.json"
    result = analyze(tmp_path, "--profile", str(CARDS / "emrtd.json"), "--only", "emrtd", "--mrz",
                     "L898902C<, 690806, 940623", "--capture", str(captured))
    assert result.returncode == 0, result.stderr
    said = "commands under secure messaging (BAC): the files read through it are not in the profile"
    assert said in result.stderr and said in captured.read_text(encoding="utf-8")
    text = captured.read_text(encoding="utf-8")
    load_profile(captured)
    # Nothing of the ciphertext became a file's content, and no personal data is in the capture.
    assert "ERIKSSON" not in text and '"content"' not in text
