"""Named values of ISO/IEC 7816-4 (2013/2020 editions) that the file-system analyzer reads:
instructions, status words, FCP tags, file descriptor and life cycle bytes, security attributes,
and the file identifiers worth trying on any card."""

from __future__ import annotations

import enum


class Ins(enum.IntEnum):
    """The only instructions this analyzer sends: none of them changes a card."""

    SELECT = 0xA4
    READ_BINARY = 0xB0
    READ_RECORD = 0xB2
    GET_DATA = 0xCA


class Sw(enum.IntEnum):
    OK = 0x9000
    END_REACHED = 0x6282  # end of file or record reached before Ne bytes
    DEACTIVATED = 0x6283  # selected file deactivated
    WRONG_LENGTH = 0x6700
    INCOMPATIBLE = 0x6981  # command incompatible with file structure
    SECURITY = 0x6982  # security status not satisfied
    BLOCKED = 0x6983  # authentication method blocked
    CONDITIONS = 0x6985  # conditions of use not satisfied
    NOT_ALLOWED = 0x6986  # command not allowed (no current EF)
    FUNCTION = 0x6A81  # function not supported
    NOT_FOUND = 0x6A82  # file or application not found
    RECORD_NOT_FOUND = 0x6A83
    WRONG_P1P2 = 0x6A86
    OFFSET = 0x6B00  # wrong parameters: offset outside the EF
    INS_UNKNOWN = 0x6D00
    CLA_UNKNOWN = 0x6E00


#: Status words that say "the file is there, but you may not do this": reported with the file's
#: access conditions, never answered with a VERIFY (which would spend a try).
REFUSALS = frozenset({Sw.SECURITY, Sw.BLOCKED, Sw.CONDITIONS, Sw.NOT_ALLOWED})


class Template(enum.IntEnum):
    FCP = 0x62  # file control parameters
    FMD = 0x64  # file management data
    FCI = 0x6F  # file control information: FCP and FMD together


class FcpTag(enum.IntEnum):
    """Data objects of a control parameter template (ISO/IEC 7816-4 Table 12)."""

    DATA_SIZE = 0x80  # bytes of data, structural information excluded
    TOTAL_SIZE = 0x81  # bytes of data, structural information included
    DESCRIPTOR = 0x82  # file descriptor byte, data coding byte, record size, record count
    FID = 0x83
    DF_NAME = 0x84
    PROPRIETARY = 0x85
    SECURITY_PROPRIETARY = 0x86
    FCI_EXTENSION = 0x87  # FID of an EF holding an FCI extension
    SFI = 0x88
    LIFE_CYCLE = 0x8A
    SECURITY_REFERENCED = 0x8B  # expanded form, rules in EF.ARR
    SECURITY_COMPACT = 0x8C
    SE_EF = 0x8D  # FID of an EF holding security environment templates
    CHANNEL_SECURITY = 0x8E
    SECURITY_DATA_OBJECTS = 0xA0  # security attribute template for data objects
    SECURITY_INTERFACES = 0xA1  # security attribute template for physical interfaces
    PROPRIETARY_TEMPLATE = 0xA5
    SECURITY_EXPANDED = 0xAB
    CRYPTO_MECHANISMS = 0xAC


class FileType(enum.Enum):
    """Bits 6-1 of the file descriptor byte (ISO/IEC 7816-4 Table 14)."""

    NO_INFORMATION = "working EF, no structure information"
    TRANSPARENT = "transparent EF"
    LINEAR_FIXED = "linear fixed EF"
    LINEAR_FIXED_TLV = "linear fixed EF, SIMPLE-TLV records"
    LINEAR_VARIABLE = "linear variable EF"
    LINEAR_VARIABLE_TLV = "linear variable EF, SIMPLE-TLV records"
    CYCLIC = "cyclic EF"
    CYCLIC_TLV = "cyclic EF, SIMPLE-TLV records"
    DF = "DF"
    BER_TLV = "BER-TLV EF"
    SIMPLE_TLV = "SIMPLE-TLV EF"
    PROPRIETARY = "proprietary EF type"
    RFU = "reserved for future use"

    @property
    def records(self) -> bool:
        return self in _RECORD_TYPES

    @property
    def transparent(self) -> bool:
        return self is FileType.TRANSPARENT


_RECORD_TYPES = frozenset({FileType.LINEAR_FIXED, FileType.LINEAR_FIXED_TLV, FileType.LINEAR_VARIABLE,
                           FileType.LINEAR_VARIABLE_TLV, FileType.CYCLIC, FileType.CYCLIC_TLV})

#: Bits 3-1 of a working or internal EF's descriptor byte.
EF_STRUCTURES: dict[int, FileType] = {
    0b000: FileType.NO_INFORMATION, 0b001: FileType.TRANSPARENT, 0b010: FileType.LINEAR_FIXED,
    0b011: FileType.LINEAR_FIXED_TLV, 0b100: FileType.LINEAR_VARIABLE, 0b101: FileType.LINEAR_VARIABLE_TLV,
    0b110: FileType.CYCLIC, 0b111: FileType.CYCLIC_TLV,
}
#: Bits 6-1 that are not a working/internal EF: a DF, and the two TLV-structured EFs of the 2013 edition.
SPECIAL_DESCRIPTORS: dict[int, FileType] = {
    0x38: FileType.DF, 0x39: FileType.BER_TLV, 0x3A: FileType.SIMPLE_TLV,
}


