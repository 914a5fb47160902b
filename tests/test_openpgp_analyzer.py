"""The OpenPGP card analyzer: the decoders field by field on values laid out as the OpenPGP card
specification 3.4 writes them, the v4 fingerprint against a published key and GnuPG, then the
whole analysis on the embedded virtual reader with resources/cards/openpgp.json (no pcscd), a card
that is not OpenPGP, a fingerprint that does not match, and garbage answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.apps.findings import Finding
from explorer.apps.openpgp import OpenPgpAnalyzer
from explorer.apps.openpgp.aid import decode_aid
from explorer.apps.openpgp.attributes import decode_attributes, parse_attributes
from explorer.apps.openpgp.capabilities import decode_extended_capabilities, decode_pw_status
from explorer.apps.openpgp.cardholder import name_text
from explorer.apps.openpgp.constants import Algorithm, Curve
from explorer.apps.openpgp.fingerprint import KeyMaterial, mpi, packet_body, v4_fingerprint
from explorer.apps.openpgp.kdf import decode_algorithm_information, decode_kdf
from explorer.apps.session import AnalysisSession
from explorer.assets import asset_path
from explorer.core.exchange import Reply
from explorer.virtual.card import VirtualCard
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import CardProfile, load_profile
from tests.app_helpers import Bench, answer, assert_traced, node, profile_card, values

PROFILE = asset_path("cards", "openpgp.json")
ROOT = Path(__file__).resolve().parent.parent


# -- AID ------------------------------------------------------------------------------------

def test_aid_field_by_field() -> None:
    # A Yubico card, version 3.4, serial 0x00A1B2C3 (decimal 10597059 on the device's label).
    aid = bytes.fromhex("D2760001240103040006 00A1B2C3 0000".replace(" ", ""))
    data = bytes.fromhex("4F10") + aid
    found, parsed = decode_aid(answer(data, 2), 2, 18)
    assert parsed is not None and parsed.version == (3, 4) and parsed.manufacturer == 6
    assert found.value == "version 3.4, Yubico, serial 00A1B2C3"
    assert values(found) == {"RID": "D2 76 00 01 24", "Application": "01", "Version": "3.4",
                             "Manufacturer": "0006 (Yubico)", "Serial number": "00A1B2C3", "RFU": "00 00"}
    assert [(c.source.start, c.source.end) for c in found.children if c.source] == [
        (2, 7), (7, 8), (8, 10), (10, 12), (12, 16), (16, 18)]
    # Test cards (0000, FFFF) and the randomly assigned range (FF00-FFFE) per 4.2.1.
    for number, name in ((0x0000, "test card"), (0xFFFF, "test card"), (0xFF42, "unmanaged"),
                         (0x000F, "Nitrokey"), (0xF517, "FSIJ"), (0x7777, "unknown")):
        aid = bytes.fromhex("D276000124010200") + number.to_bytes(2, "big") + bytes(6)
        found, _ = decode_aid(answer(aid), 0, 16)
        assert name in values(found)["Manufacturer"], number
    short, parsed = decode_aid(answer(bytes.fromhex("D27600012401")), 0, 6)
    assert parsed is None and "6 bytes" in short.explanation


# -- extended capabilities, PW status, algorithm attributes ----------------------------------

def test_extended_capabilities_bit_by_bit() -> None:
    # 7D: GET CHALLENGE, key import, PW status changeable, private use DOs, algorithm attributes
    # changeable, KDF; no SM; challenge 3070, certificate 2048, special DOs 255; no PIN block 2,
    # MSE supported.
    data = bytes.fromhex("C00A7D000BFE080000FF0001")
    found = decode_extended_capabilities(answer(data), node(data))
    flags = found.children[0]
    assert flags.value == "7D" and flags.raw == b"\x7d"
    assert values(flags) == {
        "Secure messaging": "no", "GET CHALLENGE": "yes", "Key import": "yes",
        "PW status changeable (PUT DATA C4)": "yes", "Private use DOs (0101-0104)": "yes",
        "Algorithm attributes changeable (PUT DATA C1-C3)": "yes", "PSO:DEC/ENC with AES": "no",
        "KDF-DO (F9) and key derivation of the passwords": "yes"}
    fields = values(found)
    assert fields["Secure messaging algorithm"] == "00"
    assert fields["Maximum challenge length"] == "3070 bytes"
    assert fields["Maximum cardholder certificate length"] == "2048 bytes"
    assert fields["Maximum length of special DOs"] == "255 bytes"
    assert fields["PIN block 2 format"] == "00" and fields["MSE for keys 2 and 3"] == "01"
    mse = next(c for c in found.children if c.name == "MSE for keys 2 and 3")
    assert mse.source is not None and (mse.source.start, mse.source.end) == (11, 12)
    sm_data = bytes.fromhex("C00A" "80" "03" + "00" * 8)
    sm = decode_extended_capabilities(answer(sm_data), node(sm_data))
    assert sm.value == "Secure messaging"
    assert values(sm)["Secure messaging algorithm"] == "03" and sm.children[1].explanation == "SCP11b"


def test_pw_status_bytes() -> None:
    data = bytes.fromhex("C407" "00" "20" "7F" "7F" "02" "00" "03")
    found = decode_pw_status(answer(data), node(data))
    assert found.value == "PW1 2, resetting code 0, PW3 3 tries left"
    fields = values(found)
    assert "one PSO:CDS" in found.children[0].explanation
    assert fields["Maximum length of PW1"] == "32" and fields["Maximum length of PW3"] == "127"
    assert fields["PW1 tries left"] == "2" and fields["Resetting code tries left"] == "0"
    assert "blocked" in found.children[5].explanation
    # Version 3: bit 8 of the PW1 length says PIN block format 2.
    block = bytes.fromhex("C40701A07F7F030003")
    assert "format 2" in decode_pw_status(answer(block), node(block)).children[1].explanation
    short = bytes.fromhex("C40301207F")
    assert "the PW status bytes have 7" in decode_pw_status(answer(short), node(short)).explanation


@pytest.mark.parametrize(("value", "text"), [
    ("010800002000", "RSA 2048"),
    ("011000001102", "RSA 4096"),
    ("132A8648CE3D030107", "ECDSA ansix9p256r1 (NIST P-256)"),
    ("122B8104002200", ""),  # an OID cut in the middle of a subidentifier: refused below
    ("132B2403030208010107", "ECDSA brainpoolP256r1"),
    ("162B06010401DA470F01", "EdDSA ed25519"),
    ("122B060104019755010501FF", "ECDH cv25519 (X25519)"),
])
def test_algorithm_attributes(value: str, text: str) -> None:
    raw = bytes.fromhex(value)
    data = bytes([0xC1, len(raw)]) + raw
    found, parsed = decode_attributes(answer(data), node(data), "Signature key")
    if not text:
        assert parsed is None or parsed.curve is None
        return
    assert parsed is not None and found.value == text == parsed.text
    fields = values(found)
    if raw[0] == Algorithm.RSA:
        assert fields["Modulus length"] == text.split()[1] + " bits"
        assert fields["Import format"].startswith(value[-2:])
    else:
        assert fields["Curve"].startswith(text.split(" ", 1)[1])
    if raw[-1] == 0xFF:
        assert fields["Import format"] == "FF"


def test_rsa_attributes_with_an_odd_exponent_length() -> None:
    parsed = parse_attributes(bytes.fromhex("01080000110003"))
    assert parsed is not None and parsed.modulus_bits == 2048
    assert parse_attributes(bytes.fromhex("0108")) is None


def test_a_kdf_data_object_with_iterated_salted_s2k() -> None:
    """F9 as ykman's `openpgp set-kdf` writes it (4.3.2): S2K, SHA-256, 0x780000 bytes, three 8-byte
    salts and the two default passwords' hashes, which are masked unless revealed."""
    hashes = bytes(range(32))
    data = bytes.fromhex("F9" "6E" "810103" "820108" "830400780000" "8408" + "11" * 8 + "8508" + "22" * 8
                         + "8608" + "33" * 8 + "8720") + hashes + bytes.fromhex("8820") + hashes
    found = decode_kdf(answer(data), node(data))
    assert found.value == "iterated and salted S2K, SHA-256, 7,864,320 bytes"
    got = values(found)
    assert got["KDF algorithm"] == "03" and got["Hash algorithm"] == "08"
    assert got["Salt of PW1"] == "11 " * 7 + "11" and got["Salt of the resetting code"].startswith("22")
    initial = found.find("Initial hash of PW3")
    assert initial is not None and initial.sensitive and "•" in initial.shown()
    assert assert_traced(found, lambda _: data) == 9
    none = bytes.fromhex("F903810100")  # a card that supports F9 with the KDF off
    assert decode_kdf(answer(none), node(none)).value == "none"


