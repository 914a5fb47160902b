"""Makes resources/cards/openpgp.json, the OpenPGP test card, from the OpenPGP smart card
application specification 3.4 and RFC 4880 / RFC 6637 for the fingerprints:

    python tests/profiles/make_openpgp.py          # writes resources/cards/openpgp.json
    python tests/profiles/make_openpgp.py --check  # exit 1 when the committed file differs

The keys are TEST KEYS, committed in tests/profiles/openpgp_test_keys/ so the output is the same on
every run (made by this script the first time; delete them to make new ones): an RSA 2048
signature key, a cv25519 (X25519) decryption key and an ed25519 authentication key. The
cardholder certificate is self-signed with the ed25519 key (Ed25519 signatures are
deterministic). The fingerprints are computed here, from RFC 4880 12.2, not by the app; GnuPG
agrees with them (tests/test_openpgp_profile.py has its key IDs). Nothing is a real card's or
person's data: the manufacturer FFFF is the specification's test card number."""

from __future__ import annotations

import datetime
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID

from tests.profiles import writer
from tests.profiles.der import tlv

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "resources" / "cards" / "openpgp.json"
KEYS = Path(__file__).resolve().parent / "openpgp_test_keys"

#: RID D2 76 00 01 24, application 01, version 3.4, manufacturer FFFF (test card), serial, RFU.
AID = bytes.fromhex("D276000124" "01" "0304" "FFFF" "12345678" "0000")
#: Category 00, card service data 31 C5, card capabilities 73 C0 01 00 (selection by full and
#: partial DF name; data coding 01; no command chaining, no extended lengths: what this card
#: does), status indicator 05 90 00 (life cycle: operational, activated).
HISTORICAL = bytes.fromhex("00" "31C5" "73C00100" "059000")
#: T=1 card: TA1 18, TC1 FF, TD1 81, TD2 B1, TA3 FE (IFSC 254), TB3 75, TD3 1F, TA4 03.
ATR_HEAD = bytes.fromhex("3BDA18FF81B1FE751F03")
CREATED = {  # generation dates (CD), in seconds since 1970 UTC
    0xB6: datetime.datetime(2024, 1, 15, 10, 0, 0, tzinfo=datetime.UTC),
    0xB8: datetime.datetime(2024, 1, 15, 10, 0, 5, tzinfo=datetime.UTC),
    0xA4: datetime.datetime(2024, 1, 15, 10, 0, 10, tzinfo=datetime.UTC),
}
OID_CV25519 = bytes.fromhex("2B060104019755010501")  # 1.3.6.1.4.1.3029.1.5.1
OID_ED25519 = bytes.fromhex("2B06010401DA470F01")  # 1.3.6.1.4.1.11591.15.1
PW1, PW3 = b"123456", b"12345678"  # the spec's default passwords (4.3)


# -- encodings, written here from the specifications --------------------------------------

def mpi(number: int) -> bytes:
    return number.bit_length().to_bytes(2, "big") + number.to_bytes((number.bit_length() + 7) // 8, "big")


def fingerprint(body: bytes) -> bytes:
    return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).digest()


def atr() -> bytes:
    body = ATR_HEAD + HISTORICAL
    tck = 0
    for byte in body[1:]:
        tck ^= byte
    return body + bytes([tck])


# -- keys ---------------------------------------------------------------------------------

def _load_or_make(name: str, make: Callable[[], PrivateKeyTypes]) -> PrivateKeyTypes:
    path = KEYS / f"TEST-ONLY-{name}.pem"
    if not path.exists():
        KEYS.mkdir(exist_ok=True)
        key = make()
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return serialization.load_pem_private_key(path.read_bytes(), None)


def keys() -> tuple[rsa.RSAPrivateKey, x25519.X25519PrivateKey, ed25519.Ed25519PrivateKey]:
    sig = _load_or_make("sig-rsa2048", lambda: rsa.generate_private_key(65537, 2048))
    dec = _load_or_make("dec-cv25519", x25519.X25519PrivateKey.generate)
    aut = _load_or_make("aut-ed25519", ed25519.Ed25519PrivateKey.generate)
    assert isinstance(sig, rsa.RSAPrivateKey) and isinstance(dec, x25519.X25519PrivateKey)
    assert isinstance(aut, ed25519.Ed25519PrivateKey)
    return sig, dec, aut


