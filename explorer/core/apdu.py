"""Command APDUs per ISO/IEC 7816-4 (5.1 structure, 5.2 decoding): cases 1 to 4,
short and extended, with the byte positions a UI needs to point at a fault."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from explorer.core.hexfmt import parse_hex, to_hex

SHORT_MAX_NC = 255
SHORT_MAX_NE = 256
EXTENDED_MAX_NC = 65535
EXTENDED_MAX_NE = 65536


class ApduCase(enum.Enum):
    CASE_1 = "1"
    CASE_2S = "2S"
    CASE_3S = "3S"
    CASE_4S = "4S"
    CASE_2E = "2E"
    CASE_3E = "3E"
    CASE_4E = "4E"

    @property
    def label(self) -> str:
        if self is ApduCase.CASE_1:
            return "case 1"
        return f"case {self.value[0]} {'extended' if self.extended else 'short'}"

    @property
    def extended(self) -> bool:
        return self.value.endswith("E")


class ApduError(ValueError):
    """Structural problem. `start`/`end` = byte index span (0-based, end
    exclusive) at fault; the message names the byte(s) 1-based with their value."""

    def __init__(self, message: str, start: int, end: int | None = None) -> None:
        super().__init__(message)
        self.start = start
        self.end = start + 1 if end is None else end


def _where(start: int, end: int) -> str:
    """Wording of a span, end exclusive: 'byte 4' or 'bytes 5-6'. Byte numbers count from 0 (CLA is
    byte 0), as the ATR panel's byte cells, the hex dumps and TLV offsets do."""
    return f"byte {start}" if end - start <= 1 else f"bytes {start}-{end - 1}"


def _check_ins(ins: int) -> None:
    # Under T=0 the card answers with procedure bytes; INS 6X/9X would be read
    # as SW1, which is why 7816-4 declares them invalid.
    if ins & 0xF0 in (0x60, 0x90):
        raise ApduError(f"byte 1 (INS = {ins:02X}) is invalid: ISO/IEC 7816-4 excludes INS 6X and 9X", 1)


@dataclass(frozen=True)
class ApduField:
    name: str  # "CLA", "INS", "P1", "P2", "Lc", "Data", "Le"
    start: int
    end: int
    value: bytes
    meaning: str  # empty when nothing can be said beyond the value