def test_the_algorithm_information_lists_each_slots_choices() -> None:
    data = bytes.fromhex("FA" "1B" "C106010800001100" "C20B12" "2B060104019755010501" "DA0413" "2A8648")
    found = decode_algorithm_information(answer(data), node(data))
    assert found.value == "signature 1, decryption 1, attestation 1"
    assert [(c.name, c.value) for c in found.children][:2] == [("Signature key", "RSA 2048"),
                                                               ("Decryption key", "ECDH cv25519 (X25519)")]
    assert found.children[0].explanation == "An algorithm the signature key accepts."


def test_names_follow_the_spec_convention() -> None:
    assert name_text(b"Tester<<Alice<Jane") == "Alice Jane Tester"
    assert name_text(b"Tester") == "Tester"
    assert name_text(b"<<Alice") == "Alice"


# -- the v4 fingerprint ------------------------------------------------------------------------

#: RFC 9580 A.3 "Sample v4 Ed25519Legacy key": created 0x53F35F0B, the public point, and its
#: published fingerprint.
ED25519_POINT = bytes.fromhex("3f098994bdd916ed4053197934e4a87c80733a1280d62f8010992e43ee3b2406")
ED25519_FINGERPRINT = "C959BDBAFA32A2F89A153B678CFDE12197965A9A"