class LifeCycle(enum.Enum):
    """The life cycle status byte, tag 8A (ISO/IEC 7816-4 Table 15)."""

    NO_INFORMATION = "no information given"
    CREATION = "creation state"
    INITIALISATION = "initialisation state"
    ACTIVATED = "operational state (activated)"
    DEACTIVATED = "operational state (deactivated)"
    TERMINATED = "termination state"
    PROPRIETARY = "proprietary"
    RFU = "reserved for future use"


def life_cycle(value: int) -> LifeCycle:
    if value == 0x00:
        return LifeCycle.NO_INFORMATION
    if value == 0x01:
        return LifeCycle.CREATION
    if value == 0x03:
        return LifeCycle.INITIALISATION
    if value & 0xFD == 0x05:  # 0000 01x1
        return LifeCycle.ACTIVATED
    if value & 0xFD == 0x04:  # 0000 01x0
        return LifeCycle.DEACTIVATED
    if value & 0xFC == 0x0C:  # 0000 11xx
        return LifeCycle.TERMINATED
    return LifeCycle.PROPRIETARY if value >= 0x10 else LifeCycle.RFU


#: Access mode byte, bits 7 to 1, for an EF (ISO/IEC 7816-4 Table 17); the security condition
#: bytes follow in this order, one per bit set.
EF_ACCESS_MODES: tuple[tuple[int, str], ...] = (
    (0x40, "DELETE FILE"), (0x20, "TERMINATE EF"), (0x10, "ACTIVATE FILE"), (0x08, "DEACTIVATE FILE"),
    (0x04, "WRITE"), (0x02, "UPDATE"), (0x01, "READ"),
)
#: The same bits for a DF (Table 16).
DF_ACCESS_MODES: tuple[tuple[int, str], ...] = (
    (0x40, "DELETE FILE (self)"), (0x20, "TERMINATE DF"), (0x10, "ACTIVATE FILE"),
    (0x08, "DEACTIVATE FILE"), (0x04, "CREATE FILE (DF)"), (0x02, "CREATE FILE (EF)"),
    (0x01, "DELETE FILE (child)"),
)
#: And for a data object (Table 18).
DO_ACCESS_MODES: tuple[tuple[int, str], ...] = (
    (0x04, "MANAGE SECURITY ENVIRONMENT"), (0x02, "PUT DATA"), (0x01, "GET DATA"),
)


class ScByte(enum.IntFlag):
    """A security condition byte of the compact form (ISO/IEC 7816-4 Table 20); 00 is "always",
    FF "never"; bits 4-1 give the security environment number."""

    ALL_CONDITIONS = 0x80  # else at least one of them
    SECURE_MESSAGING = 0x40
    EXTERNAL_AUTHENTICATION = 0x20
    USER_AUTHENTICATION = 0x10  # a PIN or a password


class ExpandedTag(enum.IntEnum):
    """Security condition data objects of the expanded form (ISO/IEC 7816-4 Table 21)."""

    ACCESS_MODE = 0x80  # the AM byte; 81-8F are command descriptions
    ALWAYS = 0x90
    NEVER = 0x97
    SC_BYTE = 0x9E
    AUTHENTICATION = 0xA4  # control reference template AT
    OR = 0xA0
    NOT = 0xA7
    AND = 0xAF
    CHECKSUM = 0xB4  # CRT CCT: secure messaging with a cryptographic checksum
    SIGNATURE = 0xB6  # CRT DST
    CONFIDENTIALITY = 0xB8  # CRT CT: secure messaging with encipherment


#: File identifiers worth a SELECT under the MF of any card: each is reserved or widely used
#: (ISO/IEC 7816-4 7.1.1 and Annex, ETSI TS 102 221 13.x, ISO/IEC 7816-15, GSM 11.11).
KNOWN_MF_FIDS: dict[int, str] = {
    0x2F00: "EF.DIR (applications, ISO/IEC 7816-4)",
    0x2F01: "EF.ATR / EF.INFO (ISO/IEC 7816-4)",
    0x2F02: "EF.GDO (general data objects: ICC serial number)",
    0x2F05: "EF.PL (preferred languages, ETSI TS 102 221)",
    0x2F06: "EF.ARR (access rule references, ETSI TS 102 221)",
    0x2FE2: "EF.ICCID (ETSI TS 102 221, GSM 11.11)",
    0x5015: "DF.PKCS15 (ISO/IEC 7816-15)",
    0x7F10: "DF.TELECOM (GSM 11.11, ETSI TS 102 221)",
    0x7F20: "DF.GSM (GSM 11.11)",
}
#: File identifiers worth a SELECT in an application DF (ISO/IEC 7816-15 / PKCS #15).
KNOWN_DF_FIDS: dict[int, str] = {
    0x5031: "EF.ODF (object directory, ISO/IEC 7816-15)",
    0x5032: "EF.TokenInfo (ISO/IEC 7816-15)",
    0x5033: "EF.UnusedSpace (ISO/IEC 7816-15)",
    0x2F06: "EF.ARR (access rule references)",
}
MF_FID = 0x3F00
EF_DIR = 0x2F00
EF_ARR = 0x2F06
EF_ATR = 0x2F01
#: 3FFF means "the current DF" in a path, FFFF is reserved: never a file.
RESERVED_FIDS = frozenset({0x3FFF, 0xFFFF})
