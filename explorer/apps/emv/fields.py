"""EMV value formats (Book 3 4.3): numeric (n, BCD), compressed numeric (cn, BCD padded with F),
dates YYMMDD, alphanumeric text, and bit maps against the tables in constants."""

from __future__ import annotations

from collections.abc import Callable

from explorer.core.hexfmt import to_hex


def bits_set(value: bytes, table: tuple[tuple[int, int, str], ...]) -> list[str]:
    return [text for byte, mask, text in table if byte < len(value) and value[byte] & mask]


def rfu_bits(value: bytes, table: tuple[tuple[int, int, str], ...]) -> str:
    """The set bits no entry of `table` names, as "byte N: XX", or ""."""
    known: dict[int, int] = {}
    for byte, mask, _ in table:
        known[byte] = known.get(byte, 0) | mask
    extra = [f"byte {i + 1}: {b & ~known.get(i, 0):02X}" for i, b in enumerate(value) if b & ~known.get(i, 0)]
    return ", ".join(extra)


def bit_text(value: bytes, table: tuple[tuple[int, int, str], ...], none: str) -> str:
    parts = bits_set(value, table)
    extra = rfu_bits(value, table)
    if extra:
        parts.append(f"RFU bits set ({extra})")
    return "; ".join(parts) or none


def digits(value: bytes) -> str:
    """BCD digits, F padding (cn) dropped; a nibble above 9 elsewhere shown as its hex."""
    return value.hex().upper().rstrip("F")


def named_code(value: bytes, name: Callable[[int], str | None]) -> tuple[str, bool]:
    """A numeric country or currency code (n 3 in two bytes) as "978 (EUR, Euro)", and whether the
    ISO table named it."""
    code = digits(value).lstrip("0").zfill(3)
    named = name(int(code)) if code.isdigit() else None
    return (f"{code} ({named})", True) if named else (code, False)


def number(value: bytes) -> int | None:
    """A numeric (n) value, or None when it is not BCD."""
    text = value.hex()
    return int(text) if text.isdigit() else None


def date(value: bytes) -> str:
    """YYMMDD (n 6) as 20YY-MM-DD; years 50-99 are 19xx (Book 4's date management)."""
    text = value.hex()
    if len(value) != 3 or not text.isdigit():
        return to_hex(value)
    year = int(text[:2])
    century = 1900 if year >= 50 else 2000
    return f"{century + year}-{text[2:4]}-{text[4:6]}"


def text(value: bytes) -> str:
    """Alphanumeric special (ans): ASCII, anything else shown as \\xHH."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02X}" for b in value)


def luhn_ok(pan: str) -> bool:
    if not pan.isdigit() or len(pan) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(pan)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def track2_parts(value: bytes) -> tuple[str, str, str, str] | None:
    """(PAN, expiry YYMM, service code, discretionary data) of track 2 equivalent data (57:
    PAN, separator D, YYMM, service code, discretionary data, F padding), or None."""
    nibbles = value.hex().upper().rstrip("F")
    pan, sep, rest = nibbles.partition("D")
    if not sep or not pan.isdigit() or len(rest) < 7:
        return None
    return pan, rest[:4], rest[4:7], rest[7:]


SERVICE_CODE_1 = {"1": "international interchange", "2": "international interchange, use the chip",
                  "5": "national interchange only", "6": "national interchange only, use the chip",
                  "7": "no interchange except under bilateral agreement", "9": "test"}
SERVICE_CODE_2 = {"0": "normal authorisation", "2": "authorisation by the issuer (online)",
                  "4": "authorisation by the issuer except under bilateral agreement"}
SERVICE_CODE_3 = {"0": "no restrictions, PIN required", "1": "no restrictions",
                  "2": "goods and services only", "3": "ATM only, PIN required", "4": "cash only",
                  "5": "goods and services only, PIN required",
                  "6": "no restrictions, prompt for PIN if PIN pad present",
                  "7": "goods and services only, prompt for PIN if PIN pad present"}


def service_code(code: str) -> str:
    """ISO/IEC 7813 service code, digit by digit."""
    if len(code) != 3:
        return f"{code}: not three digits"
    tables = (SERVICE_CODE_1, SERVICE_CODE_2, SERVICE_CODE_3)
    return "; ".join(table.get(d, f"{d}: reserved") for d, table in zip(code, tables, strict=True))
