"""Answer-to-reset decoding per ISO/IEC 7816-3 (historical bytes: atr_historical).

`decode_atr` is total: any byte string, empty or 200 bytes long, gives an
`Atr`. What is wrong with it (a bad TS, missing bytes, a wrong TCK, bytes
after the end, more than 33 bytes) is in `findings`, each pointing at its
bytes, and in the flags `truncated`, `extra_bytes`, `too_long` — a tester
decoding a broken card's ATR needs the decode most.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce

from explorer.core import atr_tables as tb
from explorer.core.atr_fields import AtrField, Finding, Level
from explorer.core.atr_historical import HistoricalBytes, decode_historical
from explorer.core.hexfmt import to_hex

MAX_ATR_LENGTH = 33


class Convention(enum.StrEnum):
    DIRECT = "direct"
    INVERSE = "inverse"
    INVALID = "invalid"


@dataclass(frozen=True)
class InterfaceByte:
    """TAi/TBi/TCi/TDi. `protocol` is the T announced by TD(i-1), which says
    what the byte is about (None for i = 1: global bytes)."""

    kind: str
    index: int
    value: int
    offset: int
    protocol: int | None

    @property
    def name(self) -> str:
        return f"T{self.kind}{self.index}"


@dataclass(frozen=True)
class Atr:
    raw: bytes
    convention: Convention
    ts: int | None
    t0: int | None
    k: int | None
    interface_bytes: tuple[InterfaceByte, ...]
    protocols: tuple[int, ...]
    specific_mode_protocol: int | None
    fi: int | str | None
    di: int | str | None
    fmax_mhz: float | str | None
    n: int | None
    wi: int | None
    ifsc: int | None
    cwi: int | None
    bwi: int | None
    edc: str | None
    clock_stop: str | None
    classes: tuple[str, ...] | None
    tck_expected: bool
    tck: int | None
    tck_ok: bool | None
    historical: HistoricalBytes
    truncated: bool
    extra_bytes: bytes
    fields: tuple[AtrField, ...] = field(repr=False)
    findings: tuple[Finding, ...]

    @property
    def length(self) -> int:
        return len(self.raw)

    @property
    def too_long(self) -> bool:
        return len(self.raw) > MAX_ATR_LENGTH

    @property
    def first_protocol(self) -> int:
        return self.protocols[0]

    @property
    def default_protocol(self) -> int:
        """The protocol used without PPS: the specific mode's, else the first offered."""
        return self.specific_mode_protocol if self.specific_mode_protocol is not None else self.first_protocol

    @property
    def tck_present(self) -> bool:
        return self.tck is not None

    @property
    def historical_bytes(self) -> bytes:
        return self.historical.data

    @property
    def worst(self) -> Level | None:
        return max((f.level for f in self.findings), default=None)


def _bit_rate(fi: int, di: int, mhz: float) -> str:
    return f"{mhz * 1e6 * di / fi:,.0f} bit/s at {mhz:g} MHz".replace(",", " ")


