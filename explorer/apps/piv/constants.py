"""PIV numbers, named (NIST SP 800-73-4 Part 1 for the data model and its tags, Part 2 for the
commands and status words; SP 800-78-4 for the algorithm identifiers)."""

from __future__ import annotations

import enum

#: The PIV application's AID (Part 1 §2.2): NIST's RID, then the PIX with the version 01 00.
RID = bytes.fromhex("A000000308")
PIV_AID = bytes.fromhex("A000000308000010000100")


class Ins(enum.IntEnum):
    SELECT = 0xA4
    GET_DATA = 0xCB  # the odd INS: the data field carries a tag list (5C)
    VERIFY = 0x20
    GET_RESPONSE = 0xC0


class Sw(enum.IntEnum):
    OK = 0x9000
    SECURITY_STATUS = 0x6982  # the object needs the PIN (printed information, biometrics)
    BLOCKED = 0x6983
    NOT_FOUND = 0x6A82  # the data object is not on the card
    WRONG_P1P2 = 0x6A86
    REFERENCE_NOT_FOUND = 0x6A88  # VERIFY of a key reference the card does not have


#: The tag list of GET DATA (Part 2 §3.1.2): 5C, then the object's tag.
TAG_LIST = 0x5C
#: Every 5FC1xx object comes back wrapped in 53; the discovery object and the BIT group template
#: come back as their own templates (Part 1 Table 3).
DATA_CONTAINER = 0x53


class ObjectTag(enum.IntEnum):
    """Data objects of the PIV card application, by the tag GET DATA asks for (Part 1 Table 3)."""

    CARD_CAPABILITY_CONTAINER = 0x5FC107
    CHUID = 0x5FC102
    PIV_AUTHENTICATION_CERT = 0x5FC105
    FINGERPRINTS = 0x5FC103
    SECURITY_OBJECT = 0x5FC106
    FACIAL_IMAGE = 0x5FC108
    PRINTED_INFORMATION = 0x5FC109
    DIGITAL_SIGNATURE_CERT = 0x5FC10A
    KEY_MANAGEMENT_CERT = 0x5FC10B
    CARD_AUTHENTICATION_CERT = 0x5FC101
    KEY_HISTORY = 0x5FC10C
    RETIRED_CERT_1 = 0x5FC10D  # retired key management 1 (key 82); 20 of them, to 5FC120 (95)
    IRIS_IMAGES = 0x5FC121
    SM_CERT_SIGNER = 0x5FC122
    PAIRING_CODE = 0x5FC123
    DISCOVERY = 0x7E
    BIT_GROUP_TEMPLATE = 0x7F61


RETIRED_SLOTS = 20

#: Container ID -> (GET DATA tag, name): the IDs the security object's mapping (BA) uses
#: (SP 800-73-4 Part 1 Table 2; OpenSC and yubico-piv-tool list the same).
CONTAINERS: dict[int, tuple[int, str]] = {
    0xDB00: (ObjectTag.CARD_CAPABILITY_CONTAINER, "CCC"),
    0x3000: (ObjectTag.CHUID, "CHUID"),
    0x0101: (ObjectTag.PIV_AUTHENTICATION_CERT, "PIV authentication certificate"),
    0x6010: (ObjectTag.FINGERPRINTS, "cardholder fingerprints"),
    0x9000: (ObjectTag.SECURITY_OBJECT, "security object"),
    0x6030: (ObjectTag.FACIAL_IMAGE, "cardholder facial image"),
    0x3001: (ObjectTag.PRINTED_INFORMATION, "printed information"),
    0x0100: (ObjectTag.DIGITAL_SIGNATURE_CERT, "digital signature certificate"),
    0x0102: (ObjectTag.KEY_MANAGEMENT_CERT, "key management certificate"),
    0x0500: (ObjectTag.CARD_AUTHENTICATION_CERT, "card authentication certificate"),
    0x6050: (ObjectTag.DISCOVERY, "discovery object"),
    0x6060: (ObjectTag.KEY_HISTORY, "key history"),
    **{0x1000 + n: (ObjectTag.RETIRED_CERT_1 + n - 1, f"retired key management certificate {n}")
       for n in range(1, RETIRED_SLOTS + 1)},
    0x1015: (ObjectTag.IRIS_IMAGES, "cardholder iris images"),
    0x1016: (ObjectTag.BIT_GROUP_TEMPLATE, "biometric information templates"),
    0x1017: (ObjectTag.SM_CERT_SIGNER, "secure messaging certificate signer"),
    0x1018: (ObjectTag.PAIRING_CODE, "pairing code reference data"),
}


