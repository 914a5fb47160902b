"""OpenPGP card numbers, named (Functional Specification of the OpenPGP application on ISO smart
card operating systems, version 3.4 / 3.4.1: 4.2.1 AID, 4.4 data objects, 4.4.3.x their
contents, 7.2 commands; RFC 4880 9.1 and RFC 6637 for algorithm IDs and KDF parameters)."""

from __future__ import annotations

import enum

#: RID of the FSFE (D2 76 00 01 24) and application 01: what SELECT asks for, P1 04 P2 00.
APPLICATION_ID = bytes.fromhex("D27600012401")
AID_LENGTH = 16


class Ins(enum.IntEnum):
    SELECT = 0xA4
    GET_DATA = 0xCA
    SELECT_DATA = 0xA5
    VERIFY = 0x20
    GENERATE_ASYMMETRIC_KEY_PAIR = 0x47


class GenerateMode(enum.IntEnum):
    """GENERATE ASYMMETRIC KEY PAIR's P1 (7.2.14): 80 makes a new key (and destroys the old),
    81 only reads the public key. The analyzer never sends 80."""

    GENERATE = 0x80
    READ = 0x81


class Tag(enum.IntEnum):
    """Data objects (4.4.1 and 4.4.2)."""

    AID = 0x4F
    NAME = 0x5B
    LOGIN_DATA = 0x5E
    CARDHOLDER_RELATED_DATA = 0x65
    APPLICATION_RELATED_DATA = 0x6E
    DISCRETIONARY_DATA_OBJECTS = 0x73
    SECURITY_SUPPORT_TEMPLATE = 0x7A
    SIGNATURE_COUNTER = 0x93
    EXTENDED_CAPABILITIES = 0xC0
    ALGORITHM_ATTRIBUTES_SIG = 0xC1
    ALGORITHM_ATTRIBUTES_DEC = 0xC2
    ALGORITHM_ATTRIBUTES_AUT = 0xC3
    PW_STATUS_BYTES = 0xC4
    FINGERPRINTS = 0xC5
    CA_FINGERPRINTS = 0xC6
    GENERATION_TIMES = 0xCD
    UIF_SIG = 0xD6
    UIF_DEC = 0xD7
    UIF_AUT = 0xD8
    KEY_INFORMATION = 0xDE
    ATTESTATION_ATTRIBUTES = 0xDA  # in the algorithm information: a YubiKey's attestation key
    KDF = 0xF9
    ALGORITHM_INFORMATION = 0xFA
    LANGUAGE = 0x5F2D
    SEX = 0x5F35
    URL = 0x5F50
    HISTORICAL_BYTES = 0x5F52
    CARDHOLDER_CERTIFICATE = 0x7F21
    PUBLIC_KEY = 0x7F49
    EXTENDED_LENGTH_INFORMATION = 0x7F66
    GENERAL_FEATURE_MANAGEMENT = 0x7F74
    RSA_MODULUS = 0x81
    RSA_EXPONENT = 0x82
    ECC_POINT = 0x86


class KeySlot(enum.IntEnum):
    """The three keys, by their control reference template (the CRT GENERATE reads them with)."""

    SIGNATURE = 0xB6
    DECRYPTION = 0xB8
    AUTHENTICATION = 0xA4

    @property
    def label(self) -> str:
        return {KeySlot.SIGNATURE: "Signature key", KeySlot.DECRYPTION: "Decryption key",
                KeySlot.AUTHENTICATION: "Authentication key"}[self]

    @property
    def index(self) -> int:
        """Its place in C5, C6, CD and the order of C1-C3 and D6-D8 (sig, dec, aut)."""
        return (KeySlot.SIGNATURE, KeySlot.DECRYPTION, KeySlot.AUTHENTICATION).index(self)


SLOTS = (KeySlot.SIGNATURE, KeySlot.DECRYPTION, KeySlot.AUTHENTICATION)


