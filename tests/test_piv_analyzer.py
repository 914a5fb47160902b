"""The PIV analyzer: the FASC-N, application property template, CHUID, CCC, discovery object, key
history and certificate objects decoded from published examples and from the specification's
layouts; then the whole analysis of resources/cards/piv.json on the embedded virtual reader (no
pcscd); a card that is not PIV; PIN states; and garbage answers."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.apps.findings import Finding
from explorer.apps.piv import PivAnalyzer
from explorer.apps.piv.certs import MAX_CERTIFICATE, InflateError, decode_certificate_object, inflate
from explorer.apps.piv.fascn import byte_span, decode_fascn
from explorer.apps.piv.objects import (
    decode_apt,
    decode_ccc,
    decode_chuid,
    decode_discovery,
    decode_key_history,
    decode_printed,
)
from explorer.apps.piv.reading import flat_tlv, get_data, with_children
from explorer.apps.piv.security_object import decode_security_object
from explorer.apps.registry import analyzers
from explorer.apps.session import AnalysisSession
from explorer.assets import asset_path
from explorer.core.exchange import Reply
from explorer.core.tlv import TlvNode
from explorer.virtual.card import VirtualCard
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import demo_profile, load_profile
from tests.app_helpers import Bench, answer, assert_traced, node, profile_card, values

PIV_PROFILE = asset_path("cards", "piv.json")
#: The FASC-N of the non-federal issuer example that YubiKeys and others write in a default CHUID:
#: agency 9999, system 9999, credential 999999, CS 0, ICI 1, PI 0000000000, OC 3, OI 0000, POA 1.
NON_FEDERAL_FASCN = bytes.fromhex("D4E739DA739CED39CE739D836858210842108421C84210C3EB")
#: A CHUID as `ykman piv info` printed one (published): that FASC-N, a GUID, expiry 2030-01-01, an
#: empty signature and error detection code.
PUBLISHED_CHUID = bytes.fromhex("3019" + NON_FEDERAL_FASCN.hex() + "3410517f4345c45fe50a3a57106841e3abe0"
                                "350832303330303130313e00fe00")
#: A YubiKey's answer to SELECT of the PIV application (from a published APDU log).
YUBIKEY_APT = bytes.fromhex("61114F0600001000010079074F05A000000308")
#: A CCC as yubico-piv-tool printed one (published).
PUBLISHED_CCC = bytes.fromhex("f015a000000116ff02f7fd97076c87749d478308461959f10121f20121f300f40100f50110"
                              "f600f700fa00fb00fc00fd00fe00")


def container(value: bytes) -> tuple[bytes, TlvNode]:
    """`value` wrapped in 53 as GET DATA answers it, and the 53 node read one level deep."""
    data = bytes([0x53, len(value)]) if len(value) < 0x80 else b"\x53\x82" + len(value).to_bytes(2, "big")
    data += value
    outer = flat_tlv(data).nodes[0]
    found, problem = with_children(outer)
    assert not problem
    return data, found


# -- FASC-N ---------------------------------------------------------------------------------

def test_the_non_federal_issuer_fascn_is_decoded_field_by_field() -> None:
    decoded = decode_fascn(NON_FEDERAL_FASCN)
    assert decoded is not None and decoded.problems == ()
    assert decoded.text == "9999-9999-999999-0-1-0000000000300001"
    fields = {f.spec.name: (f.digits, f.meaning) for f in decoded.fields}
    assert fields["Agency code"] == ("9999", "")
    assert fields["Organizational category (OC)"] == ("3", "Commercial Enterprise")
    assert fields["Person/organization association (POA)"] == ("1", "Employee")
    # 5-bit characters: the agency code (characters 2-5, bits 5-24) lies in bytes 0-3.
    assert byte_span(1, 4) == (0, 3 + 1)
    assert byte_span(39, 1) == (24, 25)  # the LRC is the last 5 bits


def test_a_damaged_fascn_says_what_is_wrong() -> None:
    flipped = bytearray(NON_FEDERAL_FASCN)
    flipped[0] ^= 0x01  # the 8th bit: a data bit of character 2 (the agency code's first digit)
    decoded = decode_fascn(bytes(flipped))
    assert decoded is not None
    assert "character 2 has even parity" in decoded.problems
    assert any("LRC" in p for p in decoded.problems)
    assert decode_fascn(NON_FEDERAL_FASCN[:-1]) is None


# -- objects ------------------------------------------------------------------------------

def test_a_yubikeys_application_property_template() -> None:
    found = decode_apt(answer(YUBIKEY_APT), node(YUBIKEY_APT))
    assert values(found) == {"Application identifier": "00 00 10 00 01 00 (PIV, version 01 00)",
                             "Coexistent tag allocation authority": "A0 00 00 03 08"}
    assert "NIST" in found.children[1].explanation
    assert assert_traced(found, lambda _: YUBIKEY_APT) == 3


def test_the_published_chuid() -> None:
    data, chuid = container(PUBLISHED_CHUID)
    found = decode_chuid(answer(data), chuid)
    assert values(found) == {"FASC-N": "9999-9999-999999-0-1-0000000000300001",
                             "GUID": "517F4345-C45F-E50A-3A57-106841E3ABE0", "Expiration date": "2030-01-01",
                             "Issuer asymmetric signature": "(empty)", "Error detection code": "(empty)"}
    fascn = found.find("FASC-N")
    guid = found.find("GUID")
    assert fascn is not None and guid is not None
    # The FASC-N and the GUID name a person's card: masked unless revealed; agencies are not.
    assert fascn.sensitive and guid.sensitive and found.sensitive
    personal = {c.name for c in fascn.children if c.sensitive}
    assert personal == {"Credential number", "Person identifier (PI)"}
    assert guid.shown() == "•" * 32 + "ABE0" and guid.shown(reveal=True) == guid.value
    assert assert_traced(found, lambda _: data) == 1 + 1 + 9 + 4
    # Each FASC-N field points at the bytes its 5-bit characters are in.
    agency = fascn.find("Agency code")
    assert agency is not None and agency.source is not None
    assert (agency.source.start, agency.source.end) == (4 + 0, 4 + 4)  # 53 19 30 19, then the FASC-N
    signature = found.find("Issuer asymmetric signature")
    assert signature is not None and "absent" in signature.explanation


def test_the_published_ccc() -> None:
    data, ccc = container(PUBLISHED_CCC)
    found = decode_ccc(answer(data), ccc)
    ident = found.find("Card identifier")
    assert ident is not None
    assert values(ident) == {"GSC-RID": "A0 00 00 01 16", "Manufacturer ID": "FF", "Card type": "02",
                             "Card ID": "F7 FD 97 07 6C 87 74 9D 47 83 08 46 19 59"}
    card_type = found.find("Card type")
    assert card_type is not None and card_type.explanation == "Java Card"
    assert values(found)["Capability container version"] == "21"
    assert values(found)["Registered data model number"] == "10"
    assert len(found.children) == 13  # F0-F7, FA-FD, FE
    assert_traced(found, lambda _: data)


def test_the_discovery_object_and_its_pin_usage_policy() -> None:
    # PIV PIN and global PIN satisfy the rules, the global PIN is primary; VCI with a pairing code.
    data = bytes.fromhex("7E124F0BA0000003080000100001005F2F02 6820".replace(" ", ""))
    found = decode_discovery(answer(data), node(data))
    policy = found.find("PIN usage policy")
    assert policy is not None and policy.value == "the PIV Card Application PIN and the global PIN"
    first, second = policy.children
    assert "virtual contact interface is implemented, with a pairing code" in first.explanation
    assert second.explanation == "the global PIN is the primary PIN"
    assert values(found)["PIV card application AID"].startswith("A0 00 00 03 08 00 00 10 00 01 00 (PIV")


def test_the_key_history_counts_the_retired_certificates() -> None:
    data, history = container(bytes.fromhex("C10102C20101F3") + bytes([17]) + b"http://example.test"[:17]
                              + bytes.fromhex("FE00"))
    found, on_card = decode_key_history(answer(data), history)
    assert on_card == 2
    assert values(found) == {"Keys with on-card certificates": "2", "Keys with off-card certificates": "1",
                             "Off-card certificate URL": '"http://example.te"',
                             "Error detection code": "(empty)"}


def test_printed_information_and_security_object() -> None:
    data, printed = container(bytes.fromhex("01") + b"\x0aJane Q Doe" + bytes.fromhex("0409") + b"2035DEC31"
                              + bytes.fromhex("FE00"))
    found = decode_printed(answer(data), printed)
    assert values(found) == {"Name": '"Jane Q Doe"', "Expiration date": '"2035DEC31"',
                             "Error detection code": "(empty)"}
    assert all(c.sensitive for c in found.children if c.name != "Error detection code")
    data, security = container(bytes.fromhex("BA0401300000 BB0330 0100 FE00".replace(" ", "")))
    found = decode_security_object(answer(data), security)
    assert values(found) == {"Mapping of data groups to container IDs": "1 data group(s)",
                             "Signed hashes": "not decoded", "Error detection code": "(empty)"}
    mapping = found.find("Mapping of data groups to container IDs")
    assert mapping is not None and values(mapping) == {"DG1": "3000 (CHUID)"}
    assert "1 byte(s) left over" in mapping.explanation
    assert assert_traced(found, lambda _: data) == 5


def test_the_security_object_checks_the_containers_read() -> None:
    chuid = _profile_cert("5FC102")
    whole = b"\x53\x82" + len(chuid).to_bytes(2, "big") + chuid
    data, security = container(_profile_cert("5FC106"))
    found = decode_security_object(answer(data), security, {0x5FC102: (chuid, whole)})
    assert found.value == "signature valid, 1 of 1 match"
    hashes = found.find("Data group hashes")
    assert hashes is not None and values(hashes) == {"DG1 (CHUID)": "hash OK"}
    # One byte of the CHUID changed after signing: named; a container not read: not checked.
    changed = chuid[:-3] + b"\x00" + chuid[-2:]
    found = decode_security_object(answer(data), security, {0x5FC102: (changed, whole)})
    assert found.value == "signature valid, DG1 (CHUID): hash does not match"
    found = decode_security_object(answer(data), security, {})
    assert values(found.find("Data group hashes"))["DG1 (CHUID)"] == "not checked"  # type: ignore[arg-type]


def test_an_object_behind_the_pin_says_so(bench: Callable[[VirtualCard], Bench]) -> None:
    def card(apdu: bytes) -> bytes:
        if apdu[1] == 0xA4:
            return YUBIKEY_APT + b"\x90\x00"
        return b"\x69\x82" if apdu == get_data(0x5FC109) else b"\x6a\x82"
    run = bench(VirtualCard(handler=card))
    found = PivAnalyzer().analyze(run.session).find("Printed information")
    assert found is not None and found.value == "needs the PIN" and "69 82" in found.explanation


# -- certificates ---------------------------------------------------------------------------

def _profile_cert(tag: str) -> bytes:
    profile = load_profile(PIV_PROFILE)
    return next(o.value for o in profile.data_objects if o.tag == int(tag, 16))


def _chuid_signature(chuid_value: bytes) -> Finding:
    data, chuid = container(chuid_value)
    signature = decode_chuid(answer(data), chuid).find("Issuer asymmetric signature")
    assert signature is not None
    assert_traced(signature, lambda _: data)
    return signature


def test_the_chuid_signature_is_checked_over_the_chuid() -> None:
    """OpenSSL 3.0's `cms -verify` with the CHUID as detached content agrees: valid as made, and a
    content verify error with one byte changed."""
    signed = _profile_cert("5FC102")
    signature = _chuid_signature(signed)
    assert signature.value.startswith("valid, ")
    found = values(signature)
    assert found["Content signing certificate"].startswith("CN=Card Explorer Test PIV Content Signer")
    assert found["Signed attributes"] == "digest matches"
    assert found["Signature"] == "valid (RSA PKCS#1 v1.5, SHA-256, the signer certificate's key)"
    attributes = signature.find("Signed attributes")
    assert attributes is not None
    assert "without its signature and error detection code" in attributes.explanation
    # One GUID byte changed after signing: the digest no longer matches, nothing is taken as valid.
    at = signed.index(bytes.fromhex("3A5B7C9D"))
    tampered = _chuid_signature(signed[:at] + b"\x3B" + signed[at + 1:])
    assert tampered.value.startswith("NOT valid")
    assert values(tampered)["Signed attributes"] == "digest does NOT match"
    assert values(tampered)["Signature"] == "not checked"


def test_a_chuid_signed_with_an_empty_error_detection_code_is_valid_and_named_so() -> None:
    """Some issuers sign the CHUID with FE 00 at its end: that reading of "the CHUID" is tried too."""
    from tests.profiles import make_piv
    from tests.profiles.der import tlv

    ca = make_piv._key("ca", "rsa")
    assert isinstance(ca, rsa.RSAPrivateKey)
    body = tlv(0x30, make_piv.fascn(make_piv.FASCN_FIELDS)) + tlv(0x34, make_piv.GUID) + tlv(0x35, b"2035")
    value = body + tlv(0x3E, make_piv.chuid_signature(body + b"\xfe\x00", ca)) + b"\xfe\x00"
    signature = _chuid_signature(value)
    assert signature.value.startswith("valid, ")
    attributes = signature.find("Signed attributes")
    assert attributes is not None and "with an empty error detection code" in attributes.explanation


@pytest.mark.parametrize("garbage", [b"\x30\x03\x06\x01\x00", b"\x04\x02AB", b"\xff" * 20,
                                     bytes.fromhex("3006060452AA0101")])
def test_a_chuid_signature_that_is_not_cms_says_so(garbage: bytes) -> None:
    value = PUBLISHED_CHUID.replace(b"\x3e\x00", b"\x3e" + bytes([len(garbage)]) + garbage)
    signature = _chuid_signature(value)
    assert signature.value == "not decoded" and "CMS signed-data" in signature.explanation


def test_a_gzip_compressed_certificate_is_inflated_and_read() -> None:
    data, obj = container(_profile_cert("5FC10D"))
    found, summary = decode_certificate_object(answer(data), obj, "Certificate 82")
    assert summary is not None and summary.key == "RSA 2048 bits" and summary.serial == 0x0FFF
    cert = found.find("Certificate")
    assert cert is not None and "inflated" in cert.value and "gzip" in cert.explanation
    assert values(found)["CertInfo"] == "01"


def test_inflating_is_bounded_and_bad_streams_are_named() -> None:
    bomb = gzip.compress(bytes(MAX_CERTIFICATE + 1), mtime=0)
    assert len(bomb) < 200
    with pytest.raises(InflateError, match="more than"):
        inflate(bomb)
    with pytest.raises(InflateError, match="not a gzip stream"):
        inflate(b"\x30\x82\x01\x00")
    with pytest.raises(InflateError, match="cut short"):
        inflate(gzip.compress(b"x" * 1000, mtime=0)[:-12])
    data, obj = container(bytes.fromhex("70") + bytes([len(bomb)]) + bomb + bytes.fromhex("710101FE00"))
    found, summary = decode_certificate_object(answer(data), obj, "Certificate 9A")
    assert summary is None and found.value == "unreadable certificate" and "more than" in found.explanation


def test_a_certificate_that_is_not_one() -> None:
    data, obj = container(bytes.fromhex("7003300100710100FE00"))
    found, summary = decode_certificate_object(answer(data), obj, "Certificate 9C")
    assert summary is None and found.value == "unreadable certificate"
    assert_traced(found, lambda _: data)


# -- the analysis ---------------------------------------------------------------------------



def assert_reading_only(card: VirtualCard) -> None:
    """SELECT, GET DATA (00 CB), GET RESPONSE after 61xx, and VERIFY without data only."""
    for n, apdu in enumerate(card.received):
        if apdu[:2] == b"\x00\xc0":
            assert n and card.received[n - 1][1] in (0xCB, 0xC0, 0xA4), apdu.hex()
        elif apdu[:2] == b"\x00\x20":
            assert len(apdu) == 4, f"a VERIFY with data spends a try: {apdu.hex()}"
        else:
            assert apdu[:2] in (b"\x00\xa4", b"\x00\xcb"), apdu.hex()


def test_the_piv_profile_is_read_whole(bench: Callable[[VirtualCard], Bench]) -> None:
    profile = load_profile(PIV_PROFILE)
    card = FileSystemCard(profile)
    run = bench(VirtualCard(profile.atr, card))
    (analyzer,) = analyzers(["piv"])
    assert (analyzer.key, analyzer.title) == ("piv", "PIV")
    root = analyzer.analyze(run.session)
    assert root.value == "PIV card application, 5 certificates"
    assert run.card.received[0] == bytes.fromhex("00A4040005A00000030800")
    assert_reading_only(run.card)
    assert assert_traced(root, run.data) > 100
    top = values(root)
    assert top["Application property template"] == "00 00 10 00 01 00 (PIV, version 01 00)"
    assert top["Discovery object"] == "the PIV Card Application PIN"
    assert top["Card capability container (CCC)"].startswith("43 45 50 49 56 54 45 53 54")
    assert top["Key history"] == "1 retired keys with on-card certificates"
    assert top["Printed information"] == "not on the card"
    assert top["PIN (80)"] == "3 tries left" and top["PUK (81)"] == "3 tries left"
    assert top["Security object"] == "signature valid, 1 of 1 match"
    chuid = root.find("Card holder unique identifier (CHUID)")
    assert chuid is not None
    assert values(chuid)["GUID"] == "3A5B7C9D-1E2F-4A6B-8C9D-0E1F2A3B4C5D"
    assert values(chuid)["FASC-N"] == "9999-0042-001234-1-1-1234567890399995"
    assert values(chuid)["Expiration date"] == "2035-12-31"
    slots = {f.name: f for f in root.children if f.name.startswith("Certificate ")}
    assert list(slots) == ["Certificate 9A (PIV Authentication)", "Certificate 9C (Digital Signature)",
                           "Certificate 9D (Key Management)", "Certificate 9E (Card Authentication)",
                           "Certificate 82 (retired key management 1)"]
    assert [f.explanation.split(";")[0] for f in slots.values()] == [
        "RSA 2048 bits", "RSA 2048 bits", "RSA 2048 bits", "EC secp256r1 (256 bits)", "RSA 2048 bits"]
    nine_a = slots["Certificate 9A (PIV Authentication)"].find("Certificate")
    assert nine_a is not None
    assert values(nine_a)["Subject"] == (
        "CN=Test Cardholder (PIV Authentication),OU=Test PIV cards,O=Card Explorer,C=US")
    assert values(nine_a)["Serial number"] == "10 01"
    # The certificates are longer than one short answer: read through 61xx and GET RESPONSE.
    assert sum(1 for a in run.card.received if a[1] == 0xC0) >= 8
    # The empty VERIFY spent no try.
    assert card.tries_left(0x80) == 3 and card.tries_left(0x81) == 3


def test_a_card_without_piv_says_so(bench: Callable[[VirtualCard], Bench]) -> None:
    run = bench(profile_card(demo_profile()))
    root = PivAnalyzer().analyze(run.session)
    assert root.value == "not a PIV card"
    assert "6A 82" in root.explanation and "A0 00 00 03 08" in root.explanation
    assert [a.hex().upper() for a in run.card.received] == ["00A4040005A00000030800",
                                                            "00A404000BA00000030800001000010000"]


@pytest.mark.parametrize(("sw", "pin", "puk"), [
    (0x63C1, "1 tries left", "1 tries left"), (0x9000, "verified", "verified"),
    (0x6983, "blocked", "blocked"), (0x6A88, "not available (6A 88)", "not available (6A 88)")])
def test_pin_states_from_the_empty_verify(bench: Callable[[VirtualCard], Bench], sw: int, pin: str,
                                          puk: str) -> None:
    apt = YUBIKEY_APT + b"\x90\x00"

    def card(apdu: bytes) -> bytes:
        if apdu[1] == 0xA4:
            return apt
        if apdu[1] == 0x20:
            return sw.to_bytes(2, "big")
        return b"\x6a\x82"
    run = bench(VirtualCard(handler=card))
    root = PivAnalyzer().analyze(run.session)
    assert values(root)["PIN (80)"] == pin and values(root)["PUK (81)"] == puk
    assert root.value == "PIV card application, 0 certificates"
    assert values(root)["Key history"] == "not on the card"
    assert [a.hex() for a in run.card.received if a[1] == 0x20] == ["00200080", "00200081"]


def test_the_global_pin_is_asked_when_the_discovery_object_names_it(
        bench: Callable[[VirtualCard], Bench]) -> None:
    discovery = bytes.fromhex("7E124F0BA0000003080000100001005F2F026010")

    def card(apdu: bytes) -> bytes:
        if apdu[1] == 0xA4:
            return YUBIKEY_APT + b"\x90\x00"
        if apdu == get_data(0x7E):
            return discovery + b"\x90\x00"
        return b"\x63\xc5" if apdu[1] == 0x20 else b"\x6a\x82"
    run = bench(VirtualCard(handler=card))
    root = PivAnalyzer().analyze(run.session)
    assert values(root)["Global PIN (00)"] == "5 tries left"
    assert [a.hex() for a in run.card.received if a[1] == 0x20] == ["00200080", "00200000", "00200081"]


def test_a_container_cut_short_keeps_what_was_read(bench: Callable[[VirtualCard], Bench]) -> None:
    # 53 says 0x40 bytes, but inside, the FASC-N's length runs past them.
    chuid = bytes.fromhex("5340 3410") + bytes(range(1, 17)) + bytes.fromhex("3050") + bytes(44)

    def card(apdu: bytes) -> bytes:
        if apdu[1] == 0xA4:
            return YUBIKEY_APT + b"\x90\x00"
        return chuid + b"\x90\x00" if apdu == get_data(0x5FC102) else b"\x6a\x82"
    run = bench(VirtualCard(handler=card))
    root = PivAnalyzer().analyze(run.session)
    found = root.find("Card holder unique identifier (CHUID)")
    assert found is not None and values(found)["GUID"] == "01020304-0506-0708-090A-0B0C0D0E0F10"
    stopped = found.find("Decoding stopped")
    assert stopped is not None and "offset 20 runs past the end" in stopped.value
    assert_traced(root, run.data)


def test_likely_reads_the_historical_bytes() -> None:
    analyzer = PivAnalyzer()
    assert analyzer.likely(bytes.fromhex("3B8A8001") + bytes.fromhex("A0000003080000100001") + b"\x00")
    assert not analyzer.likely(load_profile(PIV_PROFILE).atr)  # most PIV ATRs say nothing of PIV


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=120), min_size=1, max_size=12), st.sampled_from([0x9000, 0x6A82, 0x63C2]))
def test_garbage_answers_never_raise(answers: list[bytes], sw: int) -> None:
    """A card answering anything: findings, each pointing at its bytes."""
    replies = iter(answers * 40)
    session = AnalysisSession(lambda apdu: Reply((), next(replies), sw))
    root = PivAnalyzer().analyze(session)
    assert root.name == "PIV"
    assert_traced(root, lambda i: session.replies[i].data)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.sampled_from([0x5FC102, 0x5FC107, 0x5FC10C, 0x5FC105]))
def test_garbage_inside_a_container_never_raises(inner: bytes, tag: int) -> None:
    """The container is well formed, its content anything: the decoders stay total."""
    data = (b"\x53\x81" + bytes([len(inner)]) if len(inner) >= 0x80 else bytes([0x53, len(inner)])) + inner

    def card(apdu: bytes) -> Reply:
        if apdu[1] == 0xA4:
            return Reply((), YUBIKEY_APT, 0x9000)
        return Reply((), data, 0x9000) if apdu == get_data(tag) else Reply((), b"", 0x6A82)
    session = AnalysisSession(card)
    root: Finding = PivAnalyzer().analyze(session)
    assert_traced(root, lambda i: session.replies[i].data)