def test_v4_fingerprint_of_the_published_ed25519_key() -> None:
    attributes = parse_attributes(bytes.fromhex("162B06010401DA470F01"))
    assert attributes is not None and attributes.curve is Curve.ED25519
    body = packet_body(attributes, 0x53F35F0B, KeyMaterial(point=ED25519_POINT))
    # The packet as the RFC prints it (after its header C6 33).
    assert body == bytes.fromhex("0453f35f0b16092b06010401da470f01010740") + ED25519_POINT
    assert v4_fingerprint(body).hex().upper() == ED25519_FINGERPRINT
    # A card sending the point with its 40 prefix gives the same fingerprint.
    prefixed = packet_body(attributes, 0x53F35F0B, KeyMaterial(point=b"\x40" + ED25519_POINT))
    assert prefixed == body


def test_mpis() -> None:
    assert mpi(b"\x00\x01") == b"\x00\x01\x01"
    assert mpi(b"\x01\x00\x01") == b"\x00\x11\x01\x00\x01"  # 65537: 17 bits
    assert mpi(b"\xff") == b"\x00\x08\xff"


#: GnuPG 2.2.40's `gpg --show-keys` on the profile's three key packets (made by
#: tests/profiles/make_openpgp.py): the fingerprints it printed.
GNUPG_FINGERPRINTS = {
    "B6": "5869A2C7B385217AA8FAB645151B062ECB84A014",  # RSA 2048
    "B8": "D0AC21182E2ADB9CB2E544695347DCE94A2CA80D",  # cv25519, KDF SHA-256 / AES-128
    "A4": "E114257520DAF60799E7905419D13392E1DAB0DC",  # ed25519
}


# -- the analysis on the embedded reader ----------------------------------------------------------



def only_reading(card: VirtualCard) -> None:
    """SELECT, GET DATA, GET RESPONSE after 61xx, SELECT DATA, and GENERATE ASYMMETRIC KEY PAIR
    with P1 81."""
    for apdu in card.received:
        assert (apdu[0], apdu[1]) in {(0x00, 0xA4), (0x00, 0xCA), (0x00, 0xC0), (0x00, 0xA5), (0x00, 0x47)}, (
            apdu.hex())
        if apdu[1] == 0x47:
            assert apdu[2] == 0x81, apdu.hex()


def analyzed(bench: Callable[[VirtualCard], Bench], profile: CardProfile) -> tuple[Bench, Finding]:
    run = bench(profile_card(profile))
    return run, OpenPgpAnalyzer().analyze(run.session)