class Algorithm(enum.IntEnum):
    """Public-key algorithm IDs of RFC 4880 9.1 and RFC 6637, as the first byte of C1-C3."""

    RSA = 0x01
    RSA_ENCRYPT_ONLY = 0x02
    RSA_SIGN_ONLY = 0x03
    ECDH = 0x12
    ECDSA = 0x13
    EDDSA = 0x16


class PasswordRef(enum.IntEnum):
    """VERIFY's P2 (7.2.2): PW1 for signing (81), PW1 for the other commands (82), PW3 (83)."""

    PW1_SIGN = 0x81
    PW1 = 0x82
    PW3 = 0x83


class Sw(enum.IntEnum):
    OK = 0x9000
    SECURITY_NOT_SATISFIED = 0x6982
    BLOCKED = 0x6983
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    FILE_NOT_FOUND = 0x6A82
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00


@enum.unique
class Curve(enum.Enum):
    """Curves the spec names for algorithm attributes (4.4.3.10), by OID; `hash_id`, `cipher_id`
    are the KDF parameters RFC 6637 (13) makes default for ECDH on that curve, which GnuPG uses
    for a card key and the v4 fingerprint covers."""

    P256 = ("1.2.840.10045.3.1.7", "ansix9p256r1 (NIST P-256)", 8, 7)
    P384 = ("1.3.132.0.34", "ansix9p384r1 (NIST P-384)", 9, 8)
    P521 = ("1.3.132.0.35", "ansix9p521r1 (NIST P-521)", 10, 9)
    BRAINPOOL_P256 = ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1", 8, 7)
    BRAINPOOL_P384 = ("1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1", 9, 8)
    BRAINPOOL_P512 = ("1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1", 10, 9)
    ED25519 = ("1.3.6.1.4.1.11591.15.1", "ed25519", 8, 7)
    CV25519 = ("1.3.6.1.4.1.3029.1.5.1", "cv25519 (X25519)", 8, 7)
    ED448 = ("1.3.101.113", "Ed448", 10, 9)
    X448 = ("1.3.101.111", "X448", 10, 9)

    def __init__(self, dotted: str, title: str, hash_id: int, cipher_id: int) -> None:
        self.dotted = dotted
        self.title = title
        self.hash_id = hash_id
        self.cipher_id = cipher_id


CURVES_BY_OID = {curve.dotted: curve for curve in Curve}

#: Manufacturer IDs of the AID (4.2.1 points to the list GnuPG keeps; the common ones).
MANUFACTURERS = {
    0x0001: "PPC Card Systems", 0x0002: "Prism", 0x0003: "OpenFortress", 0x0004: "Wewid",
    0x0005: "ZeitControl", 0x0006: "Yubico", 0x0007: "OpenKMS", 0x0008: "LogoEmail",
    0x0009: "Fidesmo", 0x000A: "VivoKey", 0x000B: "Feitian Technologies", 0x000D: "Dangerous Things",
    0x000E: "Excelsecu", 0x000F: "Nitrokey", 0x002A: "Magrathea", 0x0042: "GnuPG e.V.",
    0x1337: "Warsaw Hackerspace", 0x2342: "warpzone", 0x4354: "Confidential Technologies",
    0x5443: "TIF-IT e.V.", 0x63AF: "Trustica", 0xBA53: "c-base e.V.", 0xBD0E: "Paranoidlabs",
    0xF517: "FSIJ (Gnuk)", 0xF5EC: "F-Secure",
}


def manufacturer_name(number: int) -> str:
    if number in (0x0000, 0xFFFF):
        return "test card"
    if number in MANUFACTURERS:
        return MANUFACTURERS[number]
    if number & 0xFF00 == 0xFF00:
        return "unmanaged serial number range (randomly assigned serial numbers)"
    return "unknown manufacturer"


#: Hash and cipher IDs of RFC 4880 9.2 and 9.4, for the KDF parameters.
HASH_NAMES = {8: "SHA-256", 9: "SHA-384", 10: "SHA-512", 11: "SHA-224"}
CIPHER_NAMES = {7: "AES-128", 8: "AES-192", 9: "AES-256"}
