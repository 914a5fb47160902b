"""eMRTD numbers, named (ICAO Doc 9303 Part 10: the LDS 1.7 files and tags; Part 11: the
application, PACE object identifiers)."""

from __future__ import annotations

import enum

#: The LDS1 eMRTD application (9303-10 3.1.1).
AID_MRTD = bytes.fromhex("A0000002471001")


class Ins(enum.IntEnum):
    SELECT = 0xA4
    READ_BINARY = 0xB0
    GET_CHALLENGE = 0x84
    EXTERNAL_AUTHENTICATE = 0x82


class Fid(enum.IntEnum):
    """Short file identifiers as SELECT by FID takes them (9303-10 table 38 and 4.6)."""

    CARD_ACCESS = 0x011C  # in the MF, readable without access control
    COM = 0x011E
    DG1 = 0x0101
    DG2 = 0x0102
    DG11 = 0x010B
    DG12 = 0x010C
    SOD = 0x011D


class Tag(enum.IntEnum):
    """Templates and data elements of the LDS (9303-10 4.6 and 4.7)."""

    COM = 0x60
    LDS_VERSION = 0x5F01
    UNICODE_VERSION = 0x5F36
    TAG_LIST = 0x5C
    DG1 = 0x61
    MRZ = 0x5F1F
    DG2 = 0x75
    BIOMETRIC_GROUP = 0x7F61
    BIOMETRIC_COUNT = 0x02
    BIOMETRIC_TEMPLATE = 0x7F60
    BIOMETRIC_HEADER = 0xA1
    BIOMETRIC_DATA = 0x5F2E
    BIOMETRIC_DATA_ENCIPHERED = 0x7F2E
    DG11 = 0x6B
    DG12 = 0x6C
    SOD = 0x77
    OTHER_NAMES = 0xA0  # DG11 and DG12: a count (02) then the repeated element


#: Data group number -> (template tag, name, what it holds), for EF.COM's tag list and the SOD.
DATA_GROUPS: dict[int, tuple[int, str]] = {
    1: (0x61, "MRZ data"),
    2: (0x75, "encoded face"),
    3: (0x63, "encoded fingerprints"),
    4: (0x76, "encoded irises"),
    5: (0x65, "displayed portrait"),
    6: (0x66, "reserved for future use"),
    7: (0x67, "displayed signature or usual mark"),
    8: (0x68, "data features"),
    9: (0x69, "structure features"),
    10: (0x6A, "substance features"),
    11: (0x6B, "additional personal details"),
    12: (0x6C, "additional document details"),
    13: (0x6D, "optional details"),
    14: (0x6E, "security options (EAC, PACE, active authentication)"),
    15: (0x6F, "active authentication public key"),
    16: (0x70, "persons to notify"),
}
DG_BY_TAG = {tag: number for number, (tag, _) in DATA_GROUPS.items()}


class Header(enum.IntEnum):
    """The biometric header template A1 (ISO/IEC 7816-11 as 9303-10 4.7.2.1 uses it)."""

    VERSION = 0x80
    TYPE = 0x81
    SUBTYPE = 0x82
    CREATION = 0x83
    VALIDITY = 0x85
    CREATOR = 0x86
    FORMAT_OWNER = 0x87
    FORMAT_TYPE = 0x88


#: DG11 (9303-10 4.7.11) and DG12 (4.7.12) data elements: tag -> name.
DG11_ELEMENTS = {
    0x5F0E: "Full name", 0x5F0F: "Other name", 0x5F10: "Personal number",
    0x5F2B: "Full date of birth", 0x5F11: "Place of birth", 0x5F42: "Permanent address",
    0x5F12: "Telephone", 0x5F13: "Profession", 0x5F14: "Title", 0x5F15: "Personal summary",
    0x5F16: "Proof of citizenship", 0x5F17: "Other valid travel document numbers",
    0x5F18: "Custody information",
}
DG12_ELEMENTS = {
    0x5F19: "Issuing authority", 0x5F26: "Date of issue", 0x5F1A: "Name of other person",
    0x5F1B: "Endorsements and observations", 0x5F1C: "Tax or exit requirements",
    0x5F1D: "Image of the front", 0x5F1E: "Image of the rear",
    0x5F55: "Date and time of personalization", 0x5F56: "Personalization system serial number",
}
#: Elements that are images (shown as a size, not as text).
IMAGE_ELEMENTS = {0x5F16, 0x5F1D, 0x5F1E}

#: PACE protocol OIDs under id-PACE 0.4.0.127.0.7.2.2.4 (9303-11 9.2.1, BSI TR-03110-3 A.1.1).
ID_PACE = "0.4.0.127.0.7.2.2.4"
PACE_MAPPINGS = {"1": "DH, generic mapping", "2": "ECDH, generic mapping",
                 "3": "DH, integrated mapping", "4": "ECDH, integrated mapping",
                 "6": "ECDH, chip authentication mapping"}
PACE_CIPHERS = {"1": "3DES-CBC-CBC", "2": "AES-CBC-CMAC-128", "3": "AES-CBC-CMAC-192",
                "4": "AES-CBC-CMAC-256"}
#: Standardized domain parameters (9303-11 9.5.1).
PACE_PARAMETERS = {
    0: "1024-bit MODP group with 160-bit prime order subgroup",
    1: "2048-bit MODP group with 224-bit prime order subgroup",
    2: "2048-bit MODP group with 256-bit prime order subgroup",
    8: "NIST P-192", 9: "BrainpoolP192r1", 10: "NIST P-224", 11: "BrainpoolP224r1",
    12: "NIST P-256", 13: "BrainpoolP256r1", 14: "BrainpoolP320r1", 15: "NIST P-384",
    16: "BrainpoolP384r1", 17: "BrainpoolP512r1", 18: "NIST P-521",
}
#: Other SecurityInfos EF.CardAccess may hold (BSI TR-03110-3 A.1.1).
SECURITY_INFO_NAMES = {
    "0.4.0.127.0.7.2.2.3": "Chip Authentication", "0.4.0.127.0.7.2.2.1": "Chip Authentication public key",
    "0.4.0.127.0.7.2.2.2": "Terminal Authentication", "0.4.0.127.0.7.2.2.6": "Card info locator",
    "2.23.136.1.1.5": "Active Authentication",
}


class Sw(enum.IntEnum):
    OK = 0x9000
    END_REACHED = 0x6282
    SECURITY = 0x6982
    NOT_FOUND = 0x6A82
