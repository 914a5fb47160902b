"""EMV numbers, named (EMV 4.4 Book 1 for selection, Book 3 for commands, data objects and
their bit maps). Bit tables are (byte index from 0, bit mask, meaning)."""

from __future__ import annotations

import enum


class Cla(enum.IntEnum):
    ISO = 0x00
    EMV = 0x80  # GET PROCESSING OPTIONS and GET DATA (Book 3 6.5)


class Ins(enum.IntEnum):
    SELECT = 0xA4
    READ_RECORD = 0xB2
    GET_DATA = 0xCA
    GET_PROCESSING_OPTIONS = 0xA8


class Tag(enum.IntEnum):
    FCI = 0x6F
    DF_NAME = 0x84
    FCI_PROPRIETARY = 0xA5
    FCI_ISSUER_DISCRETIONARY = 0xBF0C
    APPLICATION_TEMPLATE = 0x61
    ADF_NAME = 0x4F
    APPLICATION_LABEL = 0x50
    PREFERRED_NAME = 0x9F12
    PRIORITY = 0x87
    KERNEL_IDENTIFIER = 0x9F2A
    SFI = 0x88
    LANGUAGE = 0x5F2D
    CODE_TABLE = 0x9F11
    PDOL = 0x9F38
    LOG_ENTRY = 0x9F4D
    RECORD = 0x70
    DIRECTORY_DISCRETIONARY = 0x73
    COMMAND_TEMPLATE = 0x83
    RESPONSE_FORMAT_1 = 0x80
    RESPONSE_FORMAT_2 = 0x77
    AIP = 0x82
    AFL = 0x94
    PAN = 0x5A
    TRACK2 = 0x57
    TRACK1 = 0x56
    TRACK2_DATA = 0x9F6B
    TRACK1_DISCRETIONARY = 0x9F1F
    TRACK2_DISCRETIONARY = 0x9F20
    CARDHOLDER_NAME = 0x5F20
    CARDHOLDER_NAME_EXTENDED = 0x9F0B
    EXPIRY = 0x5F24
    EFFECTIVE = 0x5F25
    ISSUER_COUNTRY = 0x5F28
    SERVICE_CODE = 0x5F30
    PAN_SEQUENCE = 0x5F34
    CDOL1 = 0x8C
    CDOL2 = 0x8D
    CVM_LIST = 0x8E
    CA_KEY_INDEX = 0x8F
    AUC = 0x9F07
    APP_VERSION = 0x9F08
    IAC_DEFAULT = 0x9F0D
    IAC_DENIAL = 0x9F0E
    IAC_ONLINE = 0x9F0F
    APP_CURRENCY = 0x9F42
    APP_CURRENCY_EXPONENT = 0x9F44
    ATC = 0x9F36
    LAST_ONLINE_ATC = 0x9F13
    PIN_TRY_COUNTER = 0x9F17
    LOG_FORMAT = 0x9F4F
    DDOL = 0x9F49
    SDA_TAG_LIST = 0x9F4A
    TRANSACTION_DATE = 0x9A
    TRANSACTION_TIME = 0x9F21
    AMOUNT = 0x9F02
    AMOUNT_OTHER = 0x9F03
    TRANSACTION_CURRENCY = 0x5F2A
    TERMINAL_COUNTRY = 0x9F1A
    TRANSACTION_TYPE = 0x9C
    UNPREDICTABLE_NUMBER = 0x9F37
    TTQ = 0x9F66
    MERCHANT_NAME = 0x9F4E
    CID = 0x9F27


#: Names in an EMV context, where the context-specific tags (82, 8C-8F, 94) have one meaning.
#: Tags not here are named by explorer.core.tlv_tags.
EMV_NAMES: dict[int, str] = {
    0x82: "application interchange profile (AIP)", 0x8C: "CDOL1", 0x8D: "CDOL2", 0x8E: "CVM list",
    0x8F: "certification authority public key index", 0x94: "application file locator (AFL)",
    0x87: "application priority indicator", 0x88: "SFI of the directory elementary file",
    0x8A: "authorisation response code",
    0x84: "DF name", 0x9F2A: "kernel identifier", 0x9F6B: "track 2 data", 0x56: "track 1 data",
    0x9F20: "track 2 discretionary data", 0x9F5D: "available offline spending amount",
    0x9F6E: "form factor indicator / third party data",
    0x9F0A: "application selection registered proprietary data",
    0x9F0C: "issuer identification number extended", 0x5F2D: "language preference",
    0x9F45: "data authentication code", 0x9F69: "card authentication related data",
}