def test_the_openpgp_profile_is_read_whole(bench: Callable[[VirtualCard], Bench]) -> None:
    profile = load_profile(PROFILE)
    run, root = analyzed(bench, profile)
    assert root.value == "OpenPGP card 3.4, serial FFFF 12345678"
    assert run.card.received[0] == bytes.fromhex("00A4040006D2760001240100")
    only_reading(run.card)
    assert assert_traced(root, run.data) > 80
    aid = root.find("Application identifier (AID)")
    assert aid is not None and aid.value == "version 3.4, test card, serial 12345678"
    pw = root.find("PW status bytes")
    assert pw is not None and pw.value == "PW1 3, resetting code 0, PW3 3 tries left"
    fingerprints = root.find("Fingerprints")
    assert fingerprints is not None
    assert [c.value for c in fingerprints.children] == list(GNUPG_FINGERPRINTS.values())
    dates = root.find("Key generation dates")
    assert dates is not None and values(dates)["Signature key"] == "2024-01-15 10:00:00 UTC"
    decryption = root.find("Algorithm attributes, decryption key")
    assert decryption is not None and decryption.value == "ECDH cv25519 (X25519)"
    # Every key read in read mode, its fingerprint computed as GnuPG does and found equal to C5.
    keys = root.find("Public keys")
    assert keys is not None and len(keys.children) == 3
    for key, (crt, expected) in zip(keys.children, GNUPG_FINGERPRINTS.items(), strict=True):
        assert key.name.endswith(f"({crt})") and key.value.endswith("fingerprint matches"), key
        check = key.find("Fingerprint check")
        assert check is not None and check.value == "matches"
        assert values(check)["Computed fingerprint"] == expected
    holder = root.find("Cardholder related data")
    assert holder is not None and holder.sensitive
    assert values(holder) == {"Name": "Alice Jane Tester", "Language preferences": "en, fr", "Sex": "female"}
    assert all(c.sensitive for c in holder.children if c.name in ("Name", "Sex"))
    login = root.find("Login data")
    assert login is not None and login.value == "alice" and login.sensitive
    assert login.shown() != "alice"
    url = root.find("URL")
    assert url is not None and url.value == "https://keys.example.org/alice.asc"
    counter = root.find("Digital signature counter")
    assert counter is not None and counter.value == "42"
    certs = root.find("Cardholder certificates")
    assert certs is not None and certs.value == "1 of 3"
    cert, dec, sig = certs.children
    assert cert.name == "Cardholder certificate (authentication key)" and values(cert)["Key"] == "Ed25519"
    assert "CN=Alice Jane Tester (TEST)" in cert.value
    assert (dec.value, sig.value) == ("empty", "empty")
    # Each chosen with SELECT DATA before its GET DATA (occurrences 0, 1, 2).
    chosen = [a for a in run.card.received if a[1] == 0xA5]
    assert chosen == [bytes.fromhex(f"00A50{n}040660045C027F21") for n in range(3)]
    # The RSA key (270 bytes) and the certificate came in two answers each: 61xx, GET RESPONSE.
    assert sum(1 for a in run.card.received if a[1] == 0xC0) == 2


def _with_object(profile: CardProfile, tag: int, value: bytes) -> CardProfile:
    from dataclasses import replace

    assert profile.openpgp is not None
    objects = dict(profile.openpgp.data_objects)
    objects[tag] = value
    return replace(profile, openpgp=replace(profile.openpgp, data_objects=tuple(objects.items())))


def test_a_wrong_generation_date_breaks_the_fingerprint(bench: Callable[[VirtualCard], Bench]) -> None:
    profile = load_profile(PROFILE)
    assert profile.openpgp is not None
    app = dict(profile.openpgp.data_objects)[0x6E]
    at = app.index(bytes.fromhex("CD0C")) + 2
    # The decryption key's date one second later: the card's C5 no longer fits its key.
    changed = app[: at + 7] + bytes([app[at + 7] + 1]) + app[at + 8 :]
    _, root = analyzed(bench, _with_object(profile, 0x6E, changed))
    keys = root.find("Public keys")
    assert keys is not None
    assert [k.find("Fingerprint check").value for k in keys.children] == [  # type: ignore[union-attr]
        "matches", "does NOT match", "matches"]
    bad = keys.children[1].find("Fingerprint check")
    assert bad is not None and GNUPG_FINGERPRINTS["B8"] in bad.explanation


def test_a_card_without_openpgp_says_so(bench: Callable[[VirtualCard], Bench]) -> None:
    run = bench(VirtualCard(handler=lambda apdu: b"\x6a\x82"))
    root = OpenPgpAnalyzer().analyze(run.session)
    assert root.value == "not an OpenPGP card" and "answered 6A 82" in root.explanation
    assert len(run.card.received) == 1