@dataclass(frozen=True)
class CommandApdu:
    """One command. `le` is Ne, the number of bytes expected (None: no Le
    field); short Le 00 stands for 256, extended 0000 for 65536. `extended`
    asks for the extended encoding; it is forced on when data exceeds 255
    bytes or Le exceeds 256, so it always tells how the command is encoded
    (case 1 has no length fields and ignores it)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        # Every command sent is parsed into one: the common case takes one test per field.
        if not (0 <= self.cla <= 0xFF and 0 <= self.ins <= 0xFF and 0 <= self.p1 <= 0xFF
                and 0 <= self.p2 <= 0xFF):
            for name in ("cla", "ins", "p1", "p2"):
                value = getattr(self, name)
                if not 0 <= value <= 0xFF:
                    raise ValueError(f"{name.upper()} must be a byte (0-255), not {value}")
        if type(self.data) is not bytes:
            object.__setattr__(self, "data", bytes(self.data))
        if len(self.data) > SHORT_MAX_NC or (self.le is not None and self.le > SHORT_MAX_NE):
            object.__setattr__(self, "extended", True)

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    @property
    def nc(self) -> int:
        return len(self.data)

    @property
    def ne(self) -> int:
        return 0 if self.le is None else self.le

    @property
    def name(self) -> str | None:
        return command_name(self.cla, self.ins)

    @property
    def case(self) -> ApduCase:
        if not self.data and self.le is None:
            return ApduCase.CASE_1
        number = 3 if self.le is None else (4 if self.data else 2)
        return ApduCase(f"{number}{'E' if self.extended else 'S'}")

    def _layout(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None, tuple[int, int] | None]:
        """Byte spans of Lc, Data and Le in the encoded form (None when absent)."""
        nc, ext = len(self.data), self.case.extended
        lc_len = (3 if ext else 1) if nc else 0
        lc = (4, 4 + lc_len) if nc else None
        data = (4 + lc_len, 4 + lc_len + nc) if nc else None
        le = None
        if self.le is not None:
            at = 4 + lc_len + nc
            # Case 2E has no Lc, so its Le carries the 00 marker itself: 3 bytes.
            le = (at, at + (2 if nc else 3)) if ext else (at, at + 1)
        return lc, data, le

    def to_bytes(self) -> bytes:
        """The encoded command: short when possible unless `extended` is set.
        Raises ApduError for what no encoding can carry."""
        _check_ins(self.ins)
        nc = len(self.data)
        if nc > EXTENDED_MAX_NC:
            raise ApduError(f"{nc} data bytes: even an extended Lc counts at most {EXTENDED_MAX_NC}", 4, 7)
        if self.le is not None and not 1 <= self.le <= EXTENDED_MAX_NE:
            _, _, le_span = self._layout()
            assert le_span is not None
            raise ApduError(f"Le = {self.le} is out of range: 1 to {EXTENDED_MAX_NE} bytes expected, "
                            "or no Le field at all", *le_span)
        out = bytearray(self.header)
        if self.case is ApduCase.CASE_1:
            return bytes(out)
        if self.case.extended:
            out.append(0)
            if nc:
                out += nc.to_bytes(2, "big") + self.data
            if self.le is not None:
                out += (self.le & 0xFFFF).to_bytes(2, "big")  # 65536 -> 0000
        else:
            if nc:
                out.append(nc)
                out += self.data
            if self.le is not None:
                out.append(self.le & 0xFF)  # 256 -> 00
        return bytes(out)

    def with_le(self, le: int) -> CommandApdu:
        """The same command expecting `le` bytes, as after a 6Cxx answer. 0
        means 256, as SW2 = 00 does in 6C00 (SW2 is one byte, whatever the
        command's encoding). The extended flag is kept."""
        return replace(self, le=le or SHORT_MAX_NE)

    def fields(self) -> list[ApduField]:
        """Every field with its span in to_bytes() (raises ApduError as it does)."""
        raw = self.to_bytes()
        p1_meaning, p2_meaning = _parameter_meanings(self.cla, self.ins, self.p1, self.p2)
        ins_meaning = self.name or "not a known instruction for this class"
        out = [ApduField("CLA", 0, 1, raw[0:1], class_meaning(self.cla)),
               ApduField("INS", 1, 2, raw[1:2], ins_meaning),
               ApduField("P1", 2, 3, raw[2:3], p1_meaning),
               ApduField("P2", 3, 4, raw[3:4], p2_meaning)]
        lc, data, le = self._layout()
        ext = " (extended length)" if self.case.extended else ""
        if lc is not None and data is not None:
            nc = len(self.data)
            out.append(ApduField("Lc", *lc, raw[lc[0]:lc[1]], f"{_count(nc, 'data byte')}{ext}"))
            out.append(ApduField("Data", *data, self.data, _count(nc, "byte")))
        if le is not None:
            value = raw[le[0]:le[1]]
            shown = value[-2:] if self.case.extended else value
            out.append(ApduField("Le", *le, value,
                                 f"up to {_count(self.ne, 'byte')} expected ({shown.hex().upper()}){ext}"))
        return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def surely_valid(raw: bytes) -> bool:
    """True for a short command that parse_apdu accepts (cases 1 to 4, a valid INS), told without
    building it: the check before every command a script sends. False means "ask parse_apdu",
    which says what is wrong, or accepts what this does not look at (extended lengths)."""
    n = len(raw)
    if n < 4 or raw[1] & 0xF0 in (0x60, 0x90):
        return False
    return n <= 5 or (raw[4] != 0 and n - 6 <= raw[4] <= n - 5)  # Lc, data, and Le or none


def parse_apdu(raw: bytes, *, max_short_only: bool = False) -> CommandApdu:
    """Decode a command per ISO/IEC 7816-4 5.2: the case follows from the total
    length and the length bytes. `max_short_only` refuses extended encodings,
    for T=0 links and readers without extended APDU support."""
    raw = bytes(raw)
    n = len(raw)
    if n < 4:
        raise ApduError(f"a command APDU needs at least 4 bytes (CLA INS P1 P2), but {n} were given", 0, n)
    cla, ins, p1, p2 = raw[:4]
    _check_ins(ins)
    if n == 4:
        return CommandApdu(cla, ins, p1, p2)
    c5 = raw[4]
    if n == 5:
        return CommandApdu(cla, ins, p1, p2, le=c5 or SHORT_MAX_NE)
    if c5:
        return _parse_short(raw, c5)
    if n == 6:
        raise ApduError("byte 4 is 00 and 1 byte follows: 00 is not a short Lc, and an extended "
                        "length field needs 2 bytes after it", 4, 6)
    if max_short_only:
        raise ApduError(f"bytes 4-6 ({to_hex(raw[4:7])}) are an extended length field, but this "
                        "connection takes short APDUs only (255 data bytes, Le up to 256)", 4, 7)
    return _parse_extended(raw)


def _parse_short(raw: bytes, lc: int) -> CommandApdu:
    cla, ins, p1, p2 = raw[:4]
    follow = len(raw) - 5
    if follow == lc:
        return CommandApdu(cla, ins, p1, p2, raw[5:])
    if follow == lc + 1:
        return CommandApdu(cla, ins, p1, p2, raw[5:-1], raw[-1] or SHORT_MAX_NE)
    if follow < lc:
        raise ApduError(f"byte 4 (Lc = {lc:02X}) announces {lc} data bytes but {follow} follow", 4)
    extra = 5 + lc + 1
    raise ApduError(f"byte 4 (Lc = {lc:02X}) announces {lc} data bytes and at most one Le byte, but "
                    f"{follow} bytes follow: {_where(extra, len(raw))} left over", extra, len(raw))


def _parse_extended(raw: bytes) -> CommandApdu:
    cla, ins, p1, p2 = raw[:4]
    n = len(raw)
    lc = int.from_bytes(raw[5:7], "big")
    if n == 7:
        return CommandApdu(cla, ins, p1, p2, le=lc or EXTENDED_MAX_NE, extended=True)
    follow = n - 7
    field = f"bytes 4-6 (extended Lc = {to_hex(raw[4:7])})"
    if lc == 0:
        raise ApduError(f"{field} count no data, which ISO/IEC 7816-4 does not allow, "
                        f"yet {follow} bytes follow", 4, 7)
    if follow == lc:
        return CommandApdu(cla, ins, p1, p2, raw[7:], extended=True)
    if follow == lc + 2:
        le = int.from_bytes(raw[-2:], "big") or EXTENDED_MAX_NE
        return CommandApdu(cla, ins, p1, p2, raw[7:-2], le, extended=True)
    if follow < lc:
        raise ApduError(f"{field} announce {lc} data bytes but {follow} follow", 4, 7)
    if follow == lc + 1:
        raise ApduError(f"byte {n - 1} ({raw[-1]:02X}) is alone after the data: an extended Le takes 2 bytes",
                        n - 1, n)
    extra = 7 + lc + 2
    raise ApduError(f"{field} announce {lc} data bytes and at most 2 Le bytes, but {follow} bytes "
                    f"follow: {_where(extra, n)} left over", extra, n)


def parse_apdu_text(text: str, *, max_short_only: bool = False) -> CommandApdu:
    """parse_hex then parse_apdu: HexError for the text, ApduError for the structure."""
    return parse_apdu(parse_hex(text), max_short_only=max_short_only)


def get_response(cla: int, le: int) -> bytes:
    """GET RESPONSE for a 61xx answer to a command sent with `cla`; le 0 means 256.
    The logical channel is kept; secure messaging and chaining bits are not,
    since the response is fetched in plain. A proprietary CLA is kept as is
    (GSM's A0 C0 ...), because its bits follow the card's own rules."""
    if not 0 <= le <= SHORT_MAX_NE:
        raise ValueError(f"GET RESPONSE takes a short Le (0-256), not {le}")
    if cla & 0x80:
        out = cla
    elif cla & 0x40:
        out = cla & 0x4F  # further interindustry: marker bit and channel 4-19
    else:
        out = cla & 0x03
    return bytes((out, 0xC0, 0x00, 0x00, le & 0xFF))


def class_meaning(cla: int) -> str:
    if cla == 0xFF:
        return "PC/SC reader pseudo-APDU (FF, which ISO/IEC 7816-3 keeps for PPS)"
    if cla & 0x80:
        return f"proprietary ({cla:02X})"
    if cla & 0xE0 == 0x20:
        return f"reserved for future use ({cla:02X})"
    if cla & 0x40:
        sm = "SM, header not authenticated" if cla & 0x20 else "no SM"
        channel = 4 + (cla & 0x0F)
    else:
        sm = ("no SM", "proprietary SM", "SM, header not authenticated",
              "SM, header authenticated")[cla >> 2 & 0x03]
        channel = cla & 0x03
    chained = ", command chaining (not the last command)" if cla & 0x10 else ""
    return f"interindustry, {sm}, logical channel {channel}{chained}"


_SELECT_P1 = {0x00: "MF, DF or EF by file identifier", 0x01: "child DF by file identifier",
              0x02: "EF under the current DF by file identifier", 0x03: "parent DF of the current DF",
              0x04: "by DF name (AID)", 0x08: "by path from the MF", 0x09: "by path from the current DF"}
_SELECT_P2_RESPONSE = ("return FCI template", "return FCP template", "return FMD template",
                       "no response data or proprietary")
_OCCURRENCE = ("first or only occurrence", "last occurrence", "next occurrence", "previous occurrence")
_RECORD_MODE = {0b000: "first record", 0b001: "last record", 0b010: "next record",
                0b011: "previous record", 0b100: "record number P1",
                0b101: "records P1 to last", 0b110: "records last to P1"}


def _parameter_meanings(cla: int, ins: int, p1: int, p2: int) -> tuple[str, str]:
    """Meanings of P1 and P2 for the commands whose parameters 7816-4 fixes."""
    if cla == 0xFF:
        if ins == 0xCA:
            return {0x00: "UID", 0x01: "historical bytes of the ATS"}.get(p1, ""), ""
        return "", ""
    if cla & 0x80:
        return "", ""
    if ins == 0xA4:
        p2_text = f"{_OCCURRENCE[p2 & 0x03]}, {_SELECT_P2_RESPONSE[p2 >> 2 & 0x03]}"
        return f"select {_SELECT_P1.get(p1, 'by an RFU or proprietary method')}", p2_text
    if ins in (0xB0, 0xD0, 0xD6, 0x0E):
        if p1 & 0x80:
            return f"short EF identifier {p1 & 0x1F}", f"offset {p2}"
        offset = p1 << 8 | p2
        return f"offset high byte (offset {offset})", f"offset low byte (offset {offset})"
    if ins in (0xB2, 0xDC, 0xD2, 0xE2):
        sfi = p2 >> 3
        ef = f"short EF identifier {sfi}" if sfi else "current EF"
        mode = _RECORD_MODE.get(p2 & 0x07, "RFU mode") if ins == 0xB2 else ""
        return (f"record number {p1}" if p1 else "current record"), (f"{ef}, {mode}" if mode else ef)
    if ins in (0x20, 0x21, 0x24, 0x26, 0x28, 0x2C):
        scope = "specific (DF) reference data" if p2 & 0x80 else "global reference data"
        return "", f"{scope}, number {p2 & 0x1F}"
    if ins == 0xC0:
        return ("00" if p1 == 0 else "should be 00"), ("00" if p2 == 0 else "should be 00")
    return "", ""


_INTERINDUSTRY = {
    0x04: "DEACTIVATE FILE", 0x0C: "ERASE RECORD(S)", 0x0E: "ERASE BINARY", 0x0F: "ERASE BINARY",
    0x10: "PERFORM SCQL OPERATION", 0x12: "PERFORM TRANSACTION OPERATION",
    0x14: "PERFORM USER OPERATION", 0x20: "VERIFY", 0x21: "VERIFY",
    0x22: "MANAGE SECURITY ENVIRONMENT", 0x24: "CHANGE REFERENCE DATA",
    0x26: "DISABLE VERIFICATION REQUIREMENT", 0x28: "ENABLE VERIFICATION REQUIREMENT",
    0x2A: "PERFORM SECURITY OPERATION", 0x2C: "RESET RETRY COUNTER", 0x44: "ACTIVATE FILE",
    0x46: "GENERATE ASYMMETRIC KEY PAIR", 0x70: "MANAGE CHANNEL",
    0x82: "EXTERNAL / MUTUAL AUTHENTICATE", 0x84: "GET CHALLENGE", 0x86: "GENERAL AUTHENTICATE",
    0x87: "GENERAL AUTHENTICATE", 0x88: "INTERNAL AUTHENTICATE", 0xA0: "SEARCH BINARY",
    0xA1: "SEARCH BINARY", 0xA2: "SEARCH RECORD", 0xA4: "SELECT", 0xB0: "READ BINARY",
    0xB1: "READ BINARY", 0xB2: "READ RECORD(S)", 0xB3: "READ RECORD(S)", 0xC0: "GET RESPONSE",
    0xC2: "ENVELOPE", 0xC3: "ENVELOPE", 0xCA: "GET DATA", 0xCB: "GET DATA", 0xD0: "WRITE BINARY",
    0xD1: "WRITE BINARY", 0xD2: "WRITE RECORD", 0xD6: "UPDATE BINARY", 0xD7: "UPDATE BINARY",
    0xDA: "PUT DATA", 0xDB: "PUT DATA", 0xDC: "UPDATE RECORD", 0xDD: "UPDATE RECORD",
    0xE0: "CREATE FILE", 0xE2: "APPEND RECORD", 0xE4: "DELETE FILE", 0xE6: "TERMINATE DF",
    0xE8: "TERMINATE EF", 0xFE: "TERMINATE CARD USAGE",
}
_GLOBALPLATFORM = {
    0x50: "INITIALIZE UPDATE", 0x82: "EXTERNAL AUTHENTICATE", 0xE6: "INSTALL", 0xE8: "LOAD",
    0xE4: "DELETE", 0xF2: "GET STATUS", 0xF0: "SET STATUS", 0xD8: "PUT KEY", 0xE2: "STORE DATA",
    0xCA: "GET DATA", 0xCB: "GET DATA",
}
_EMV = {
    (0x80, 0xAE): "GENERATE AC", (0x80, 0xA8): "GET PROCESSING OPTIONS", (0x80, 0xCA): "GET DATA",
    (0x84, 0x1E): "APPLICATION BLOCK", (0x84, 0x18): "APPLICATION UNBLOCK", (0x84, 0x16): "CARD BLOCK",
    (0x84, 0x24): "PIN CHANGE/UNBLOCK",
}
# GSM 11.11 SIMs (CLA A0) are still everywhere on a tester's desk.
_GSM = {
    0xA4: "SELECT", 0xF2: "STATUS", 0xB0: "READ BINARY", 0xD6: "UPDATE BINARY", 0xB2: "READ RECORD",
    0xDC: "UPDATE RECORD", 0xA2: "SEEK", 0x32: "INCREASE", 0x20: "VERIFY CHV", 0x24: "CHANGE CHV",
    0x26: "DISABLE CHV", 0x28: "ENABLE CHV", 0x2C: "UNBLOCK CHV", 0x04: "INVALIDATE",
    0x44: "REHABILITATE", 0x88: "RUN GSM ALGORITHM", 0xFA: "SLEEP", 0xC0: "GET RESPONSE",
    0x10: "TERMINAL PROFILE", 0xC2: "ENVELOPE", 0x12: "FETCH", 0x14: "TERMINAL RESPONSE",
}
_PCSC = {0xCA: "GET DATA", 0x82: "LOAD KEYS", 0x86: "GENERAL AUTHENTICATE", 0xB0: "READ BINARY",
         0xD6: "UPDATE BINARY"}


def command_name(cla: int, ins: int) -> str | None:
    """The usual name of a command, or None. Interindustry classes use the
    ISO/IEC 7816-4/-8/-9 table; a proprietary class only the tables of the
    specifications that commonly use it (GlobalPlatform, EMV, GSM, PC/SC)."""
    if cla == 0xFF:
        return _PCSC.get(ins)
    if not cla & 0x80:
        return _INTERINDUSTRY.get(ins)
    if (cla, ins) in _EMV:
        return _EMV[(cla, ins)]
    # GlobalPlatform: 80-87 on channels 0-3, C0-CF / E0-EF on channels 4-19.
    if cla & 0xF8 == 0x80 or cla & 0xD0 == 0xC0:
        return _GLOBALPLATFORM.get(ins)
    if cla == 0xA0:
        return _GSM.get(ins)
    return None