#: Data objects whose values identify a cardholder: masked unless revealed (issue 15).
SENSITIVE_TAGS = frozenset({Tag.PAN, Tag.TRACK2, Tag.TRACK1, Tag.TRACK2_DATA, Tag.TRACK1_DISCRETIONARY,
                            Tag.TRACK2_DISCRETIONARY, Tag.CARDHOLDER_NAME, Tag.CARDHOLDER_NAME_EXTENDED})

#: Payment System Environment (contact, Book 1 12.2) and Proximity PSE (contactless, Book B).
PSE = b"1PAY.SYS.DDF01"
PPSE = b"2PAY.SYS.DDF01"

#: Known AIDs tried when neither PSE nor PPSE lists applications (Book 1 12.3.3, "list of AIDs"):
#: the registered AIDs of the main schemes' debit/credit applications.
KNOWN_AIDS: tuple[tuple[str, str], ...] = (
    ("A0000000031010", "Visa credit or debit"), ("A0000000032010", "Visa Electron"),
    ("A0000000033010", "Visa Interlink"), ("A0000000038010", "Visa Plus"),
    ("A0000000041010", "Mastercard credit or debit"), ("A0000000043060", "Maestro"),
    ("A0000000046000", "Cirrus"), ("A00000002501", "American Express"),
    ("A0000000421010", "CB (Cartes Bancaires)"), ("A0000000651010", "JCB"),
    ("A0000001523010", "Discover"), ("A000000333010101", "UnionPay debit"),
    ("A000000333010102", "UnionPay credit"), ("A0000002771010", "Interac"),
)

#: Records read per SFI when there is no AFL (no GPO was sent): EMV keeps SFIs 1-10 for the
#: application's elementary files (Book 3's file referencing); the bound keeps a probe short.
PROBE_SFIS = range(1, 11)
PROBE_RECORDS = 16

#: Application Interchange Profile (EMV 4.4 Book 3 Annex C1; byte 2 from EMV Contactless Book
#: C-2, where the contactless kernels use it).
AIP_BITS: tuple[tuple[int, int, str], ...] = (
    (0, 0x80, "XDA supported (extended data authentication, EMV 4.4)"),
    (0, 0x40, "SDA supported (static data authentication)"),
    (0, 0x20, "DDA supported (dynamic data authentication)"),
    (0, 0x10, "cardholder verification is supported"),
    (0, 0x08, "terminal risk management is to be performed"),
    (0, 0x04, "issuer authentication is supported"),
    (0, 0x02, "on-device cardholder verification is supported"),
    (0, 0x01, "CDA supported (combined DDA / application cryptogram generation)"),
    (1, 0x80, "contactless: EMV mode is supported"),
    (1, 0x40, "contactless: mobile phone"),
    (1, 0x20, "contactless: contactless transaction"),
    (1, 0x01, "contactless: relay resistance protocol is supported"),
)

#: Application Usage Control (EMV 4.4 Book 3 Annex C2).
AUC_BITS: tuple[tuple[int, int, str], ...] = (
    (0, 0x80, "valid for domestic cash transactions"),
    (0, 0x40, "valid for international cash transactions"),
    (0, 0x20, "valid for domestic goods"),
    (0, 0x10, "valid for international goods"),
    (0, 0x08, "valid for domestic services"),
    (0, 0x04, "valid for international services"),
    (0, 0x02, "valid at ATMs"),
    (0, 0x01, "valid at terminals other than ATMs"),
    (1, 0x80, "domestic cashback allowed"),
    (1, 0x40, "international cashback allowed"),
)

