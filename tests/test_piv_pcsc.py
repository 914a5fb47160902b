"""The PIV analyzer against OpenSC on the real stack: resources/cards/piv.json served over vpcd,
read through pcscd by `card-explorer analyze --only piv` and by OpenSC's own tools (`piv-tool`,
`pkcs15-tool`, `opensc-tool`, Debian package opensc), which must agree on the card serial (the
CHUID's GUID), every certificate (subject, issuer, serial, SHA-256 fingerprint, in the same slots)
and the card being a PIV card. OpenSC missing is a failure, not a skip: the test bed installs it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import load_profile
from tests.conftest import CardFactory

pytestmark = pytest.mark.pcsc
ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "resources" / "cards" / "piv.json"
CLI = [sys.executable, "-m", "explorer"]
#: OpenSC's PIV driver numbers the certificates 01.. in this slot order (card-piv.c's object
#: table), and labels them so.
OPENSC_IDS = {"01": ("9A", "Certificate for PIV Authentication"),
              "02": ("9C", "Certificate for Digital Signature"),
              "03": ("9D", "Certificate for Key Management"),
              "04": ("9E", "Certificate for Card Authentication"),
              "05": ("82", "Retired Certificate for Key Management 1")}


def tool(*args: str) -> str:
    """An OpenSC tool's output; it must be installed and succeed."""
    assert shutil.which(args[0]), f"{args[0]} is missing: install the Debian package opensc"
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"
    return done.stdout


def analyze(reader: str, *extra: str) -> dict[str, Any]:
    done = subprocess.run([*CLI, "analyze", "--json", "--reader", reader, "--only", "piv", *extra], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def child(node: dict[str, Any], name: str) -> dict[str, Any]:
    hits = [c for c in node.get("children", []) if c["name"] == name]
    assert len(hits) == 1, f"{name!r} under {node['name']!r}: {[c['name'] for c in node.get('children', [])]}"
    return hits[0]  # type: ignore[no-any-return]


@pytest.fixture
def served(readers: list[str], insert_card: CardFactory) -> Iterator[tuple[str, list[bytes]]]:
    profile = load_profile(PROFILE)
    card = FileSystemCard(profile)
    received: list[bytes] = []

    def handler(apdu: bytes) -> bytes:
        received.append(apdu)
        return card(apdu)

    insert_card(readers[0], atr=profile.atr, handler=handler)
    yield readers[0], received


def test_the_analyzer_and_opensc_agree_on_the_piv_card(served: tuple[str, list[bytes]]) -> None:
    reader, received = served
    report = analyze(reader, "--reveal")
    (result,) = report["analyzers"]
    assert result["key"] == "piv" and not result["error"], result["error"]
    piv = result["findings"]
    assert piv["value"] == "PIV card application, 5 certificates"
    # Only SELECT, the odd GET DATA, GET RESPONSE and VERIFY without data (which spends no try).
    assert {a[1] for a in received} == {0xA4, 0xCB, 0xC0, 0x20}, [a.hex() for a in received]
    assert all(len(a) == 4 for a in received if a[1] == 0x20)

    # OpenSC's card driver is its PIV driver, and its serial is the CHUID's GUID (card-piv.c uses
    # the GUID when the FASC-N's agency code is 9999, a non-federal issuer).
    assert tool("opensc-tool", "-r", reader, "-n").strip() == "Personal Identity Verification Card"
    # piv-tool prints the serial's bytes in hex, then as text after a colon.
    serial = re.search(r"((?:[0-9A-F]{2} )+):", tool("piv-tool", "-r", reader, "--serial"))
    assert serial is not None
    guid = child(child(piv, "Card holder unique identifier (CHUID)"), "GUID")["value"]
    assert serial.group(1).replace(" ", "") == guid.replace("-", "")
    fascn = child(child(piv, "Card holder unique identifier (CHUID)"), "FASC-N")
    assert child(fascn, "Agency code")["value"] == "9999"

    # Every certificate OpenSC lists is one the analyzer read, in the same slot, the same bytes.
    listed = tool("pkcs15-tool", "-r", reader, "--list-certificates")
    entries = re.findall(r"X\.509 Certificate \[(.+?)\].*?ID\s*: (\w+)\s+Encoded serial : 02 \w\w (\w+)",
                         listed, re.S)
    assert [(i, label) for label, i, _ in entries] == [(i, label) for i, (_, label) in OPENSC_IDS.items()]
    for label, cert_id, encoded_serial in entries:
        slot = OPENSC_IDS[cert_id][0]
        pem = tool("pkcs15-tool", "-r", reader, "--read-certificate", cert_id)
        cert = x509.load_pem_x509_certificate(pem.encode())
        name = next(c["name"] for c in piv["children"] if c["name"].startswith(f"Certificate {slot} "))
        ours = child(child(piv, name), "Certificate")
        fields = {c["name"]: c["value"] for c in ours["children"]}
        assert fields["Subject"] == cert.subject.rfc4514_string(), label
        assert fields["Issuer"] == cert.issuer.rfc4514_string(), label
        assert fields["Serial number"].replace(" ", "") == encoded_serial, label
        assert encoded_serial == f"{cert.serial_number:04X}", label
        fingerprint = cert.fingerprint(hashes.SHA256()).hex().upper()
        assert fields["SHA-256 fingerprint"].replace(" ", "") == fingerprint, label
    assert len(entries) == 5


def test_the_report_masks_the_fascn_and_guid(served: tuple[str, list[bytes]]) -> None:
    reader, _ = served
    report = analyze(reader)
    piv = report["analyzers"][0]["findings"]
    chuid = child(piv, "Card holder unique identifier (CHUID)")
    profile = json.loads(PROFILE.read_text(encoding="utf-8"))
    chuid_hex = profile["data_objects"]["5FC102"].replace(" ", "")
    fascn_hex, guid_hex = chuid_hex[4:54], chuid_hex[58:90]
    # Neither in a finding nor in the exchanges' bytes.
    whole = json.dumps(report).replace(" ", "").upper()
    assert report["secrets"] == "masked"
    assert guid_hex not in whole and fascn_hex not in whole
    assert child(chuid, "GUID")["value"].startswith("••••")
    fascn = child(chuid, "FASC-N")
    assert "9999-0042" not in fascn["value"]
    assert child(fascn, "Person identifier (PI)")["value"] == "••••••7890"
    # Certificate subjects are not secrets: they stay readable.
    assert "Test Cardholder" in json.dumps(piv)
