"""Makes resources/cards/piv.json, the PIV test card, from NIST SP 800-73-4 (Parts 1 and 2):

    python tests/profiles/make_piv.py          # writes resources/cards/piv.json
    python tests/profiles/make_piv.py --check  # exit 1 when the committed file differs

The keys are TEST KEYS, committed in tests/profiles/piv_test_keys/ so the output is the same on
every run (they were made by this script the first time; delete them to make new ones). Every
certificate is signed by the test CA's RSA key with PKCS#1 v1.5, which is deterministic; the
retired slot's certificate is gzip-compressed with a zero timestamp. Nothing here is a real card's
data: the FASC-N and GUID are made up and documented in resources/cards/README.md."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from tests.profiles import writer
from tests.profiles.der import integer, oid, seq, tlv

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "resources" / "cards" / "piv.json"
KEYS = Path(__file__).resolve().parent / "piv_test_keys"

PIV_AID = bytes.fromhex("A000000308000010000100")
#: The test FASC-N's fields (TIG SCEPACS): agency 9999 is the code for non-federal issuers.
FASCN_FIELDS = {"agency": "9999", "system": "0042", "credential": "001234", "cs": "1", "ici": "1",
                "pi": "1234567890", "oc": "3", "oi": "9999", "poa": "5"}
GUID = bytes.fromhex("3A5B7C9D1E2F4A6B8C9D0E1F2A3B4C5D")
EXPIRY = b"20351231"
CARD_ID = bytes.fromhex("43455049565445535430303031")  # "CEPIVTEST0001", padded below to 14 bytes
VALID_FROM = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
VALID_TO = datetime.datetime(2035, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
ATR_BODY = bytes.fromhex("3B8B8001" "80" "73C00100" "55" "4345504956")  # compact-TLV, "CEPIV"

#: Slot: (key file, key kind, subject CN, certificate serial, compressed).
SLOTS = {
    0x9A: ("9a", "rsa", "Test Cardholder (PIV Authentication)", 0x1001, False),
    0x9C: ("9c", "rsa", "Test Cardholder (Digital Signature)", 0x1002, False),
    0x9D: ("9d", "rsa", "Test Cardholder (Key Management)", 0x1003, False),
    0x9E: ("9e", "p256", "Card Explorer test card 0001 (Card Authentication)", 0x1004, False),
    0x82: ("82", "rsa", "Test Cardholder (Retired Key Management 1)", 0x0FFF, True),
}
OBJECT_OF_SLOT = {0x9A: "5FC105", 0x9C: "5FC10A", 0x9D: "5FC10B", 0x9E: "5FC101", 0x82: "5FC10D"}


# -- encodings (written here from the specifications, not taken from the app) ------------

def fascn(fields: dict[str, str]) -> bytes:
    """40 characters of 4 data bits (least significant first) and odd parity, packed from the top bit."""
    ss, fs, es = 0xB, 0xD, 0xF
    chars = [ss, *map(int, fields["agency"]), fs, *map(int, fields["system"]), fs,
             *map(int, fields["credential"]), fs, int(fields["cs"]), fs, int(fields["ici"]), fs,
             *map(int, fields["pi"]), int(fields["oc"]), *map(int, fields["oi"]), int(fields["poa"]), es]
    lrc = 0
    for c in chars:
        lrc ^= c
    chars.append(lrc)
    assert len(chars) == 40
    bits = 0
    for c in chars:
        data = [c >> k & 1 for k in range(4)]  # b1 (least significant) first
        parity = 1 - sum(data) % 2
        for b in (*data, parity):
            bits = bits << 1 | b
    return bits.to_bytes(25, "big")


def hex_of(data: bytes) -> str:
    return data.hex(" ").upper()


# -- keys and certificates ----------------------------------------------------------------

def _key(name: str, kind: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    path = KEYS / f"TEST-ONLY-{name}.pem"
    if not path.exists():
        KEYS.mkdir(exist_ok=True)
        made = (rsa.generate_private_key(65537, 2048) if kind == "rsa"
                else ec.generate_private_key(ec.SECP256R1()))
        path.write_bytes(made.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return key


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Card Explorer"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Test PIV cards"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


CA_NAME = _name("Card Explorer Test PIV CA")


def certificate(slot: int, ca: rsa.RSAPrivateKey) -> bytes:
    file, kind, cn, serial, _ = SLOTS[slot]
    key = _key(file, kind)
    usage = {0x9A: "sign", 0x9C: "nonrepudiation", 0x9E: "sign"}.get(slot, "agreement" if kind == "p256"
                                                                     else "encipherment")
    builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(CA_NAME)
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(VALID_FROM).not_valid_after(VALID_TO)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=usage in ("sign", "nonrepudiation"),
                   content_commitment=usage == "nonrepudiation",
                   key_encipherment=usage == "encipherment", data_encipherment=False,
                   key_agreement=usage == "agreement", key_cert_sign=False, crl_sign=False,
                   encipher_only=False, decipher_only=False), critical=True))
    if slot in (0x9A, 0x9E):
        # PIV authentication certificates name the card's GUID as a UUID URN (FIPS 201 §4.1.6).
        guid = GUID.hex()
        urn = f"urn:uuid:{guid[:8]}-{guid[8:12]}-{guid[12:16]}-{guid[16:20]}-{guid[20:]}"
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(urn)]),
                                        critical=False)
    return builder.sign(ca, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


SIGNER = ("cs", "Card Explorer Test PIV Content Signer", 0x2001)
ID_PIV_CHUID_SECURITY_OBJECT = "2.16.840.1.101.3.6.1"
ID_PIV_CONTENT_SIGNING = "2.16.840.1.101.3.6.7"
SIGNING_TIME = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
SHA256 = seq(oid("2.16.840.1.101.3.4.2.1"), b"\x05\x00")
SHA256_RSA = seq(oid("1.2.840.113549.1.1.11"), b"\x05\x00")


def content_signer(ca: rsa.RSAPrivateKey) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """The issuer's content signing certificate (FIPS 201-3 4.2.1; Common Policy's content-signing
    profile: digitalSignature, extended key usage id-PIV-content-signing)."""
    file, cn, serial = SIGNER
    key = _key(file, "rsa")
    assert isinstance(key, rsa.RSAPrivateKey)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(CA_NAME)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(VALID_FROM).not_valid_after(VALID_TO)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(ID_PIV_CONTENT_SIGNING)]),
                           critical=True)
            .sign(ca, hashes.SHA256()))
    return cert, key


def chuid_signature(signed_content: bytes, ca: rsa.RSAPrivateKey) -> bytes:
    """The CHUID's issuer asymmetric signature: eContentType id-PIV-CHUIDSecurityObject, no eContent
    (detached), over the CHUID's data objects without the signature and error detection code
    (FIPS 201-3 4.2.1)."""
    return signed_data(ID_PIV_CHUID_SECURITY_OBJECT, None, signed_content, ca)


def signed_data(content_type: str, econtent: bytes | None, digest_of: bytes, ca: rsa.RSAPrivateKey) -> bytes:
    """ContentInfo { signedData, [0] SignedData } (RFC 5652) by the content signer: `econtent`
    encapsulated, or detached when None; the message digest is of `digest_of`."""
    cert, key = content_signer(ca)
    when = tlv(0x17, SIGNING_TIME.strftime("%y%m%d%H%M%SZ").encode())
    digest = tlv(0x04, hashlib.sha256(digest_of).digest())
    # In DER's SET OF order (by encoding: the shorter first, as these three are).
    attributes = (seq(oid("1.2.840.113549.1.9.3"), tlv(0x31, oid(content_type)))
                  + seq(oid("1.2.840.113549.1.9.5"), tlv(0x31, when))
                  + seq(oid("1.2.840.113549.1.9.4"), tlv(0x31, digest)))
    signature = key.sign(tlv(0x31, attributes), padding.PKCS1v15(), hashes.SHA256())
    signer = seq(integer(1), seq(cert.issuer.public_bytes(), integer(cert.serial_number)), SHA256,
                 tlv(0xA0, attributes), SHA256_RSA, tlv(0x04, signature))
    encapsulated = seq(oid(content_type), *([tlv(0xA0, tlv(0x04, econtent))] if econtent is not None else []))
    signed = seq(integer(3), tlv(0x31, SHA256), encapsulated,
                 tlv(0xA0, cert.public_bytes(serialization.Encoding.DER)), tlv(0x31, signer))
    return seq(oid("1.2.840.113549.1.7.2"), tlv(0xA0, signed))


def security_object(containers: dict[int, bytes], ca: rsa.RSAPrivateKey) -> bytes:
    """5FC106 (Part 1 3.3.2): BA maps each data group to its container ID; BB signs ICAO's LDS
    security object over the SHA-256 of each container's content (inside 53)."""
    groups = sorted(containers.items())
    mapping = b"".join(bytes([n]) + container.to_bytes(2, "big") for n, (container, _) in
                       enumerate(groups, 1))
    hashed = b"".join(seq(integer(n), tlv(0x04, hashlib.sha256(content).digest()))
                      for n, (_, content) in enumerate(groups, 1))
    lds = seq(integer(0), SHA256, seq(hashed))
    return (tlv(0xBA, mapping) + tlv(0xBB, signed_data("2.23.136.1.1.1", lds, lds, ca))
            + tlv(0xFE, b""))