class KeyRef(enum.IntEnum):
    """Key references (Part 1 Table 4b and 5.1): PINs, then keys."""

    GLOBAL_PIN = 0x00
    PIN = 0x80
    PUK = 0x81
    PRIMARY_FINGER_OCC = 0x96
    SECONDARY_FINGER_OCC = 0x97
    PAIRING_CODE = 0x98
    SECURE_MESSAGING = 0x04
    PIV_AUTHENTICATION = 0x9A
    CARD_MANAGEMENT = 0x9B
    DIGITAL_SIGNATURE = 0x9C
    KEY_MANAGEMENT = 0x9D
    CARD_AUTHENTICATION = 0x9E
    RETIRED_1 = 0x82  # to 0x95


#: The four certificate slots, in the order the analyzer reads them: key, object, name.
CERT_SLOTS = (
    (KeyRef.PIV_AUTHENTICATION, ObjectTag.PIV_AUTHENTICATION_CERT, "PIV Authentication"),
    (KeyRef.DIGITAL_SIGNATURE, ObjectTag.DIGITAL_SIGNATURE_CERT, "Digital Signature"),
    (KeyRef.KEY_MANAGEMENT, ObjectTag.KEY_MANAGEMENT_CERT, "Key Management"),
    (KeyRef.CARD_AUTHENTICATION, ObjectTag.CARD_AUTHENTICATION_CERT, "Card Authentication"),
)


def retired_slot(n: int) -> tuple[int, int]:
    """Key reference and object tag of retired key management key `n` (1 to 20)."""
    return KeyRef.RETIRED_1 + n - 1, ObjectTag.RETIRED_CERT_1 + n - 1


class AptTag(enum.IntEnum):
    """The application property template SELECT answers (Part 2 Table 3)."""

    TEMPLATE = 0x61
    AID = 0x4F
    TAG_ALLOCATION_AUTHORITY = 0x79
    LABEL = 0x50
    URL = 0x5F50
    ALGORITHMS = 0xAC
    ALGORITHM = 0x80
    OID = 0x06


class ChuidTag(enum.IntEnum):
    """Inside the CHUID (Part 1 Table 9)."""

    BUFFER_LENGTH = 0xEE
    FASC_N = 0x30
    ORGANIZATIONAL_IDENTIFIER = 0x32
    DUNS = 0x33
    GUID = 0x34
    EXPIRATION_DATE = 0x35
    CARDHOLDER_UUID = 0x36
    SIGNATURE = 0x3E
    ERROR_DETECTION = 0xFE


class CertTag(enum.IntEnum):
    """Inside an X.509 certificate object (Part 1 Table 10 and the others like it)."""

    CERTIFICATE = 0x70
    CERT_INFO = 0x71
    MSCUID = 0x72
    ERROR_DETECTION = 0xFE


#: CertInfo's bit 0: the certificate is gzip-compressed (Part 1 §3.3.1, Table 10 note).
CERT_INFO_COMPRESSED = 0x01


class HistoryTag(enum.IntEnum):
    """Inside the key history object (Part 1 Table 19)."""

    ON_CARD_CERTS = 0xC1
    OFF_CARD_CERTS = 0xC2
    OFF_CARD_URL = 0xF3
    ERROR_DETECTION = 0xFE


class DiscoveryTag(enum.IntEnum):
    """Inside the discovery object (Part 1 Table 18)."""

    AID = 0x4F
    PIN_USAGE_POLICY = 0x5F2F


