"""The OpenPGP analyzer against OpenSC on the same virtual card: resources/cards/openpgp.json served
over vpcd, read through pcscd by `card-explorer analyze --only openpgp` and by OpenSC's
`openpgp-tool` (AID, version, manufacturer, serial, fingerprints, dates, algorithms, cardholder
data) and `pkcs15-tool` (the public keys, which OpenSC reads with GENERATE ASYMMETRIC KEY PAIR in
read mode, and the certificate it finds with SELECT DATA). Both must say the same. OpenSC is part
of the test bed: a missing tool fails the test (FileNotFoundError), it never skips."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519

from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import load_profile
from tests.conftest import CardFactory
from tests.test_analyze_pcsc import CARDS, analyze, child, findings, path, recording, report_of

pytestmark = pytest.mark.pcsc

SLOTS = (("Sig", "Signature key", "01"), ("Dec", "Decryption key", "02"), ("Aut", "Authentication key", "03"))


def opensc(*args: str) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def labelled(text: str) -> dict[str, str]:
    """openpgp-tool's `Label:   value` lines."""
    out = {}
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        if sep and value.startswith(" ") and label.strip():
            out[label.strip()] = value.strip()
    return out


def plain_hex(text: str) -> str:
    return text.replace(":", "").replace(" ", "").upper()


@pytest.fixture
def served(readers: list[str], insert_card: CardFactory) -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []
    profile = load_profile(CARDS / "openpgp.json")
    insert_card(readers[0], atr=profile.atr, handler=recording(FileSystemCard(profile), received))
    yield readers[0], received


@pytest.fixture
def ours(served: tuple[str, list[bytes]]) -> dict[str, Any]:
    reader, received = served
    report = report_of(analyze("--reader", reader, "--only", "openpgp", "--reveal"))
    # Only reading commands reached the card: SELECT, GET DATA, GET RESPONSE, SELECT DATA and
    # GENERATE ASYMMETRIC KEY PAIR in read mode (P1 81), never 80.
    assert {(a[1], a[2] if a[1] == 0x47 else 0) for a in received} <= {
        (0xA4, 0), (0xCA, 0), (0xC0, 0), (0xA5, 0), (0x47, 0x81)}, [a.hex() for a in received]
    received.clear()
    return findings(report, "openpgp")


def test_openpgp_tool_says_what_the_analyzer_found(served: tuple[str, list[bytes]],
                                                  ours: dict[str, Any]) -> None:
    reader, _ = served
    tool = labelled(opensc("openpgp-tool", "--reader", reader, "--card-info", "--user-info", "--key-info"))
    aid = path(ours, "Application related data", "Application identifier (AID)")
    assert plain_hex(tool["AID"]) == plain_hex(aid["raw"])
    assert tool["Version"] == child(aid, "Version")["value"] == "3.4"
    assert tool["Serial number"] == child(aid, "Serial number")["value"] == "12345678"
    assert tool["Manufacturer"] == "test card" and child(aid, "Manufacturer")["value"] == "FFFF (test card)"
    stored = path(ours, "Application related data", "Discretionary data objects", "Fingerprints")
    dates = path(ours, "Application related data", "Discretionary data objects", "Key generation dates")
    keys = child(ours, "Public keys")
    for short, slot, _ in SLOTS:
        fingerprint = plain_hex(tool[f"{short} Fingerprint"])
        assert fingerprint == child(stored, slot)["value"], slot
        # What we computed from the public key the card gave equals what OpenSC shows as stored.
        check = child(child(keys, slot), "Fingerprint check")
        assert check["value"] == "matches" and child(check, "Computed fingerprint")["value"] == fingerprint
        assert child(dates, slot)["value"] == tool[f"{short} Create Date"] + " UTC"
    attributes = path(ours, "Application related data", "Discretionary data objects")
    assert tool["Sig Algorithm"] == "RSA2048"
    assert child(attributes, "Algorithm attributes, signature key")["value"] == "RSA 2048"
    assert tool["Dec Algorithm"] == "ECDH" and tool["Aut Algorithm"] == "EDDSA"
    assert child(attributes, "Algorithm attributes, decryption key")["value"].startswith("ECDH cv25519")
    assert child(attributes, "Algorithm attributes, authentication key")["value"] == "EdDSA ed25519"
    holder = child(ours, "Cardholder related data")
    # OpenSC shows 5B with each < as a space ("Tester Alice Jane"), we as given names then surname.
    assert sorted(tool["Name"].split()) == sorted(child(holder, "Name")["value"].split())
    assert tool["Language"].split(",") == child(holder, "Language preferences")["value"].split(", ")
    assert tool["Gender"] == child(holder, "Sex")["value"] == "female"
    assert tool["URL"] == child(ours, "URL")["value"] == "https://keys.example.org/alice.asc"
    assert tool["Account"] == child(ours, "Login data")["value"] == "alice"


def test_opensc_reads_the_same_public_keys_and_certificate(served: tuple[str, list[bytes]],
                                                           ours: dict[str, Any]) -> None:
    reader, received = served
    keys = child(ours, "Public keys")
    for _, slot, key_id in SLOTS:
        pem = opensc("pkcs15-tool", "--reader", reader, "--read-public-key", key_id)
        key = serialization.load_pem_public_key(pem.encode())
        mine = child(keys, slot)
        if isinstance(key, rsa.RSAPublicKey):
            numbers = key.public_numbers()
            modulus = bytes.fromhex(child(mine, "Modulus")["raw"])[4:]  # after 81 82 01 00
            assert int.from_bytes(modulus, "big") == numbers.n
            assert child(mine, "Public exponent")["value"] == str(numbers.e)
        else:
            assert isinstance(key, x25519.X25519PublicKey | ed25519.Ed25519PublicKey), slot
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            assert bytes.fromhex(child(mine, "Public point")["raw"])[2:] == raw, slot
    # OpenSC reads them as we do: GENERATE ASYMMETRIC KEY PAIR with P1 81, one per key.
    reads = [a for a in received if a[1] == 0x47]
    assert [a[2:6] for a in reads] == [bytes.fromhex(f"810002{crt}") for crt in ("B6", "B8", "A4")]
    # The certificate OpenSC finds with SELECT DATA is the one we decoded.
    pem = opensc("pkcs15-tool", "--reader", reader, "--read-certificate", "03")
    cert = x509.load_pem_x509_certificate(pem.encode())
    ours_cert = path(ours, "Cardholder certificates", "Cardholder certificate (authentication key)")
    assert cert.subject.rfc4514_string() == ours_cert["value"] == child(ours_cert, "Subject")["value"]