def _raw(key: x25519.X25519PublicKey | ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_packets() -> dict[int, tuple[bytes, bytes]]:
    """CRT -> (the 7F49 answer, the v4 public key packet body)."""
    sig, dec, aut = keys()
    numbers = sig.public_key().public_numbers()
    out = {}
    stamp = {crt: int(when.timestamp()).to_bytes(4, "big") for crt, when in CREATED.items()}
    n = numbers.n.to_bytes(256, "big")
    e = numbers.e.to_bytes(3, "big")
    out[0xB6] = (tlv(0x7F49, tlv(0x81, n) + tlv(0x82, e)),
                 b"\x04" + stamp[0xB6] + b"\x01" + mpi(numbers.n) + mpi(numbers.e))
    # ECDH: the point behind the 40 prefix, then KDF parameters 03 01 SHA-256 (08) AES-128 (07).
    point = _raw(dec.public_key())
    out[0xB8] = (tlv(0x7F49, tlv(0x86, point)),
                 b"\x04" + stamp[0xB8] + b"\x12" + bytes([len(OID_CV25519)]) + OID_CV25519
                 + mpi(int.from_bytes(b"\x40" + point, "big")) + bytes.fromhex("03010807"))
    point = _raw(aut.public_key())
    out[0xA4] = (tlv(0x7F49, tlv(0x86, point)),
                 b"\x04" + stamp[0xA4] + b"\x16" + bytes([len(OID_ED25519)]) + OID_ED25519
                 + mpi(int.from_bytes(b"\x40" + point, "big")))
    return out


def certificate() -> bytes:
    """A self-signed X.509 certificate of the authentication key, as 7F21 holds one."""
    _, _, aut = keys()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Alice Jane Tester (TEST)"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Card Explorer test cards")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(aut.public_key())
            .serial_number(0x0304FFFF12345678)
            .not_valid_before(datetime.datetime(2024, 1, 15, tzinfo=datetime.UTC))
            .not_valid_after(datetime.datetime(2034, 1, 14, 23, 59, 59, tzinfo=datetime.UTC))
            .sign(aut, None))
    return cert.public_bytes(serialization.Encoding.DER)


# -- the data objects ---------------------------------------------------------------------

def application_data(packets: dict[int, tuple[bytes, bytes]]) -> bytes:
    order = (0xB6, 0xB8, 0xA4)
    extended = bytes.fromhex("74" "00" "0800" "0800" "00FF" "00" "00")
    discretionary = b"".join([
        tlv(0xC0, extended),
        tlv(0xC1, bytes.fromhex("01" "0800" "0011" "00")),  # RSA 2048, e 17 bits, standard import
        tlv(0xC2, b"\x12" + OID_CV25519),  # ECDH cv25519
        tlv(0xC3, b"\x16" + OID_ED25519),  # EdDSA ed25519
        tlv(0xC4, bytes.fromhex("01" "7F" "7F" "7F" "03" "00" "03")),
        tlv(0xC5, b"".join(fingerprint(packets[crt][1]) for crt in order)),
        tlv(0xC6, bytes(60)),
        tlv(0xCD, b"".join(int(CREATED[crt].timestamp()).to_bytes(4, "big") for crt in order)),
        tlv(0xDE, bytes.fromhex("0101" "0202" "0301")),
        tlv(0xD6, bytes.fromhex("0120")), tlv(0xD7, bytes.fromhex("0020")), tlv(0xD8, bytes.fromhex("0020")),
    ])
    return tlv(0x4F, AID) + tlv(0x5F52, HISTORICAL) + tlv(0x73, discretionary)


