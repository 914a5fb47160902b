"""The tables an ATR is read with: ISO/IEC 7816-3 (clock rate, baud rate,
clock stop, classes), ISO/IEC 7816-4 (compact-TLV tags, life cycle status,
software function tables) and the PC/SC part 3 storage-card names.

Kept apart from the decoders so that a table can be checked against the
standard at a glance, line by line.
"""

from __future__ import annotations

from typing import Final

RFU: Final = "RFU"

# FI -> (Fi, fmax in MHz); 7816-3:2006 table 7.
FI_TABLE: Final[dict[int, tuple[int, float]]] = {
    0x0: (372, 4),
    0x1: (372, 5),
    0x2: (558, 6),
    0x3: (744, 8),
    0x4: (1116, 12),
    0x5: (1488, 16),
    0x6: (1860, 20),
    0x9: (512, 5),
    0xA: (768, 7.5),
    0xB: (1024, 10),
    0xC: (1536, 15),
    0xD: (2048, 20),
}

# DI -> Di; 7816-3:2006 table 8.
DI_TABLE: Final[dict[int, int]] = {
    0x1: 1, 0x2: 2, 0x3: 4, 0x4: 8, 0x5: 16, 0x6: 32, 0x7: 64, 0x8: 12, 0x9: 20,
}

# Defaults when TA1 is absent: Fd, Dd, and fmax for FI = 1.
FD, DD, FMAX_DEFAULT = 372, 1, 5

PROTOCOL_NAMES: Final[dict[int, str]] = {
    0: "T=0, half-duplex character protocol",
    1: "T=1, half-duplex block protocol",
    2: "T=2, reserved for full-duplex operation",
    3: "T=3, reserved for full-duplex operation",
    4: "T=4, reserved for enhanced half-duplex character transmission",
    14: "T=14, not standardised by ISO/IEC JTC 1/SC 17 (proprietary)",
    15: "T=15, not a protocol: global interface bytes follow",
}


def protocol_name(t: int) -> str:
    return PROTOCOL_NAMES.get(t, f"T={t}, reserved for future use")


# T=15 first TA, bits 8-7: clock stop indicator X.
CLOCK_STOP: Final[dict[int, str]] = {
    0b00: "clock stop not supported",
    0b01: "clock stop supported in state L (low)",
    0b10: "clock stop supported in state H (high)",
    0b11: "clock stop supported, no preference for state L or H",
}

# T=15 first TA, bits 6-1: class indicator Y, one bit per class.
CLASSES: Final[tuple[tuple[int, str], ...]] = (
    (0x01, "A (5 V)"),
    (0x02, "B (3 V)"),
    (0x04, "C (1.8 V)"),
)

# Compact-TLV tag number -> name; 7816-4 (historical bytes, 8.1.1.2).
COMPACT_TAGS: Final[dict[int, str]] = {
    0x1: "country code and national data",
    0x2: "issuer identification number",
    0x3: "card service data",
    0x4: "initial access data",
    0x5: "card issuer's data",
    0x6: "pre-issuing data",
    0x7: "card capabilities",
    0x8: "status indicator",
    0xF: "application identifier",
}


def life_cycle(lcs: int) -> str:
    """Life cycle status byte, 7816-4 table 13."""
    if lcs == 0x00:
        return "no information given"
    if lcs == 0x01:
        return "creation state"
    if lcs == 0x03:
        return "initialisation state"
    if lcs in (0x05, 0x07):
        return "operational state (activated)"
    if lcs in (0x04, 0x06):
        return "operational state (deactivated)"
    if 0x0C <= lcs <= 0x0F:
        return "termination state"
    if lcs >= 0x10:
        return "proprietary"
    return "reserved for future use"


# (bit mask, meaning) for the bits that are simply on or off.
CARD_SERVICE_BITS: Final[tuple[tuple[int, str], ...]] = (
    (0x80, "application selection by full DF name"),
    (0x40, "application selection by partial DF name"),
    (0x20, "BER-TLV data objects available in EF.DIR"),
    (0x10, "BER-TLV data objects available in EF.ATR"),
)
# Card service data bits 4-2: how EF.DIR and EF.ATR are read.
EF_DIR_ACCESS: Final[dict[int, str]] = {
    0b100: "EF.DIR and EF.ATR read by READ BINARY",
    0b010: "EF.DIR and EF.ATR read by GET DATA",
    0b000: "EF.DIR and EF.ATR read by READ RECORD(S)",
}

SELECTION_METHODS: Final[tuple[tuple[int, str], ...]] = (
    (0x80, "DF selection by full DF name"),
    (0x40, "DF selection by partial DF name"),
    (0x20, "DF selection by path"),
    (0x10, "DF selection by file identifier"),
    (0x08, "implicit DF selection"),
    (0x04, "short EF identifier supported"),
    (0x02, "record number supported"),
    (0x01, "record identifier supported"),
)

