"""Numbers that identify a card and a subscriber: ICCID (ITU-T E.118, stored as 102 221 13.2
says), IMSI (31.102 4.2.2) and PLMN identities (3GPP TS 24.008 10.5.1.3)."""

from __future__ import annotations

from explorer.apps.sim.fields import Field, digits, nibbles


def luhn_digit(body: str) -> int:
    """The Luhn check digit for `body` (digits only): E.118 puts it last in an ICCID."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right, starting with the last of the body
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return (10 - total % 10) % 10


def decode_iccid(data: bytes) -> Field:
    number = digits(data)
    children: list[Field] = []
    if number.isdigit() and len(number) >= 2:
        body, check = number[:-1], int(number[-1])
        good = luhn_digit(body) == check
        where = (len(number) - 1) // 2
        verdict = "correct" if good else f"wrong: Luhn gives {luhn_digit(body)}"
        children.append(Field("Check digit", f"{check} ({verdict})",
                              "the last digit is a Luhn check over the others (ITU-T E.118)",
                              where, where + 1))
        if number.startswith("89"):
            children.append(Field("Major industry identifier", "89",
                                  "89: telecommunications (ITU-T E.118)", 0, 1))
    why = ("the card's serial number: BCD digits with the nibbles of each byte swapped, "
           "padded with F (ETSI TS 102 221 13.2)")
    if not number.isdigit():
        why += "; it holds non-digits, which an ICCID should not"
    return Field("ICCID", number, why, 0, len(data), children=tuple(children))


def decode_imsi(data: bytes, mnc_length: int | None = None) -> Field:
    """EF.IMSI: a length byte, then the digits; the first byte's low nibble holds the identity
    type (001: IMSI) and the parity (b4 set: an odd number of digits)."""
    if len(data) < 2 or data[0] == 0xFF or data[0] == 0 or data[0] > len(data) - 1:
        return Field("IMSI", "not set" if data[:1] == b"\xff" else "unreadable",
                     "the length byte says no IMSI is stored" if data[:1] == b"\xff"
                     else "the length byte does not fit the file", 0, len(data))
    n = data[0]
    first = data[1]
    odd = bool(first & 0x08)
    all_digits = [first >> 4, *nibbles(data[2 : 1 + n])]
    count = 2 * n - 1 if odd else 2 * n - 2
    imsi = "".join(f"{d:X}" for d in all_digits[:count])
    mnc_len = mnc_length if mnc_length in (2, 3) else 2
    guess = "" if mnc_length in (2, 3) else " (EF.AD not read: two digits assumed)"
    children = (
        Field("Length", f"{n} bytes", "bytes of IMSI that follow", 0, 1),
        Field("Identity type and parity", f"type {first & 0x07:03b}, {'odd' if odd else 'even'}",
              "low nibble of the first digit byte: 001 is an IMSI; b4 set means an odd number of digits",
              1, 2),
        Field("MCC", imsi[:3], "mobile country code: the first three digits", 1, 3, True),
        Field("MNC", imsi[3 : 3 + mnc_len], f"mobile network code: {mnc_len} digits as EF.AD says{guess}",
              3, 4 if mnc_len == 2 else 5, True),
        Field("MSIN", imsi[3 + mnc_len :], "the subscriber's number within the network", 4, 1 + n, True),
    )
    return Field("IMSI", imsi, "the subscriber identity the network knows this card by (31.102 4.2.2)",
                 0, 1 + n, True, children)


def plmn(data: bytes) -> tuple[str, str] | None:
    """MCC and MNC of a 3-byte PLMN identity (24.008 10.5.1.3): octet 1 MCC2|MCC1, octet 2
    MNC3|MCC3, octet 3 MNC2|MNC1, MNC3 = F for a two-digit MNC. None for an empty entry."""
    if len(data) != 3 or data == b"\xff\xff\xff":
        return None
    n = nibbles(data)
    mcc = "".join(f"{d:X}" for d in (n[0], n[1], n[2]))
    mnc = "".join(f"{d:X}" for d in (n[4], n[5])) + ("" if n[3] == 0xF else f"{n[3]:X}")
    return mcc, mnc


def plmn_text(data: bytes) -> str:
    found = plmn(data)
    return "empty" if found is None else f"MCC {found[0]} MNC {found[1]}"