def certificate_object(der: bytes, compressed: bool) -> bytes:
    body = gzip.compress(der, compresslevel=9, mtime=0) if compressed else der
    return tlv(0x70, body) + tlv(0x71, b"\x01" if compressed else b"\x00") + tlv(0xFE, b"")


# -- the profile --------------------------------------------------------------------------

def objects(ca: rsa.RSAPrivateKey) -> dict[str, bytes]:
    signed = tlv(0x30, fascn(FASCN_FIELDS)) + tlv(0x34, GUID) + tlv(0x35, EXPIRY)
    chuid = signed + tlv(0x3E, chuid_signature(signed, ca)) + tlv(0xFE, b"")
    card_identifier = bytes.fromhex("A000000116") + b"\xFF\x02" + CARD_ID.ljust(14, b"\x00")
    ccc = (tlv(0xF0, card_identifier) + tlv(0xF1, b"\x21") + tlv(0xF2, b"\x21") + tlv(0xF3, b"")
           + tlv(0xF4, b"\x00") + tlv(0xF5, b"\x10") + tlv(0xF6, b"") + tlv(0xF7, b"") + tlv(0xFA, b"")
           + tlv(0xFB, b"") + tlv(0xFC, b"") + tlv(0xFD, b"") + tlv(0xFE, b""))
    discovery = tlv(0x4F, PIV_AID) + tlv(0x5F2F, b"\x40\x00")
    history = tlv(0xC1, b"\x01") + tlv(0xC2, b"\x00") + tlv(0xFE, b"")
    out = {"7E": discovery, "5FC102": chuid, "5FC107": ccc, "5FC10C": history,
           "5FC106": security_object({0x3000: chuid}, ca)}
    for slot, tag in OBJECT_OF_SLOT.items():
        out[tag] = certificate_object(certificate(slot, ca), SLOTS[slot][4])
    return out


