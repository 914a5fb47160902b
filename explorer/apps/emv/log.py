"""The transaction log (Book 3 Annex D4): the file named by the log entry 9F4D (SFI, number of
records), each record the values of the log format 9F4F's DOL, concatenated without tags."""

from __future__ import annotations

from explorer.apps.emv.constants import Tag
from explorer.apps.emv.dol import DolEntry
from explorer.apps.emv.fields import date, digits, named_code, text
from explorer.apps.findings import Finding
from explorer.apps.session import Answer
from explorer.apps.traced import at
from explorer.core.hexfmt import to_hex
from explorer.core.iso_codes import country_name, currency_name


def _shown(entry: DolEntry, value: bytes) -> str:
    if entry.tag == Tag.TRANSACTION_DATE:
        return date(value)
    if entry.tag == Tag.TRANSACTION_TIME and len(value) == 3:
        hhmmss = value.hex()
        return f"{hhmmss[:2]}:{hhmmss[2:4]}:{hhmmss[4:]}"
    if entry.tag in (Tag.AMOUNT, Tag.AMOUNT_OTHER):
        return digits(value).lstrip("0") or "0"
    if entry.tag == Tag.TRANSACTION_CURRENCY:
        return named_code(value, currency_name)[0]
    if entry.tag == Tag.TERMINAL_COUNTRY:
        return named_code(value, country_name)[0]
    if entry.tag == Tag.MERCHANT_NAME:
        return text(value).strip()
    if entry.tag == Tag.ATC:
        return f"{int.from_bytes(value, 'big')} ({to_hex(value)})"
    return to_hex(value)


def decode_log_record(answer: Answer, number: int, entries: list[DolEntry]) -> Finding:
    """Record `number` of the log, split by the log format's entries."""
    data = answer.data
    pos = 0
    children = []
    for entry in entries:
        if pos + entry.length > len(data):
            children.append(at(answer, pos, len(data), entry.name, to_hex(data[pos:]),
                               f"cut short: the log format gives it {entry.length} bytes"))
            pos = len(data)
            break
        children.append(at(answer, pos, pos + entry.length, entry.name[:1].upper() + entry.name[1:],
                           _shown(entry, data[pos:pos + entry.length]),
                           f"tag {entry.tag_bytes.hex().upper()} per the log format"))
        pos += entry.length
    if pos < len(data):
        children.append(at(answer, pos, len(data), "Beyond the log format", to_hex(data[pos:]),
                           "bytes the log format does not describe"))
    summary = ", ".join(c.value for c in children[:3])
    return at(answer, 0, len(data), f"Log record {number}", summary,
              "one transaction the card logged, decoded with the log format (9F4F)", children)
