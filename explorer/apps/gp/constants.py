"""GlobalPlatform numbers, named: instructions, data object tags, ISD AIDs, key types, SCPs
(GlobalPlatform Card Specification v2.3.1: 11.1 for data and keys, 11.3 GET DATA, 11.9 SELECT,
H.2 card recognition data, H.4 card capability information)."""

from __future__ import annotations

import enum


class Cla(enum.IntEnum):
    ISO = 0x00
    GP = 0x80  # GlobalPlatform's proprietary class, as GET DATA is specified (11.3.1)


class Ins(enum.IntEnum):
    SELECT = 0xA4
    GET_DATA = 0xCA


class Tag(enum.IntEnum):
    """Data objects of a security domain: what GET DATA's P1-P2 ask for, and the FCI's parts."""

    FCI = 0x6F
    AID = 0x84
    FCI_PROPRIETARY = 0xA5
    SECURITY_DOMAIN_MANAGEMENT_DATA = 0x73
    PRODUCTION_LIFE_CYCLE_DATA = 0x9F6E
    MAX_COMMAND_DATA_LENGTH = 0x9F65
    CPLC = 0x9F7F
    CARD_DATA = 0x66
    CARD_CAPABILITIES = 0x67
    KEY_INFORMATION_TEMPLATE = 0xE0
    KEY_INFORMATION_DATA = 0xC0
    IIN = 0x42
    CIN = 0x45
    SEQUENCE_COUNTER = 0xC1
    CONFIRMATION_COUNTER = 0xC2
    OID = 0x06
    CARD_RECOGNITION_DATA = 0x73


class RecognitionTag(enum.IntEnum):
    """Application tags inside card recognition data 73 (Table H-1), each wrapping an OID."""

    CARD_MANAGEMENT_TYPE = 0x60
    CARD_IDENTIFICATION_SCHEME = 0x63
    SECURE_CHANNEL_PROTOCOL = 0x64
    CARD_CONFIGURATION_DETAILS = 0x65
    CARD_CHIP_DETAILS = 0x66
    TRUST_POINT_CERTIFICATE = 0x67
    ISD_CERTIFICATE = 0x68


#: The ISD's AID per GlobalPlatform, then the Visa/Open Platform 2.0.1 card manager's two forms
#: (older cards and many JCOPs still answer to those).
ISD_AIDS = (bytes.fromhex("A000000151000000"), bytes.fromhex("A0000000030000"),
            bytes.fromhex("A000000003000000"))

#: {iso(1) member-body(2) us(840) globalPlatform(114283)}: every GP OID starts so.
GP_OID = "1.2.840.114283"
#: Java Card's OIDs (Sun's arc), as card recognition data 66 names the platform version.
JAVA_CARD_OID = "1.3.6.1.4.1.42.2.110.1"


class CardLifeCycle(enum.IntEnum):
    """Card life cycle states (Table 11-5). 62 83 after SELECT of the ISD means CARD_LOCKED."""

    OP_READY = 0x01
    INITIALIZED = 0x07
    SECURED = 0x0F
    CARD_LOCKED = 0x7F
    TERMINATED = 0xFF


#: SELECT's warning: the card is locked, only the ISD answers (11.9.3.1).
SW_CARD_LOCKED = 0x6283


class KeyType(enum.IntEnum):
    """Key type coding (Table 11-16)."""

    DES = 0x80
    TRIPLE_DES_RESERVED = 0x81
    TRIPLE_DES_CBC = 0x82
    DES_ECB = 0x83
    DES_CBC = 0x84
    TLS_PSK = 0x85
    AES = 0x88
    HMAC_SHA1 = 0x90
    HMAC_SHA1_160 = 0x91
    RSA_PUBLIC_E = 0xA0
    RSA_PUBLIC_N = 0xA1
    RSA_PRIVATE_N = 0xA2
    RSA_PRIVATE_D = 0xA3
    RSA_CRT_P = 0xA4
    RSA_CRT_Q = 0xA5
    RSA_CRT_PQ = 0xA6
    RSA_CRT_DP1 = 0xA7
    RSA_CRT_DQ1 = 0xA8
    ECC_PUBLIC = 0xB0
    ECC_PRIVATE = 0xB1
    ECC_FIELD_P = 0xB2
    ECC_FIELD_A = 0xB3
    ECC_FIELD_B = 0xB4
    ECC_FIELD_G = 0xB5
    ECC_FIELD_N = 0xB6
    ECC_FIELD_K = 0xB7
    ECC_PARAMETERS_REFERENCE = 0xF0
    EXTENDED = 0xFF