def test_a_card_without_6e_still_gives_its_aid(bench: Callable[[VirtualCard], Bench]) -> None:
    aid = bytes.fromhex("D276000124010201000500000031 0000".replace(" ", ""))

    def card(apdu: bytes) -> bytes:
        if apdu[1] == 0xA4:
            return b"\x90\x00"
        if apdu[1:4] == b"\xca\x00\x4f":
            return aid + b"\x90\x00"
        return b"\x6a\x88"
    run = bench(VirtualCard(handler=card))
    root = OpenPgpAnalyzer().analyze(run.session)
    assert root.value == "OpenPGP card 2.1, serial 0005 00000031"
    app = root.find("Application related data")
    assert app is not None and app.value == "not present"
    keys = root.find("Public keys")
    assert keys is not None and all("not read" in k.value for k in keys.children)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=120), min_size=1, max_size=12),
       st.sampled_from([0x9000, 0x6A88, 0x6982]))
def test_garbage_answers_never_raise(answers: list[bytes], sw: int) -> None:
    """A card answering anything: the analysis ends with findings, each still pointing at its bytes."""
    replies = iter(answers * 20)
    session = AnalysisSession(lambda apdu: Reply((), next(replies), sw))
    root = OpenPgpAnalyzer().analyze(session)
    assert root.name == "OpenPGP card"
    assert_traced(root, lambda i: session.replies[i].data)
    json.dumps([f.value for _, f in root.walk()])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=12),
       st.sampled_from([0x9000, 0x6A88, 0x6D00]))
def test_garbage_after_a_real_6e_never_raises(answers: list[bytes], sw: int) -> None:
    """The real SELECT and 6E (so a version 3.4 AID, attributes, fingerprints), then anything: the
    certificates, the keys and their fingerprint checks cope."""
    card = FileSystemCard(load_profile(PROFILE))
    replies = iter(answers * 20)

    def transmit(apdu: bytes) -> Reply:
        if apdu[1] == 0xA4 or apdu[1:4] == b"\xca\x00\x6e":
            out = card(apdu)
            return Reply((), out[:-2], int.from_bytes(out[-2:], "big"))
        return Reply((), next(replies), sw)
    session = AnalysisSession(transmit)
    root = OpenPgpAnalyzer().analyze(session)
    assert root.value == "OpenPGP card 3.4, serial FFFF 12345678"
    assert_traced(root, lambda i: session.replies[i].data)


def test_likely() -> None:
    analyzer = OpenPgpAnalyzer()
    assert analyzer.key == "openpgp"
    # A YubiKey 5 NFC's ATR names it in its historical bytes.
    assert analyzer.likely(bytes.fromhex("3BFD1300008131FE158073C021C057597562694B657940"))
    assert not analyzer.likely(load_profile(PROFILE).atr)


def test_a_card_refusing_select_data_gives_its_one_certificate(bench: Callable[[VirtualCard], Bench]) -> None:
    profile = load_profile(PROFILE)
    inner = FileSystemCard(profile)

    def card(apdu: bytes) -> bytes:
        return b"\x6d\x00" if apdu[1] == 0xA5 else inner(apdu)
    run = bench(VirtualCard(profile.atr, card))
    root = OpenPgpAnalyzer().analyze(run.session)
    cert = root.find("Cardholder certificate")
    assert cert is not None and "CN=Alice Jane Tester (TEST)" in cert.value
    assert root.find("Cardholder certificates") is None


def test_personal_data_is_masked_in_a_report_unless_revealed(tmp_path: Path) -> None:
    def report(*extra: str) -> str:
        env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
        result = subprocess.run([sys.executable, "-m", "explorer", "analyze", "--profile", str(PROFILE),
                                 "--only", "openpgp", "--json", *extra], cwd=ROOT, capture_output=True,
                                text=True, timeout=60, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout
    # Name (5B as sent, as shown, in the certificate), login data: nowhere, neither as text nor as
    # the bytes of the exchanges.
    secrets = ["Tester", "Alice", "616C696365", "54657374657220", '"alice"',
               " ".join(f"{b:02X}" for b in b"Tester<<")]
    masked = report()
    assert [s for s in secrets if s in masked] == []
    revealed = report("--reveal")
    assert all(s in revealed for s in ("Alice Jane Tester", '"alice"')), revealed[:200]