def algorithm_information() -> bytes:
    """FA (4.4.3.11): what each key slot accepts; C0 says algorithm attributes are changeable, so the
    card lists the choices: RSA 2048 and 4096 everywhere, ed25519 to sign and authenticate, cv25519
    to decrypt."""
    rsa_2048, rsa_4096 = bytes.fromhex("01" "0800" "0011" "00"), bytes.fromhex("01" "1000" "0011" "00")
    return b"".join([  # its content: the emulator answers with the FA tag around it
        tlv(0xC1, rsa_2048), tlv(0xC1, rsa_4096), tlv(0xC1, b"\x16" + OID_ED25519),
        tlv(0xC2, rsa_2048), tlv(0xC2, rsa_4096), tlv(0xC2, b"\x12" + OID_CV25519),
        tlv(0xC3, rsa_2048), tlv(0xC3, rsa_4096), tlv(0xC3, b"\x16" + OID_ED25519),
    ])


def profile() -> dict[str, object]:
    packets = key_packets()
    fingerprints = {crt: fingerprint(body).hex().upper() for crt, (_, body) in packets.items()}
    cardholder = tlv(0x5B, b"Tester<<Alice<Jane") + tlv(0x5F2D, b"enfr") + tlv(0x5F35, b"2")
    objects = {
        "6E": application_data(packets).hex().upper(),
        "65": cardholder.hex().upper(),
        "7A": tlv(0x93, bytes.fromhex("00002A")).hex().upper(),
        "5E": b"alice".hex().upper(),
        "5F50": b"https://keys.example.org/alice.asc".hex().upper(),
        "7F21": certificate().hex().upper(),
        "FA": algorithm_information().hex().upper(),
    }
    return {
        "format": "card-explorer-profile",
        "version": 1,
        "name": "OpenPGP test card (version 3.4)",
        "description": (
            "An OpenPGP card version 3.4 (OpenPGP smart card application 3.4.1), made by "
            "tests/profiles/make_openpgp.py with TEST KEYS; no real card's or person's data. AID "
            f"{AID.hex().upper()}: version 3.4, manufacturer FFFF (a test card per the specification), "
            "serial number 12345678. Signature key RSA 2048 (fingerprint "
            f"{fingerprints[0xB6]}), decryption key cv25519 ({fingerprints[0xB8]}), authentication key "
            f"ed25519 ({fingerprints[0xA4]}), generated 2024-01-15 10:00:00/05/10 UTC. PW1 123456 "
            "(references 81 and 82), PW3 12345678 (83), 3 tries each; no resetting code. Cardholder "
            "Alice Jane Tester (5B Tester<<Alice<Jane), languages en, fr, sex 2 (female), login "
            "data alice, URL https://keys.example.org/alice.asc, 42 signatures, a self-signed "
            "certificate of the authentication key in 7F21. Only reading is emulated: SELECT, GET "
            "DATA, VERIFY, GET CHALLENGE and GENERATE ASYMMETRIC KEY PAIR in read mode (P1 81)."),
        "atr": atr().hex(" ").upper(),
        "pins": [
            {"reference": "81", "value": PW1.hex().upper(), "tries": 3},
            {"reference": "82", "value": PW1.hex().upper(), "tries": 3},
            {"reference": "83", "value": PW3.hex().upper(), "tries": 3},
        ],
        "openpgp": {
            "_": "GET DATA answers 65, 6E, 7A and FA with their tag, the other DOs as their value alone.",
            "data_objects": objects,
            "public_keys": {f"{crt:02X}": packets[crt][0].hex().upper() for crt in (0xB6, 0xB8, 0xA4)},
        },
        "files": {"fid": "3F00", "type": "MF", "children": [
            {"_": "The OpenPGP application; its FID is this emulator's (OpenPGP cards select by AID).",
             "fid": "7F10", "type": "DF", "name": AID.hex().upper(),
             "fci": tlv(0x6F, tlv(0x84, AID)).hex().upper()},
        ]},
    }


def render() -> str:
    return json.dumps(profile(), indent=2) + "\n"


if __name__ == "__main__":
    sys.exit(writer.main(sys.argv[1:], OUT, render))