def apt() -> bytes:
    algorithms = b"".join(tlv(0x80, bytes([a])) for a in (0x07, 0x11, 0x03)) + tlv(0x06, b"")
    return tlv(0x61, tlv(0x4F, PIV_AID[5:]) + tlv(0x79, tlv(0x4F, PIV_AID[:5]))
               + tlv(0x50, b"Card Explorer PIV test") + tlv(0xAC, algorithms))


def profile() -> dict[str, object]:
    ca = _key("ca", "rsa")
    assert isinstance(ca, rsa.RSAPrivateKey)
    tck = 0
    for b in ATR_BODY[1:]:
        tck ^= b
    return {
        "format": "card-explorer-profile", "version": 1, "name": "PIV test card (SP 800-73-4)",
        "description": "A PIV card application as NIST SP 800-73-4 lays it out, made by "
                       "tests/profiles/make_piv.py (see resources/cards/README.md): application property "
                       "template, discovery object, CHUID with a made-up FASC-N and GUID signed by a test "
                       "content signer, CCC, key history, "
                       "certificates in 9A, 9C, 9D (RSA 2048), 9E (ECC P-256) and the retired slot 82 "
                       "(gzip-compressed), all signed by a test CA. PIN 80 is 123456, PUK 81 is 12345678 "
                       "(both padded with FF to 8 bytes).",
        "atr": hex_of(ATR_BODY + bytes([tck])),
        "t0": False,
        "pins": [{"reference": "80", "value": hex_of(b"123456".ljust(8, b"\xFF")), "tries": 3},
                 {"reference": "81", "value": hex_of(b"12345678"), "tries": 3}],
        "data_objects": {tag: hex_of(value) for tag, value in objects(ca).items()},
        "files": {"fid": "3F00", "type": "MF", "children": [
            {"_": "The PIV application; its FID is this card's own (SP 800-73-4 selects it by AID only).",
             "fid": "7F50", "type": "DF", "name": hex_of(PIV_AID), "fci": hex_of(apt())}]},
    }


def build() -> str:
    return json.dumps(profile(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.exit(writer.main(sys.argv[1:], OUT, build))