KEY_TYPE_TEXT: dict[KeyType, str] = {
    KeyType.DES: "DES, mode (ECB/CBC) implicitly known (Triple DES for SCP02)",
    KeyType.TRIPLE_DES_RESERVED: "reserved (Triple DES)",
    KeyType.TRIPLE_DES_CBC: "Triple DES in CBC mode",
    KeyType.DES_ECB: "DES in ECB mode",
    KeyType.DES_CBC: "DES in CBC mode",
    KeyType.TLS_PSK: "pre-shared key for TLS",
    KeyType.AES: "AES",
    KeyType.HMAC_SHA1: "HMAC-SHA1, HMAC length implicitly known",
    KeyType.HMAC_SHA1_160: "HMAC-SHA1-160",
    KeyType.RSA_PUBLIC_E: "RSA public key, public exponent e",
    KeyType.RSA_PUBLIC_N: "RSA public key, modulus N",
    KeyType.RSA_PRIVATE_N: "RSA private key, modulus N",
    KeyType.RSA_PRIVATE_D: "RSA private key, private exponent d",
    KeyType.RSA_CRT_P: "RSA private key, CRT P",
    KeyType.RSA_CRT_Q: "RSA private key, CRT Q",
    KeyType.RSA_CRT_PQ: "RSA private key, CRT PQ",
    KeyType.RSA_CRT_DP1: "RSA private key, CRT DP1",
    KeyType.RSA_CRT_DQ1: "RSA private key, CRT DQ1",
    KeyType.ECC_PUBLIC: "ECC public key",
    KeyType.ECC_PRIVATE: "ECC private key",
    KeyType.ECC_FIELD_P: "ECC field parameter P",
    KeyType.ECC_FIELD_A: "ECC field parameter A",
    KeyType.ECC_FIELD_B: "ECC field parameter B",
    KeyType.ECC_FIELD_G: "ECC field parameter G (generator)",
    KeyType.ECC_FIELD_N: "ECC field parameter N (order of G)",
    KeyType.ECC_FIELD_K: "ECC field parameter k (cofactor)",
    KeyType.ECC_PARAMETERS_REFERENCE: "ECC key parameters reference",
    KeyType.EXTENDED: "extended format",
}


def key_type_text(code: int) -> str:
    try:
        return KEY_TYPE_TEXT[KeyType(code)]
    except ValueError:
        return "reserved for private use" if code < 0x80 else "RFU"


#: What a secure channel protocol is, by number (GP 2.3.1 chapter 10 and Amendments D, E, F).
SCP_TEXT: dict[int, str] = {
    0x01: "SCP01 (Triple DES, deprecated since GP 2.2)",
    0x02: "SCP02 (Triple DES)",
    0x03: "SCP03 (AES, Amendment D)",
    0x10: "SCP10 (asymmetric cryptography, GP 2.3.1 appendix F)",
    0x11: "SCP11 (ECC, Amendment F)",
    0x80: "SCP80 (over-the-air, ETSI TS 102 225)",
    0x81: "SCP81 (PSK-TLS, Amendment B)",
}

#: SCP03's "i" parameter bits (Amendment D, 5.1 Table 5-1).
SCP03_I_BITS = ((0x10, "pseudo-random card challenge", "random card challenge"),
                (0x20, "R-MAC support", "no R-MAC support"),
                (0x40, "R-ENCRYPTION support", "no R-ENCRYPTION support"))

#: SCP02's "i" parameter bits (GP 2.3.1 E.1.1).
SCP02_I_BITS = ((0x01, "3 Secure Channel keys", "1 Secure Channel base key"),
                (0x02, "C-MAC on modified APDU", "C-MAC on unmodified APDU"),
                (0x04, "initiation mode explicit", "initiation mode implicit"),
                (0x08, "ICV set to MAC over AID", "ICV set to zero"),
                (0x10, "ICV encryption for C-MAC session", "no ICV encryption"),
                (0x20, "R-MAC support", "no R-MAC support"),
                (0x40, "well-known pseudo-random algorithm (card challenge)", "unspecified card challenge"))