class PinPolicy(enum.IntFlag):
    """The first byte of the PIN usage policy (Part 1 §3.3.2)."""

    PIV_PIN = 0x40  # the PIV Card Application PIN satisfies the access rules (always set)
    GLOBAL_PIN = 0x20
    OCC = 0x10  # on-card biometric comparison
    VCI = 0x08  # the virtual contact interface is implemented
    VCI_WITHOUT_PAIRING = 0x04


class PrimaryPin(enum.IntEnum):
    """The second byte of the PIN usage policy, meaningful when both PINs satisfy the rules."""

    PIV_PIN = 0x10
    GLOBAL_PIN = 0x20


class CccTag(enum.IntEnum):
    """Inside the card capability container (Part 1 Table 8)."""

    CARD_IDENTIFIER = 0xF0
    CONTAINER_VERSION = 0xF1
    GRAMMAR_VERSION = 0xF2
    APPLICATIONS_CARD_URL = 0xF3
    PKCS15 = 0xF4
    DATA_MODEL = 0xF5
    ACCESS_CONTROL_RULE_TABLE = 0xF6
    CARD_APDUS = 0xF7
    REDIRECTION = 0xFA
    CAPABILITY_TUPLES = 0xFB
    STATUS_TUPLES = 0xFC
    NEXT_CCC = 0xFD
    EXTENDED_APPLICATION_CARD_URL = 0xE3
    SECURITY_OBJECT_BUFFER = 0xE4
    ERROR_DETECTION = 0xFE


class PrintedTag(enum.IntEnum):
    """Inside the printed information (Part 1 Table 15)."""

    NAME = 0x01
    EMPLOYEE_AFFILIATION = 0x02
    EXPIRATION_DATE = 0x04
    AGENCY_CARD_SERIAL = 0x05
    ISSUER = 0x06
    ORGANIZATION_LINE_1 = 0x07
    ORGANIZATION_LINE_2 = 0x08
    ERROR_DETECTION = 0xFE


class SecurityObjectTag(enum.IntEnum):
    """Inside the security object (Part 1 Table 12)."""

    MAPPING = 0xBA
    SECURITY_OBJECT = 0xBB
    ERROR_DETECTION = 0xFE


class Algorithm(enum.IntEnum):
    """Algorithm identifiers (SP 800-78-4 Table 6-2, and Table 6-3 for the cipher suites)."""

    TDEA_3KEY_ECB_DEPRECATED = 0x00
    TDEA_3KEY_ECB = 0x03
    RSA_1024 = 0x06
    RSA_2048 = 0x07
    AES_128_ECB = 0x08
    AES_192_ECB = 0x0A
    AES_256_ECB = 0x0C
    ECC_P256 = 0x11
    ECC_P384 = 0x14
    CS2_SECURE_MESSAGING_P256 = 0x27
    CS7_SECURE_MESSAGING_P384 = 0x2E


ALGORITHM_TEXT = {
    Algorithm.TDEA_3KEY_ECB_DEPRECATED: "3-key Triple DES, ECB (identifier 00, deprecated)",
    Algorithm.TDEA_3KEY_ECB: "3-key Triple DES, ECB",
    Algorithm.RSA_1024: "RSA 1024",
    Algorithm.RSA_2048: "RSA 2048",
    Algorithm.AES_128_ECB: "AES-128, ECB",
    Algorithm.AES_192_ECB: "AES-192, ECB",
    Algorithm.AES_256_ECB: "AES-256, ECB",
    Algorithm.ECC_P256: "ECC curve P-256",
    Algorithm.ECC_P384: "ECC curve P-384",
    Algorithm.CS2_SECURE_MESSAGING_P256: "cipher suite 2: secure messaging with ECC P-256 and AES-128",
    Algorithm.CS7_SECURE_MESSAGING_P384: "cipher suite 7: secure messaging with ECC P-384 and AES-256",
}


def algorithm_text(value: int) -> str:
    try:
        return ALGORITHM_TEXT[Algorithm(value)]
    except ValueError:
        return "not an SP 800-78-4 identifier"