class _Decoder:
    """One pass over the bytes; collects fields, findings and values."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.fields: list[AtrField] = []
        self.findings: list[Finding] = []
        self.seen: dict[tuple[int, str], int] = {}
        self.fi: int | str | None = None
        self.di: int | str | None = None
        self.fmax: float | str | None = None
        self.n: int | None = None
        self.wi: int | None = None
        self.specific_mode: int | None = None
        self.ifsc: int | None = None
        self.cwi: int | None = None
        self.bwi: int | None = None
        self.edc: str | None = None
        self.clock_stop: str | None = None
        self.classes: tuple[str, ...] | None = None
        self.global_bytes = {("A", 1): self.ta1, ("B", 1): self.tb1, ("C", 1): self.tc1,
                             ("A", 2): self.ta2, ("B", 2): self.tb2, ("C", 2): self.tc2}
        # The first TAi/TBi/TCi (i >= 3) after a TD announcing T=1 or T=15.
        self.first_bytes = {(1, "A"): self.t1_a, (1, "B"): self.t1_b, (1, "C"): self.t1_c,
                            (15, "A"): self.t15_a, (15, "B"): self.t15_b}

    def find(self, level: Level, message: str, start: int, end: int | None = None) -> None:
        self.findings.append(Finding(level, message, start, start + 1 if end is None else end))

    # -- global bytes ----------------------------------------------------------

    def ts(self, v: int) -> AtrField:
        if v == 0x3B:
            return AtrField("TS", "3B", "direct convention: high level is 1, least significant bit first",
                            0, 1)
        if v == 0x3F:
            return AtrField("TS", "3F", "inverse convention: low level is 1, most significant bit first",
                            0, 1)
        hint = " (3F read with the wrong convention?)" if v == 0x03 else ""
        self.find(Level.ERROR, f"TS {v:02X} is neither 3B (direct) nor 3F (inverse convention){hint}", 0)
        return AtrField("TS", f"{v:02X}", f"invalid initial character{hint}", 0, 1, level=Level.ERROR)

    def ta1(self, b: InterfaceByte) -> AtrField:
        fi_code, di_code = b.value >> 4, b.value & 0x0F
        fi_entry, di = tb.FI_TABLE.get(fi_code), tb.DI_TABLE.get(di_code)
        self.fi = fi_entry[0] if fi_entry else tb.RFU
        self.fmax = fi_entry[1] if fi_entry else tb.RFU
        self.di = di if di is not None else tb.RFU
        if fi_entry is None:
            self.find(Level.WARNING, f"TA1: FI = {fi_code:X} is reserved for future use", b.offset)
            fi_field = AtrField("Fi", f"{fi_code:X}", "reserved for future use", b.offset, b.offset + 1)
        else:
            fi_field = AtrField("Fi", str(fi_entry[0]), f"clock rate conversion factor (FI = {fi_code:X}); "
                                f"maximum clock frequency fmax = {fi_entry[1]:g} MHz", b.offset, b.offset + 1)
        if di is None:
            self.find(Level.WARNING, f"TA1: DI = {di_code:X} is reserved for future use", b.offset)
            di_field = AtrField("Di", f"{di_code:X}", "reserved for future use", b.offset, b.offset + 1)
        else:
            di_field = AtrField("Di", str(di), f"baud rate adjustment factor (DI = {di_code:X})",
                                b.offset, b.offset + 1)
        if fi_entry and di:
            fi = fi_entry[0]
            meaning = (f"Fi/Di = {fi / di:g} clock cycles per bit (ETU): {_bit_rate(fi, di, 4)}, "
                       f"up to {_bit_rate(fi, di, fi_entry[1])}; the card may be run at this rate after PPS")
        else:
            meaning = "reserved values: a reader must keep the default rate (Fi = 372, Di = 1)"
        return self.byte_field(b, meaning, (fi_field, di_field))

    def tb1(self, b: InterfaceByte) -> AtrField:
        if b.value == 0:
            meaning = "VPP not connected (byte deprecated by ISO/IEC 7816-3:2006; readers ignore it)"
        else:
            meaning = (f"programming voltage PI1 = {b.value & 0x1F}, current II = {b.value >> 5 & 0b11} "
                       "(deprecated by ISO/IEC 7816-3:2006; readers ignore it)")
        return self.byte_field(b, meaning)

    def tc1(self, b: InterfaceByte) -> AtrField:
        self.n = b.value
        if b.value == 0xFF:
            meaning = "N = 255: minimum character spacing (12 ETU for T=0, 11 ETU for T=1)"
        elif b.value == 0:
            meaning = "N = 0: no extra guard time (12 ETU from one character to the next)"
        else:
            meaning = f"N = {b.value}: extra guard time, {12 + b.value} ETU from one character to the next"
        return self.byte_field(b, meaning)

    def ta2(self, b: InterfaceByte) -> AtrField:
        t = b.value & 0x0F
        self.specific_mode = t
        parts = [f"specific mode: the card runs {tb.protocol_name(t)}"]
        parts.append("cannot switch to negotiable mode" if b.value & 0x80
                     else "can switch to negotiable mode")
        parts.append("with implicit parameters (not from TA1)" if b.value & 0x10
                     else "with the parameters of TA1")
        if b.value & 0x60:
            self.find(Level.WARNING, "TA2: bits 7-6 are reserved and should be 0", b.offset)
        return self.byte_field(b, "; ".join(parts))

    def tb2(self, b: InterfaceByte) -> AtrField:
        return self.byte_field(b, f"programming voltage PI2 = {b.value} (deprecated by ISO/IEC 7816-3:2006; "
                                  "readers ignore it)")

    def tc2(self, b: InterfaceByte) -> AtrField:
        self.wi = b.value
        if b.value == 0:
            self.find(Level.WARNING, "TC2: WI = 0 is reserved for future use", b.offset)
            return self.byte_field(b, "WI = 0 is reserved for future use (default 10 applies)")
        return self.byte_field(b, f"T=0 waiting time integer WI = {b.value}: work waiting time "
                                  f"WT = 960 × {b.value} × Fi/f ({960 * b.value} × Di ETU)")

    def td(self, b: InterfaceByte) -> AtrField:
        y, t = b.value >> 4, b.value & 0x0F
        children = (
            AtrField(f"Y{b.index + 1}", f"{y:04b}", _announced(y, b.index + 1), b.offset, b.offset + 1),
            AtrField("T", str(t), tb.protocol_name(t), b.offset, b.offset + 1),
        )
        if t == 15 and b.index == 1:
            self.find(Level.ERROR, "TD1 cannot announce T=15 (global bytes come after TD2 at the earliest)",
                      b.offset)
        return self.byte_field(b, tb.protocol_name(t) if t != 15 else "global interface bytes follow (T=15)",
                               children)

    # -- bytes of a protocol (i >= 3) --------------------------------------------

    def specific(self, b: InterfaceByte) -> AtrField:
        t = b.protocol if b.protocol is not None else 0
        nth = self.seen.get((t, b.kind), 0)
        self.seen[(t, b.kind)] = nth + 1
        first = self.first_bytes.get((t, b.kind))
        if nth == 0 and first is not None:
            return first(b)
        if nth:
            return self.byte_field(b, f"further T{b.kind} byte for T={t}: not defined by ISO/IEC 7816-3")
        return self.byte_field(b, f"specific to T={t}: not defined by ISO/IEC 7816-3")

    def t1_a(self, b: InterfaceByte) -> AtrField:
        self.ifsc = b.value
        if b.value in (0x00, 0xFF):
            self.find(Level.WARNING, f"{b.name}: IFSC {b.value} is reserved for future use", b.offset)
        return self.byte_field(b, f"T=1 IFSC = {b.value}: the card accepts information fields up to "
                                  f"{b.value} bytes (default 32)")

    def t1_b(self, b: InterfaceByte) -> AtrField:
        bwi, cwi = b.value >> 4, b.value & 0x0F
        self.bwi, self.cwi = bwi, cwi
        if bwi > 9:
            self.find(Level.WARNING, f"{b.name}: BWI = {bwi} is reserved for future use (0 to 9)", b.offset)
        bwt_ms = 2 ** bwi * 960 * tb.FD / 4e3
        bwt = f"{bwt_ms / 1000:.2f} s" if bwt_ms >= 1000 else f"{bwt_ms:.0f} ms"
        children = (
            AtrField("BWI", str(bwi), f"block waiting time BWT = 11 ETU + 2^{bwi} × 960 × Fd/f "
                     f"(≈ {bwt} at 4 MHz)", b.offset, b.offset + 1),
            AtrField("CWI", str(cwi), f"character waiting time CWT = 11 + 2^{cwi} = {11 + 2 ** cwi} ETU",
                     b.offset, b.offset + 1),
        )
        return self.byte_field(b, f"T=1 waiting times: BWI = {bwi}, CWI = {cwi} (defaults 4 and 13)",
                               children)

    def t1_c(self, b: InterfaceByte) -> AtrField:
        edc = "CRC" if b.value & 1 else "LRC"
        self.edc = edc
        if b.value & 0xFE:
            self.find(Level.WARNING, f"{b.name}: bits 8-2 are reserved and should be 0", b.offset)
        return self.byte_field(b, f"T=1 error detection code: {edc}"
                                  + (" (2 bytes)" if edc == "CRC" else " (1 byte, the default)"))

    def t15_a(self, b: InterfaceByte) -> AtrField:
        stop = tb.CLOCK_STOP[b.value >> 6]
        classes = tuple(name for mask, name in tb.CLASSES if b.value & mask)
        self.clock_stop, self.classes = stop, classes
        if b.value & 0x38:
            self.find(Level.NOTE, f"{b.name}: class bits 6-4 are reserved", b.offset)
        children = (
            AtrField("Clock stop", f"{b.value >> 6:02b}", stop, b.offset, b.offset + 1),
            AtrField("Classes", f"{b.value & 0x3F:06b}",
                     "operating conditions " + ", ".join(classes) if classes else "no class indicated",
                     b.offset, b.offset + 1),
        )
        return self.byte_field(b, f"{stop}; classes {', '.join(classes) or 'none'}", children)

    def t15_b(self, b: InterfaceByte) -> AtrField:
        if b.value == 0:
            meaning = "contact C6 is not used for SPU"
        elif b.value & 0x80:
            meaning = f"contact C6 (SPU) has a proprietary use ({b.value & 0x7F:02X})"
        else:
            meaning = f"contact C6 (SPU) has a standard use ({b.value:02X})"
        return self.byte_field(b, meaning)

    def byte_field(self, b: InterfaceByte, meaning: str, children: tuple[AtrField, ...] = ()) -> AtrField:
        return AtrField(b.name, f"{b.value:02X}", meaning, b.offset, b.offset + 1, children)

    def interface_field(self, b: InterfaceByte) -> AtrField:
        if b.kind == "D":
            return self.td(b)
        decode = self.global_bytes.get((b.kind, b.index), self.specific)
        return decode(b)


def _read_interface_bytes(raw: bytes) -> tuple[list[InterfaceByte], int, bool]:
    """The interface bytes T0 announces, where they end, and whether the ATR
    ended before the last announced one."""
    out: list[InterfaceByte] = []
    y, pos, index, protocol = raw[1] >> 4, 2, 1, None
    while True:
        td: int | None = None
        for bit, kind in ((1, "A"), (2, "B"), (4, "C"), (8, "D")):
            if not y & bit:
                continue
            if pos >= len(raw):
                return out, pos, True
            out.append(InterfaceByte(kind, index, raw[pos], pos, protocol))
            td = raw[pos] if kind == "D" else td
            pos += 1
        if td is None:
            return out, pos, False
        y, protocol, index = td >> 4, td & 0x0F, index + 1


def _announced(y: int, index: int) -> str:
    """What a Yi nibble says follows: `TA2, TD2 follow`."""
    follow = [f"T{kind}{index}" for bit, kind in ((1, "A"), (2, "B"), (4, "C"), (8, "D")) if y & bit]
    if follow:
        return ", ".join(follow) + " follow"
    return "no interface bytes" if index == 1 else "no more interface bytes"


def _protocols(tds: Iterable[int]) -> tuple[int, ...]:
    seen: list[int] = []
    for t in tds:
        if t != 15 and t not in seen:
            seen.append(t)
    return tuple(seen) or (0,)


def decode_atr(data: bytes | bytearray) -> Atr:
    raw = bytes(data)
    d = _Decoder(raw)
    n = len(raw)
    if n == 0:
        d.find(Level.ERROR, "empty ATR: not even TS", 0, 0)
    ts = raw[0] if n else None
    convention = {0x3B: Convention.DIRECT, 0x3F: Convention.INVERSE}.get(ts or 0, Convention.INVALID)
    if ts is not None:
        d.fields.append(d.ts(ts))
    t0 = raw[1] if n > 1 else None
    k = t0 & 0x0F if t0 is not None else None
    items: list[InterfaceByte] = []
    truncated = n < 2
    pos = min(n, 2)
    if t0 is not None and k is not None:
        y1 = t0 >> 4
        announced = _announced(y1, 1)
        meaning = f"format byte: {announced}; {k} historical byte(s)"
        d.fields.append(AtrField("T0", f"{t0:02X}", meaning, 1, 2, (
            AtrField("Y1", f"{y1:04b}", announced, 1, 2),
            AtrField("K", str(k), f"{k} historical byte(s)", 1, 2),
        )))
        items, pos, truncated = _read_interface_bytes(raw)
        d.fields.extend(d.interface_field(b) for b in items)
    elif n == 1:
        d.find(Level.ERROR, "ATR ends after TS: T0 is missing", 1, 1)

    tds = [b.value & 0x0F for b in items if b.kind == "D"]
    protocols = _protocols(tds)
    if [t for t in tds if t != 15] != sorted(t for t in tds if t != 15):
        d.find(Level.WARNING, "protocols are not announced in ascending order of T",
               next(b.offset for b in items if b.kind == "D"))
    tck_expected = any(t != 0 for t in tds)

    hb_declared = k or 0
    hb = raw[pos:pos + hb_declared] if not truncated else b""
    if truncated and t0 is not None:
        d.find(Level.ERROR, "ATR ends inside the interface bytes that T0/TDi announce", n, n)
    elif len(hb) < hb_declared:
        truncated = True
        d.find(Level.ERROR, f"T0 announces {hb_declared} historical byte(s), only {len(hb)} present", n, n)
    historical = decode_historical(hb, pos)
    d.findings.extend(historical.findings)
    if historical.field is not None:
        d.fields.append(historical.field)

    end = pos + len(hb)
    tck: int | None = None
    tck_ok: bool | None = None
    if tck_expected and not truncated:
        if end < n:
            tck = raw[end]
            right = reduce(lambda a, b: a ^ b, raw[1:end], 0)
            tck_ok = tck == right
            if tck_ok:
                d.fields.append(AtrField("TCK", f"{tck:02X}", "check byte: T0 to TCK XOR to 00, correct",
                                         end, end + 1))
            else:
                d.find(Level.ERROR, f"TCK is {tck:02X}, should be {right:02X}", end)
                d.fields.append(AtrField("TCK", f"{tck:02X}", "check byte is wrong: T0 to the last "
                                         f"historical byte XOR to {right:02X}", end, end + 1,
                                         level=Level.ERROR))
            end += 1
        else:
            truncated = True
            d.find(Level.ERROR, "TCK is missing: a protocol other than T=0 is announced, "
                   "so TCK must be present", n, n)

    extra = raw[end:] if not truncated else b""
    if extra:
        why = ("only T=0 is announced, so there is no TCK: " if not tck_expected and len(extra) == 1 else "")
        d.find(Level.WARNING, f"{why}{len(extra)} byte(s) after the end of the ATR", end, n)
        d.fields.append(AtrField("Extra bytes", to_hex(extra),
                                 f"{why}not part of the ATR", end, n, level=Level.WARNING))
    if n > MAX_ATR_LENGTH:
        d.find(Level.ERROR, f"{n} bytes: an ATR has at most {MAX_ATR_LENGTH}", MAX_ATR_LENGTH, n)

    return Atr(
        raw=raw, convention=convention, ts=ts, t0=t0, k=k, interface_bytes=tuple(items),
        protocols=protocols, specific_mode_protocol=d.specific_mode, fi=d.fi, di=d.di, fmax_mhz=d.fmax,
        n=d.n, wi=d.wi, ifsc=d.ifsc, cwi=d.cwi, bwi=d.bwi, edc=d.edc, clock_stop=d.clock_stop,
        classes=d.classes, tck_expected=tck_expected, tck=tck, tck_ok=tck_ok, historical=historical,
        truncated=truncated, extra_bytes=extra, fields=tuple(d.fields), findings=tuple(d.findings),
    )
