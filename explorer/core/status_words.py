"""What a status word means, given the command that produced it.

`explain` is total over 0x0000..0xFFFF: a word no table knows still gets an
explanation that says so, because a tester looking at a trace needs a line
for every exchange, not an exception. The command matters: 63 C2 after VERIFY
is a wrong PIN, after anything else only a counter; 6A 88 after a GP
INITIALIZE UPDATE is a missing key version.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

from explorer.core import sw_tables as t
from explorer.core.sw_tables import Severity

__all__ = ["Severity", "StatusWord", "SwExplanation", "explain", "explanation_texts", "severity", "sw_of"]


class StatusWord(enum.IntEnum):
    """Names for the fixed words, so code can say `StatusWord.FILE_NOT_FOUND`."""

    NO_ERROR = 0x9000
    WARNING_NO_INFORMATION = 0x6200
    DATA_MAY_BE_CORRUPTED = 0x6281
    END_OF_FILE_OR_RECORD = 0x6282
    FILE_DEACTIVATED = 0x6283
    FCI_NOT_FORMATTED = 0x6284
    FILE_TERMINATED = 0x6285
    NO_SENSOR_DATA = 0x6286
    AUTHENTICATION_FAILED = 0x6300
    MORE_DATA_AVAILABLE = 0x6310  # GlobalPlatform
    FILE_FILLED_UP = 0x6381
    EXECUTION_ERROR = 0x6400
    IMMEDIATE_RESPONSE_REQUIRED = 0x6401
    EXECUTION_ERROR_MEMORY_CHANGED = 0x6500
    MEMORY_FAILURE = 0x6581
    SECURITY_ISSUE = 0x6600
    WRONG_LENGTH = 0x6700
    CLA_FUNCTION_NOT_SUPPORTED = 0x6800
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    LAST_COMMAND_OF_CHAIN_EXPECTED = 0x6883
    COMMAND_CHAINING_NOT_SUPPORTED = 0x6884
    COMMAND_NOT_ALLOWED_NO_INFORMATION = 0x6900
    INCOMPATIBLE_FILE_STRUCTURE = 0x6981
    SECURITY_CONDITION_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED = 0x6986
    SM_DATA_MISSING = 0x6987
    SM_DATA_INCORRECT = 0x6988
    WRONG_PARAMETERS_NO_INFORMATION = 0x6A00
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NOT_ENOUGH_MEMORY = 0x6A84
    NC_INCONSISTENT_WITH_TLV = 0x6A85
    INCORRECT_P1P2 = 0x6A86
    NC_INCONSISTENT_WITH_P1P2 = 0x6A87
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    FILE_ALREADY_EXISTS = 0x6A89
    DF_NAME_ALREADY_EXISTS = 0x6A8A
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00
    ALGORITHM_NOT_SUPPORTED = 0x9484  # GlobalPlatform
    INVALID_KEY_CHECK_VALUE = 0x9485  # GlobalPlatform


@dataclass(frozen=True)
class SwExplanation:
    sw: int
    severity: Severity
    text: str
    source: str

    @property
    def hex(self) -> str:
        return f"{self.sw >> 8:02X} {self.sw & 0xFF:02X}"


def sw_of(response: bytes) -> int | None:
    """SW1-SW2 of a response APDU: its last two bytes."""
    if len(response) < 2:
        return None
    return response[-2] << 8 | response[-1]


# -- the command, as far as it can be read ----------------------------------------


@dataclass(frozen=True)
class _Command:
    cla: int
    ins: int
    p1: int | None
    p2: int | None
    data: bytes
    ctx: t.Ctx | None   # None: proprietary CLA that is neither GP nor EMV


def _data_field(apdu: bytes) -> bytes:
    # Lenient on purpose: a truncated or malformed APDU still gives whatever
    # data bytes it carries, because the card may have answered it anyway.
    if len(apdu) <= 5:
        return b""
    if apdu[4] != 0:
        return apdu[5:5 + apdu[4]]
    if len(apdu) >= 7:
        return apdu[7:7 + (apdu[5] << 8 | apdu[6])]
    return b""


def _is_emv(cla: int, ins: int, p1: int | None, p2: int | None, data: bytes) -> bool:
    if ins in t.SELECT:
        return p1 == 0x04 and data.startswith(t.PAYMENT_SELECT_PREFIXES)
    if cla < 0x80:
        # VERIFY with an EMV PIN block: P2 88 is an enciphered PIN; P2 80 is also
        # used by PIV, so it only counts with EMV's plaintext block (control nibble 2).
        if ins in t.VERIFY_INS and p1 == 0x00:
            return p2 == 0x88 or (p2 == 0x80 and len(data) == 8 and data[0] >> 4 == 2
                                  and 4 <= data[0] & 0x0F <= 12)
        return False
    if ins in t.EMV_INS:
        return True
    if ins == t.EMV_PIN_CHANGE_INS:
        return cla & 0xFC == 0x84
    return ins == 0xCA and p1 is not None and p2 is not None and (p1 << 8 | p2) in t.EMV_GET_DATA_TAGS


def _read_command(command: bytes | None) -> _Command | None:
    if command is None:
        return None
    try:
        apdu = bytes(command)
    except (TypeError, ValueError):
        return None
    if len(apdu) < 2:
        return None
    cla, ins = apdu[0], apdu[1]
    p1 = apdu[2] if len(apdu) > 2 else None
    p2 = apdu[3] if len(apdu) > 3 else None
    data = _data_field(apdu)
    ctx: t.Ctx | None
    if _is_emv(cla, ins, p1, p2, data):
        ctx = t.Ctx.EMV
    elif cla < 0x80:
        ctx = t.Ctx.ISO
    elif cla != 0xFF and ins in t.GP_INS:
        ctx = t.Ctx.GP
    else:
        ctx = None
    return _Command(cla, ins, p1, p2, data, ctx)


# -- explanation ------------------------------------------------------------------


def _count(n: int) -> str:
    return f"0x{n:02X} ({n})"


def _tries(x: int) -> str:
    left = f"{x} {'try' if x == 1 else 'tries'} left"
    return left + (", now blocked" if x == 0 else "")


def _counter_text(x: int, cmd: _Command | None) -> tuple[str, str]:
    ins = cmd.ins if cmd is not None else None
    if ins in t.VERIFY_INS and cmd is not None and not cmd.data:
        # VERIFY without data only asks for the state: nothing was wrong.
        return f"Verification required: {x} {'try' if x == 1 else 'tries'} left", t.ISO_4
    if ins in t.RESET_RETRY_INS:
        return f"Verification failed (wrong reset code or PUK): {_tries(x)}", t.ISO_4
    if ins in t.PIN_INS:
        return f"Verification failed (wrong PIN): {_tries(x)}", t.ISO_4
    if ins in t.AUTH_INS:
        return f"Authentication failed: {_tries(x)}", t.ISO_4
    return f"Counter: {x} (meaning depends on the command)", t.ISO_4


def _context_row(sw: int, cmd: _Command) -> t.ContextRow | None:
    for row in t.CONTEXT_ROWS:
        if row.sw != sw:
            continue
        if row.ctx is not t.Ctx.ANY and row.ctx is not cmd.ctx:
            continue
        if row.ins and cmd.ins not in row.ins:
            continue
        if row.p1 is not None and cmd.p1 != row.p1:
            continue
        return row
    return None


def _unlisted(sw1: int, sw2: int) -> SwExplanation:
    sw = sw1 << 8 | sw2
    if sw1 == 0x66:
        return SwExplanation(sw, Severity.ERROR,
                             f"Security-related issue (SW2={sw2:02X}, reserved by ISO/IEC 7816-4)", t.ISO_4)
    meaning = t.SW1_MEANING.get(sw1)
    kind = "warning" if sw1 in (0x62, 0x63) else "error"
    severity = Severity.WARNING if kind == "warning" else Severity.ERROR
    if meaning is None:
        text = f"Unknown {kind} status (SW1={sw1:02X})"
    elif sw1 in t.PROPRIETARY_SW2_FAMILIES:
        text = f"Unknown {kind} status (SW1={sw1:02X}, proprietary SW2): {sw1:02X} 00 means {meaning}"
    else:
        text = (f"Unknown {kind} status (SW1={sw1:02X}, SW2={sw2:02X} not defined): "
                f"SW1 {sw1:02X} means {meaning}")
    return SwExplanation(sw, severity, text, t.UNKNOWN)


def explain(sw: int, command: bytes | None = None) -> SwExplanation:
    """Explain SW1-SW2, using the C-APDU that caused it when given.

    Raises ValueError only for an int outside 0x0000..0xFFFF; any command
    bytes (None, empty, truncated, garbage) are accepted.
    """
    if not 0 <= sw <= 0xFFFF:
        raise ValueError(f"status word out of range: {sw:#x} (must be 0x0000..0xFFFF)")
    sw = int(sw)  # a StatusWord member comes out as a plain int
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 & 0xF0 not in (0x60, 0x90):
        return SwExplanation(sw, Severity.ERROR,
                             "Not a valid status word: SW1 must be 6X or 9X (ISO/IEC 7816-4 5.6)", t.UNKNOWN)
    if sw1 == 0x60:
        return SwExplanation(sw, Severity.ERROR,
                             "Not a valid status word: SW1=60 is the T=0 NULL procedure byte", t.UNKNOWN)

    cmd = _read_command(command)
    if cmd is not None:
        row = _context_row(sw, cmd)
        if row is not None:
            return SwExplanation(sw, row.severity, row.text, row.source)

    if sw1 == 0x61:
        if sw2 == 0:
            text = "256 or more bytes still available: GET RESPONSE with Le=00"
        else:
            text = f"{_count(sw2)} bytes still available: GET RESPONSE with Le={sw2:02X}"
        return SwExplanation(sw, Severity.SUCCESS, text, t.ISO_4)
    if sw1 == 0x6C:
        available = _count(sw2) if sw2 else "256"
        text = f"Wrong length Le: {available} bytes available, re-send with Le={sw2:02X}"
        return SwExplanation(sw, Severity.WARNING, text, t.ISO_4)
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        text, source = _counter_text(sw2 & 0x0F, cmd)
        return SwExplanation(sw, Severity.WARNING, text, source)
    if sw1 in (0x62, 0x64) and 0x02 <= sw2 <= 0x80:
        severity = Severity.WARNING if sw1 == 0x62 else Severity.ERROR
        return SwExplanation(sw, severity, f"Triggering by the card (SW2={sw2:02X}): SW1 {sw1:02X} means "
                             f"{t.SW1_MEANING[sw1]}", t.ISO_4)

    for table, source in ((t.ISO_FIXED, t.ISO_4), (t.GP_FIXED, t.GP)):
        entry = table.get(sw)
        if entry is not None:
            return SwExplanation(sw, entry[0], entry[1], source)
    if sw1 & 0xF0 == 0x90:
        return SwExplanation(sw, Severity.WARNING, "Proprietary status (application-specific)", t.UNKNOWN)
    return _unlisted(sw1, sw2)


#: The words whose meaning (and so severity) depends on the command: the context rows'.
_BY_COMMAND = frozenset(row.sw for row in t.CONTEXT_ROWS)


def severity(sw: int, command: bytes | None = None) -> Severity:
    """`explain(sw, command).severity`, without reading the command or writing the text when the
    command cannot change it: a script judges every answer by it."""
    if command is not None and sw in _BY_COMMAND:
        return explain(sw, command).severity
    return _severity(sw)


@functools.lru_cache(maxsize=1024)
def _severity(sw: int) -> Severity:
    return explain(sw).severity


@functools.lru_cache(maxsize=4096)
def explanation_texts(sw: int) -> frozenset[str]:
    """Every text `explain(sw, command)` can give, whatever the command.

    A search over a million exchanges asks this once per status word and
    explains an exchange only when one of these texts could match: explaining
    each one costs microseconds, and a trace's commands rarely repeat exactly.
    """
    texts = {explain(sw).text}
    texts.update(row.text for row in t.CONTEXT_ROWS if row.sw == sw)
    if sw >> 8 == 0x63 and sw & 0xF0 == 0xC0:
        x = sw & 0x0F
        verify = next(iter(t.VERIFY_INS))
        # Every branch of _counter_text: VERIFY asking for the state, a wrong PIN, PUK, key, or none.
        for ins, data in ((verify, b""), (verify, b"\x00"), (next(iter(t.RESET_RETRY_INS)), b"\x00"),
                          (next(iter(t.AUTH_INS)), b"\x00"), (None, b"")):
            cmd = None if ins is None else _Command(0x00, ins, 0x00, 0x00, data, t.Ctx.ISO)
            texts.add(_counter_text(x, cmd)[0])
    return frozenset(texts)
