"""Status-word data: the fixed ISO/IEC 7816-4 words, the GlobalPlatform extras and
the meanings that depend on the command that caused them.

Only data lives here; `explorer.core.status_words` holds the rules that pick a
row. `Severity` is defined here (and re-exported there) so this module never
imports back into status_words.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """Ordered so that `max()` over a run of exchanges gives the worst one."""

    SUCCESS = 0
    WARNING = 1
    ERROR = 2


ISO_4 = "ISO/IEC 7816-4"
ISO_8 = "ISO/IEC 7816-8"
ISO_9 = "ISO/IEC 7816-9"
GP = "GlobalPlatform"
EMV = "EMV"
UNKNOWN = "unknown"

S, W, E = Severity.SUCCESS, Severity.WARNING, Severity.ERROR

# Every fixed word of ISO/IEC 7816-4 (families with a count in SW2, 61xx, 63Cx,
# 6Cxx, and the triggering ranges are computed, not listed).
ISO_FIXED: dict[int, tuple[Severity, str]] = {
    0x9000: (S, "Normal processing: command successful"),
    0x6200: (W, "Warning: no information given, non-volatile memory unchanged"),
    0x6281: (W, "Part of the returned data may be corrupted"),
    0x6282: (W, "End of file or record reached before reading Le bytes, or unsuccessful search"),
    0x6283: (W, "Selected file deactivated"),
    0x6284: (W, "File control information not formatted according to ISO/IEC 7816-4"),
    0x6285: (W, "Selected file in termination state"),
    0x6286: (W, "No input data available from a sensor on the card"),
    0x6300: (W, "Warning: no information given, non-volatile memory changed (e.g. authentication failed)"),
    0x6381: (W, "File filled up by the last write"),
    0x6400: (E, "Execution error: no information given, non-volatile memory unchanged"),
    0x6401: (E, "Immediate response required by the card"),
    0x6500: (E, "Execution error: no information given, non-volatile memory changed"),
    0x6581: (E, "Memory failure"),
    0x6700: (E, "Wrong length (Lc or Le not what the command expects)"),
    0x6800: (E, "Function in CLA not supported (no information given)"),
    0x6881: (E, "Logical channel not supported"),
    0x6882: (E, "Secure messaging not supported"),
    0x6883: (E, "Last command of the chain expected"),
    0x6884: (E, "Command chaining not supported"),
    0x6900: (E, "Command not allowed (no information given)"),
    0x6981: (E, "Command incompatible with file structure"),
    0x6982: (E, "Security status not satisfied (e.g. PIN not verified or no secure channel)"),
    0x6983: (E, "Authentication method blocked"),
    0x6984: (E, "Reference data not usable"),
    0x6985: (E, "Conditions of use not satisfied"),
    0x6986: (E, "Command not allowed: no current EF"),
    0x6987: (E, "Expected secure messaging data objects missing"),
    0x6988: (E, "Incorrect secure messaging data objects"),
    0x6A00: (E, "Wrong parameters P1-P2 (no information given)"),
    0x6A80: (E, "Incorrect parameters in the command data field"),
    0x6A81: (E, "Function not supported"),
    0x6A82: (E, "File or application not found"),
    0x6A83: (E, "Record not found"),
    0x6A84: (E, "Not enough memory space in the file"),
    0x6A85: (E, "Nc inconsistent with TLV structure"),
    0x6A86: (E, "Incorrect parameters P1-P2"),
    0x6A87: (E, "Nc inconsistent with parameters P1-P2"),
    0x6A88: (E, "Referenced data or reference data not found"),
    0x6A89: (E, "File already exists"),
    0x6A8A: (E, "DF name already exists"),
    0x6B00: (E, "Wrong parameters P1-P2"),
    0x6D00: (E, "Instruction code not supported or invalid"),
    0x6E00: (E, "Class not supported"),
    0x6F00: (E, "No precise diagnosis"),
}

# GlobalPlatform words that ISO leaves undefined; they mean the same whatever
# command produced them, so they are looked up without context.
GP_FIXED: dict[int, tuple[Severity, str]] = {
    0x6310: (W, "More data available"),
    # SW1 94 is proprietary space, but GP uses these two for real failures.
    0x9484: (E, "Algorithm not supported"),
    0x9485: (E, "Invalid key check value"),
}

# What SW1 alone says, for words whose SW2 no table lists.
SW1_MEANING: dict[int, str] = {
    0x62: "warning, non-volatile memory unchanged",
    0x63: "warning, non-volatile memory changed",
    0x64: "execution error, non-volatile memory unchanged",
    0x65: "execution error, non-volatile memory changed",
    0x67: "wrong length",
    0x68: "function in CLA not supported",
    0x69: "command not allowed",
    0x6A: "wrong parameters P1-P2",
    0x6B: "wrong parameters P1-P2",
    0x6D: "instruction code not supported or invalid",
    0x6E: "class not supported",
    0x6F: "no precise diagnosis",
}
# ISO/IEC 7816-3 leaves these SW1 values proprietary except for SW2 = 00.
PROPRIETARY_SW2_FAMILIES = frozenset({0x67, 0x6B, 0x6D, 0x6E, 0x6F})


# -- instruction groups ----------------------------------------------------------

PIN_INS = frozenset({0x20, 0x21, 0x24, 0x25, 0x2C, 0x2D})   # VERIFY, CHANGE REF DATA, RESET RETRY
VERIFY_INS = frozenset({0x20, 0x21})
RESET_RETRY_INS = frozenset({0x2C, 0x2D})
PIN_STATE_INS = frozenset({0x26, 0x27, 0x28, 0x29})        # DISABLE / ENABLE VERIFICATION REQUIREMENT
AUTH_INS = frozenset({0x82, 0x86, 0x87, 0x88})             # EXTERNAL / GENERAL / INTERNAL AUTHENTICATE
SE_INS = frozenset({0x22, 0x2A, 0x46, 0x47})               # MSE, PSO, GENERATE ASYMMETRIC KEY PAIR
READ_INS = frozenset({0xB0, 0xB1, 0xB2, 0xB3})
SEARCH_INS = frozenset({0xA0, 0xA1, 0xA2})
BINARY_OFFSET_INS = frozenset({0xB0, 0xB1, 0xD0, 0xD1, 0xD6, 0xD7, 0x0E, 0x0F})
LIFE_CYCLE_INS = frozenset({0x04, 0x44, 0xE6, 0xE8, 0xFE})  # DEACTIVATE, ACTIVATE, TERMINATE DF/EF/CARD
SELECT = frozenset({0xA4})
CREATE_FILE = frozenset({0xE0})

# GP commands run with a proprietary CLA (80, 84, or a channel variant); with
# CLA 00 the same INS codes are ISO commands (E4 DELETE FILE, E6 TERMINATE DF...).
GP_INS = frozenset({0xE6, 0xE8, 0xE4, 0xF2, 0x50, 0x82, 0xD8, 0xF0, 0xE2, 0xCA, 0xCB, 0x78, 0x7A})

# EMV commands with a proprietary CLA: GET PROCESSING OPTIONS, GENERATE AC,
# APPLICATION BLOCK / UNBLOCK, CARD BLOCK.
EMV_INS = frozenset({0xA8, 0xAE, 0x1E, 0x18, 0x16})
EMV_PIN_CHANGE_INS = 0x24  # PIN CHANGE/UNBLOCK, only with CLA 84 (secure messaging)
# GET DATA tags that only EMV cards answer: ATC, last online ATC, PIN try counter, log format.
EMV_GET_DATA_TAGS = frozenset({0x9F36, 0x9F13, 0x9F17, 0x9F4F})
# A SELECT of one of these is a payment application, where EMV gives SWs their own meaning.
PAYMENT_SELECT_PREFIXES: tuple[bytes, ...] = (
    b"1PAY.SYS.DDF01",
    b"2PAY.SYS.DDF01",
    bytes.fromhex("A000000003"),  # Visa
    bytes.fromhex("A000000004"),  # Mastercard
    bytes.fromhex("A000000025"),  # American Express
    bytes.fromhex("A000000065"),  # JCB
    bytes.fromhex("A000000152"),  # Discover
    bytes.fromhex("A000000333"),  # UnionPay
    bytes.fromhex("A000000277"),  # Interac
    bytes.fromhex("A000000042"),  # CB
    bytes.fromhex("A000000524"),  # RuPay
    bytes.fromhex("A000000658"),  # Mir
    bytes.fromhex("D276000025"),  # girocard
)


# -- meanings that depend on the command -----------------------------------------


class Ctx(enum.Enum):
    """Which family of commands a row applies to (decided from CLA, INS and data)."""

    ISO = "iso"   # interindustry CLA
    GP = "gp"     # proprietary CLA with a GlobalPlatform INS
    EMV = "emv"   # payment application commands
    ANY = "any"   # any command with a matching INS, whatever its class


ANY_INS: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ContextRow:
    sw: int
    ctx: Ctx
    ins: frozenset[int]       # empty: any INS in that context
    severity: Severity
    text: str
    source: str
    p1: int | None = None     # only when the meaning hangs on P1 (SELECT by name)


def _row(sw: int, ctx: Ctx, ins: frozenset[int], sev: Severity, text: str, source: str,
         p1: int | None = None) -> ContextRow:
    return ContextRow(sw, ctx, ins, sev, text, source, p1)


# First match wins, so within a word the narrower rows come first.
CONTEXT_ROWS: tuple[ContextRow, ...] = (
    # EMV payment applications
    _row(0x6985, Ctx.EMV, frozenset({0xA8}), E,
         "Conditions of use not satisfied (e.g. PDOL data rejected)", EMV),
    _row(0x6985, Ctx.EMV, frozenset({0xAE}), E,
         "Conditions of use not satisfied (e.g. GENERATE AC out of sequence)", EMV),
    _row(0x6A81, Ctx.EMV, ANY_INS, E, "Card blocked or command not supported", EMV),
    _row(0x6A82, Ctx.EMV, SELECT, E, "Application not found", EMV),
    _row(0x6283, Ctx.EMV, SELECT, W, "Selected file (application) blocked", EMV),
    _row(0x6983, Ctx.EMV, VERIFY_INS, E, "PIN try limit exceeded", EMV),
    _row(0x6984, Ctx.EMV, ANY_INS, E, "Referenced data invalidated", EMV),
    # GlobalPlatform card management
    # GP lists this among the errors: the secure channel is not open afterwards.
    _row(0x6300, Ctx.GP, frozenset({0x82}), E, "Authentication of host cryptogram failed", GP),
    _row(0x6310, Ctx.GP, frozenset({0xF2}), W,
         "More data available: repeat GET STATUS with P2 asking for the next occurrence", GP),
    _row(0x6A88, Ctx.GP, frozenset({0x50}), E, "Referenced data not found: no key with this key version", GP),
    _row(0x6A88, Ctx.GP, frozenset({0xE4}), E,
         "Referenced data not found: no application or package with this AID", GP),
    _row(0x6A88, Ctx.GP, frozenset({0xCA, 0xCB}), E,
         "Referenced data not found: no data object with this tag", GP),
    _row(0x6A88, Ctx.GP, ANY_INS, E, "Referenced data not found", GP),
    _row(0x6985, Ctx.GP, ANY_INS, E,
         "Conditions of use not satisfied (e.g. life cycle state or privileges)", GP),
    _row(0x6A80, Ctx.GP, ANY_INS, E, "Incorrect values in the command data", GP),
    _row(0x6A84, Ctx.GP, ANY_INS, E, "Not enough memory space on the card", GP),
    _row(0x6581, Ctx.GP, ANY_INS, E, "Memory failure (persistent memory write failed)", GP),
    _row(0x6600, Ctx.GP, ANY_INS, E, "Security-related error", GP),
    _row(0x6982, Ctx.GP, ANY_INS, E,
         "Security status not satisfied: no secure channel or security level too low", GP),
    # ISO/IEC 7816-4, -8 and -9 under an interindustry CLA
    _row(0x6283, Ctx.ISO, SELECT, W,
         "Selected file deactivated (invalidated): most commands on it will fail", ISO_9),
    _row(0x6285, Ctx.ISO, SELECT, W, "Selected file in termination state: it can no longer be used", ISO_9),
    _row(0x6A82, Ctx.ISO, SELECT, E,
         "Application not found: no DF or application with this name (AID)", ISO_4, p1=0x04),
    _row(0x6A82, Ctx.ISO, SELECT, E, "File not found: no file with this identifier or path", ISO_4),
    _row(0x6282, Ctx.ISO, READ_INS, W, "End of file or record reached before reading Le bytes", ISO_4),
    _row(0x6282, Ctx.ISO, SEARCH_INS, W, "Unsuccessful search: no match found", ISO_4),
    _row(0x6B00, Ctx.ISO, BINARY_OFFSET_INS, E, "Wrong parameters P1-P2: offset outside the EF", ISO_4),
    _row(0x6A84, Ctx.ISO, CREATE_FILE, E, "Not enough memory space to create the file", ISO_9),
    _row(0x6A89, Ctx.ISO, CREATE_FILE, E,
         "File already exists: the file identifier is already used in this DF", ISO_9),
    _row(0x6A8A, Ctx.ISO, CREATE_FILE, E, "DF name already exists: the name (AID) is already used", ISO_9),
    _row(0x6985, Ctx.ISO, LIFE_CYCLE_INS, E,
         "Conditions of use not satisfied: the life cycle state of the file does not allow this", ISO_9),
    _row(0x6985, Ctx.ISO, SE_INS, E,
         "Conditions of use not satisfied: the current security environment does not allow this", ISO_8),
    _row(0x6A88, Ctx.ISO, SE_INS, E, "Referenced data not found: no such key or security environment", ISO_8),
    _row(0x6300, Ctx.ISO, AUTH_INS, W, "Authentication failed (no retry counter given)", ISO_4),
    # Key and PIN commands, whatever the CLA
    _row(0x6984, Ctx.ANY, SE_INS | AUTH_INS, E,
         "Reference data not usable: the key is blocked or deactivated", ISO_8),
    _row(0x6984, Ctx.ANY, PIN_INS | PIN_STATE_INS, E,
         "Reference data not usable: the PIN is blocked or deactivated", ISO_4),
    _row(0x6983, Ctx.ANY, PIN_INS, E, "Authentication method blocked: no PIN tries left", ISO_4),
    _row(0x6983, Ctx.ANY, AUTH_INS, E, "Authentication method blocked: no tries left for this key", ISO_4),
    _row(0x6300, Ctx.ANY, PIN_INS, W, "Verification failed (no retry counter given)", ISO_4),
)