WRITE_BEHAVIOUR: Final[dict[int, str]] = {
    0b00: "one-time write",
    0b01: "proprietary",
    0b10: "write OR",
    0b11: "write AND",
}

LOGICAL_CHANNEL_ASSIGNMENT: Final[dict[int, str]] = {
    0b00: "no logical channel",
    0b01: "logical channel numbers assigned by the interface device",
    0b10: "logical channel numbers assigned by the card",
    0b11: "logical channel numbers assigned by the interface device and by the card",
}

PCSC_RID: Final = bytes.fromhex("A000000306")

# PC/SC part 3 supplement: the standard byte SS.
PCSC_STANDARDS: Final[dict[int, str]] = {
    0x00: "no information given",
    0x01: "ISO/IEC 14443 A, part 1",
    0x02: "ISO/IEC 14443 A, part 2",
    0x03: "ISO/IEC 14443 A, part 3",
    0x05: "ISO/IEC 14443 B, part 1",
    0x06: "ISO/IEC 14443 B, part 2",
    0x07: "ISO/IEC 14443 B, part 3",
    0x09: "ISO/IEC 15693, part 1",
    0x0A: "ISO/IEC 15693, part 2",
    0x0B: "ISO/IEC 15693, part 3",
    0x0C: "ISO/IEC 15693, part 4",
    0x0D: "contact card, ISO/IEC 7816-10, I2C",
    0x0E: "contact card, ISO/IEC 7816-10, extended I2C",
    0x0F: "contact card, ISO/IEC 7816-10, 2WBP",
    0x10: "contact card, ISO/IEC 7816-10, 3WBP",
    0x11: "FeliCa",
    0x40: "low-frequency contactless card",
}

# PC/SC part 3 supplement: the card name NN NN.
PCSC_CARD_NAMES: Final[dict[int, str]] = {
    0x0000: "no information given",
    0x0001: "MIFARE Classic 1K",
    0x0002: "MIFARE Classic 4K",
    0x0003: "MIFARE Ultralight",
    0x0004: "SLE55R_XXXX",
    0x0006: "SR176",
    0x0007: "SRI X4K",
    0x0008: "AT88RF020",
    0x0009: "AT88SC0204CRF",
    0x000A: "AT88SC0808CRF",
    0x000B: "AT88SC1616CRF",
    0x000C: "AT88SC3216CRF",
    0x000D: "AT88SC6416CRF",
    0x000E: "SRF55V10P",
    0x000F: "SRF55V02P",
    0x0010: "SRF55V10S",
    0x0011: "SRF55V02S",
    0x0012: "TAG-IT",
    0x0013: "LRI512",
    0x0014: "ICODE SLI",
    0x0015: "TEMPSENS",
    0x0016: "I.CODE1",
    0x0017: "PicoPass 2K",
    0x0018: "PicoPass 2KS",
    0x0019: "PicoPass 16K",
    0x001A: "PicoPass 16KS",
    0x001B: "PicoPass 16K (8x2)",
    0x001C: "PicoPass 16KS (8x2)",
    0x001D: "PicoPass 32KS (16+16)",
    0x001E: "PicoPass 32KS (16+8x2)",
    0x001F: "PicoPass 32KS (8x2+16)",
    0x0020: "PicoPass 32KS (8x2+8x2)",
    0x0021: "LRI64",
    0x0022: "I.CODE UID",
    0x0023: "I.CODE EPC",
    0x0024: "LRI12",
    0x0025: "LRI128",
    0x0026: "MIFARE Mini",
    0x0027: "my-d move (SLE 66R01P)",
    0x0028: "my-d NFC (SLE 66RxxP)",
    0x0029: "my-d proximity 2 (SLE 66RxxS)",
    0x002A: "my-d proximity enhanced (SLE 55RxxE)",
    0x002B: "my-d light (SRF 55V01P)",
    0x002C: "PJM Stack Tag (SRF 66V10ST)",
    0x002D: "PJM Item Tag (SRF 66V10IT)",
    0x002E: "PJM Light (SRF 66V01ST)",
    0x002F: "Jewel Tag",
    0x0030: "Topaz NFC Tag",
    0x0031: "AT88SC0104CRF",
    0x0032: "AT88SC0404CRF",
    0x0033: "AT88RF01C",
    0x0034: "AT88RF04C",
    0x0035: "i-Code SL2",
    0x0036: "MIFARE Plus SL1 2K",
    0x0037: "MIFARE Plus SL1 4K",
    0x0038: "MIFARE Plus SL2 2K",
    0x0039: "MIFARE Plus SL2 4K",
    0x003A: "MIFARE Ultralight C",
    0x003B: "FeliCa",
    0x003C: "Melexis Sensor Tag (MLX90129)",
    0x003D: "MIFARE Ultralight EV1",
}


def bit_list(value: int, table: tuple[tuple[int, str], ...]) -> list[str]:
    return [text for mask, text in table if value & mask]