#: Terminal Verification Results (EMV 4.4 Book 3 Annex C5): the layout of the Issuer Action
#: Codes, which say which TVR bits make the terminal deny, go online, or decline by default.
TVR_BITS: tuple[tuple[int, int, str], ...] = (
    (0, 0x80, "offline data authentication was not performed"), (0, 0x40, "SDA failed"),
    (0, 0x20, "ICC data missing"), (0, 0x10, "card appears on terminal exception file"),
    (0, 0x08, "DDA failed"), (0, 0x04, "CDA failed"), (0, 0x02, "SDA selected"), (0, 0x01, "XDA selected"),
    (1, 0x80, "ICC and terminal have different application versions"), (1, 0x40, "expired application"),
    (1, 0x20, "application not yet effective"), (1, 0x10, "requested service not allowed for card product"),
    (1, 0x08, "new card"), (1, 0x02, "biometric performed and successful"),
    (1, 0x01, "biometric template format not supported"),
    (2, 0x80, "cardholder verification was not successful"), (2, 0x40, "unrecognised CVM"),
    (2, 0x20, "PIN try limit exceeded"),
    (2, 0x10, "PIN entry required and PIN pad not present or not working"),
    (2, 0x08, "PIN entry required, PIN pad present, but PIN was not entered"),
    (2, 0x04, "online CVM captured (before EMV 4.4: online PIN entered)"),
    (2, 0x02, "biometric required but the capture device is not working"),
    (2, 0x01, "biometric required, capture device present, but the biometric subtype entry was bypassed"),
    (3, 0x80, "transaction exceeds floor limit"), (3, 0x40, "lower consecutive offline limit exceeded"),
    (3, 0x20, "upper consecutive offline limit exceeded"),
    (3, 0x10, "transaction selected randomly for online processing"),
    (3, 0x08, "merchant forced transaction online"), (3, 0x04, "biometric try limit exceeded"),
    (3, 0x02, "a selected biometric type not supported"), (3, 0x01, "XDA signature verification failed"),
    (4, 0x80, "default TDOL used"), (4, 0x40, "issuer authentication failed"),
    (4, 0x20, "script processing failed before final GENERATE AC"),
    (4, 0x10, "script processing failed after final GENERATE AC"),
    (4, 0x08, "reserved for the EMV contactless specifications"), (4, 0x04, "CA ECC key missing"),
    (4, 0x02, "ECC key recovery failed"), (4, 0x01, "reserved for the EMV contactless specifications"),
)


class CvmMethod(enum.IntEnum):
    """CV rule byte 1, b6-b1 (EMV 4.4 Book 3 Annex C3)."""

    FAIL = 0x00
    PLAINTEXT_PIN_ICC = 0x01
    ENCIPHERED_PIN_ONLINE = 0x02
    PLAINTEXT_PIN_ICC_AND_SIGNATURE = 0x03
    ENCIPHERED_PIN_ICC = 0x04
    ENCIPHERED_PIN_ICC_AND_SIGNATURE = 0x05
    SIGNATURE = 0x1E
    NO_CVM = 0x1F


CVM_METHOD_TEXT: dict[int, str] = {
    CvmMethod.FAIL: "fail CVM processing",
    CvmMethod.PLAINTEXT_PIN_ICC: "plaintext PIN verified by the ICC",
    CvmMethod.ENCIPHERED_PIN_ONLINE: "enciphered PIN verified online",
    CvmMethod.PLAINTEXT_PIN_ICC_AND_SIGNATURE: "plaintext PIN verified by the ICC, and signature (paper)",
    CvmMethod.ENCIPHERED_PIN_ICC: "enciphered PIN verified by the ICC",
    CvmMethod.ENCIPHERED_PIN_ICC_AND_SIGNATURE: "enciphered PIN verified by the ICC, and signature (paper)",
    # EMV 4.4 biometrics: 06-0F, facial, finger, palm, iris, voice; offline (by the ICC), then online.
    **{0x06 + 2 * i + online: f"{kind} biometric verified {'online' if online else 'offline (by the ICC)'}"
       for i, kind in enumerate(("facial", "finger", "palm", "iris", "voice")) for online in (0, 1)},
    CvmMethod.SIGNATURE: "signature (paper)",
    CvmMethod.NO_CVM: "no CVM required",
}

#: CV rule byte 1, b7: what happens when this CVM fails.
CVM_APPLY_NEXT = 0x40

#: CV rule byte 2, the condition (EMV 4.4 Book 3 Annex C3).
CVM_CONDITIONS: dict[int, str] = {
    0x00: "always",
    0x01: "if unattended cash",
    0x02: "if not unattended cash and not manual cash and not purchase with cashback",
    0x03: "if the terminal supports the CVM",
    0x04: "if manual cash",
    0x05: "if purchase with cashback",
    0x06: "if the transaction is in the application currency and under X",
    0x07: "if the transaction is in the application currency and over X",
    0x08: "if the transaction is in the application currency and under Y",
    0x09: "if the transaction is in the application currency and over Y",
}


class Sw(enum.IntEnum):
    OK = 0x9000
    NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    CONDITIONS = 0x6985
    WRONG_LENGTH_BASE = 0x6C00
