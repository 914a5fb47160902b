"""Which command bytes are secrets, so an export, the trace view and the
console's saved history can hide them.

A trace handed to a colleague or attached to a bug report must not carry the
tester's PIN, PUK or a card's keys. The commands that carry them are few and
known by their INS: ISO/IEC 7816-4 VERIFY, CHANGE REFERENCE DATA, ENABLE and
DISABLE VERIFICATION REQUIREMENT, RESET RETRY COUNTER (and their GSM CHV and
EMV PIN CHANGE/UNBLOCK namesakes, which use the same INS under a proprietary
CLA), GlobalPlatform PUT KEY, and the PC/SC reader's LOAD KEYS (a MIFARE key
in clear). Only their data field is hidden, byte for byte, so the header and
the length of the secret stay readable: "VERIFY, 8 bytes, 63 C2" is what a
colleague needs to help.

Authentication cryptograms are hidden both ways, the command's data and the
answer's (`hides_answer`): a passport's BAC (ICAO 9303-11) keys EXTERNAL
AUTHENTICATE from the document number and two dates, few enough values to
try offline, so a trace holding E.IFD||M.IFD or E.IC||M.IC gives the MRZ
away, and with it the session keys of every protected answer after it. PACE
keys GENERAL AUTHENTICATE from the MRZ or a six-digit CAN the same way. Only
the interindustry classes are taken: GlobalPlatform's EXTERNAL AUTHENTICATE
(CLA 8x) is keyed by the card's own keys, and a tester debugging a secure
channel needs to see it.

Revealing is the user's choice, made per export; the export states in its
header which it did. The console's history and favourites are always kept
masked (`masked_text`): a recalled VERIFY shows "••" where the PIN was and
cannot be sent until the PIN is typed again. Everything here is pure and total: a trace holds
whatever bytes were sent, junk included, and exporting it must never fail.
"""

from __future__ import annotations

from explorer.core.apdu import ApduError, parse_apdu
from explorer.core.hexfmt import HexError, parse_hex, to_hex

MASK = "••"
# The trace note of a command a script marked `secret`: its whole data field is hidden,
# whatever its INS (a proprietary command carrying a key is known only to whoever wrote it).
MARKED = "secret (marked in the script)"
MASK_CHAR = MASK[0]  # a text with it in is a masked command, never one to send

# Under any CLA: the GSM (A0) and EMV (8x) commands with these INS carry PINs
# too, and hiding a proprietary command's data by mistake costs nothing.
_PIN_INS = frozenset({
    0x20, 0x21,  # VERIFY (21: data in BER-TLV)
    0x24,  # CHANGE REFERENCE DATA, CHANGE CHV, EMV PIN CHANGE/UNBLOCK
    0x26,  # DISABLE VERIFICATION REQUIREMENT / DISABLE CHV
    0x28,  # ENABLE VERIFICATION REQUIREMENT / ENABLE CHV
    0x2C,  # RESET RETRY COUNTER / UNBLOCK CHV
})
_PUT_KEY = 0xD8  # GlobalPlatform, proprietary CLA only: interindustry D8 is not a key
_LOAD_KEYS = 0x82  # PC/SC part 3, CLA FF only: interindustry 82 is EXTERNAL AUTHENTICATE
# Interindustry CLA only: EXTERNAL (or MUTUAL) AUTHENTICATE, GENERAL AUTHENTICATE (86, 87).
_AUTHENTICATE_INS = frozenset({0x82, 0x86, 0x87})
#: The trace note of every exchange an authentication command's answer took (its GET RESPONSE
#: carries the cryptogram on T=0): their answers are hidden as the command's data is.
AUTHENTICATION = "authentication cryptogram"


def is_authentication(command: bytes) -> bool:
    """Whether `command` is an interindustry EXTERNAL, MUTUAL or GENERAL AUTHENTICATE."""
    return len(command) >= 2 and command[0] < 0x80 and command[1] in _AUTHENTICATE_INS


def is_secret_command(command: bytes) -> bool:
    """Whether `command` is one whose data field is a secret (by CLA and INS alone)."""
    if len(command) < 2:
        return False
    cla, ins = command[0], command[1]
    if cla == 0xFF:
        return ins == _LOAD_KEYS
    return ins in _PIN_INS or (ins == _PUT_KEY and bool(cla & 0x80)) or is_authentication(command)


_ANY_SECRET_INS = _PIN_INS | _AUTHENTICATE_INS | {_PUT_KEY, _LOAD_KEYS}


def may_hide(command: bytes, note: str = "") -> bool:
    """False when neither `command` nor its answer has anything to hide, whatever its CLA: one
    quick test that settles most records (a journal writes each one as it happens)."""
    return (len(command) >= 2 and command[1] in _ANY_SECRET_INS) or (
        bool(note) and (MARKED in note or AUTHENTICATION in note))


def hides_answer(command: bytes, note: str = "") -> bool:
    """Whether the answer's data is a secret too: the answer to an authentication, whether to the
    command itself or to the GET RESPONSE that fetched it (noted `AUTHENTICATION`)."""
    return is_authentication(command) or AUTHENTICATION in note


def is_marked(note: str) -> bool:
    """Whether a trace note says its command was marked secret."""
    return MARKED in note


def secret_span(command: bytes, marked: bool = False) -> tuple[int, int] | None:
    """The (start, end) byte span of `command` to hide, end exclusive, or None.
    `marked`: the command was marked secret (any INS).

    The span is the data field as the APDU parser reads it (short or extended
    Lc). A secret command that does not parse hides everything after its 5th
    byte: where its data starts cannot be known, so the safe side is taken.
    """
    if not marked and not is_secret_command(command):
        return None
    command = bytes(command)
    try:
        apdu = parse_apdu(command)
    except (ApduError, ValueError):
        return (5, len(command)) if len(command) > 5 else None
    if not apdu.data:
        return None  # VERIFY without data asks for the retry counter: nothing to hide
    start = 7 if apdu.case.extended else 5
    return start, start + len(apdu.data)


def mask(data: bytes) -> str:
    """What to show instead of `data`: one mask per byte, so the length stays visible."""
    return " ".join(MASK for _ in data)


def masked_hex(command: bytes, marked: bool = False) -> str:
    """The command as hex (upper case, single spaces) with its secret bytes shown as "••"."""
    span = secret_span(command, marked)
    if span is None:
        return to_hex(command)
    start, end = span
    return " ".join(part for part in (to_hex(command[:start]), mask(command[start:end]),
                                      to_hex(command[end:])) if part)


def zeroed(command: bytes, marked: bool = False) -> bytes:
    """The command with its secret bytes set to 00: for formats that must stay
    bytes (JSON Lines imports back), where "••" would not parse."""
    command = bytes(command)
    span = secret_span(command, marked)
    if span is None:
        return command
    start, end = span
    return command[:start] + bytes(end - start) + command[end:]


def masked_text(text: str) -> str | None:
    """A typed command as it may be kept at rest (the console's history and
    favourites): as typed, or, when it carries a secret, its hex with the
    secret bytes as "••". None for a text that is not hex at all: it was
    never sent, and what it holds cannot be told, so it is not kept.

    Idempotent: an already masked text (its "••" read as 00 bytes) comes out
    the same, so old and new entries compare equal.
    """
    text = text.strip()
    if not text:
        return None
    try:
        # Each mask character becomes a 0 digit: "••" reads as the byte 00.
        command = parse_hex(text.replace(MASK_CHAR, "0"))
    except HexError:
        return None
    if secret_span(command) is not None:
        return masked_hex(command)
    return text
