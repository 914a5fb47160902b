"""EMV data objects as records, FCIs, GPO answers and GET DATA carry them, decoded with their
EMV names (Book 3 Annex A) and traced to their bytes. The PAN, track data and the cardholder's
name are sensitive findings: masked unless revealed."""

from __future__ import annotations

from collections.abc import Callable

from explorer.apps.emv import lists
from explorer.apps.emv.constants import SENSITIVE_TAGS, Tag
from explorer.apps.emv.dol import tag_name
from explorer.apps.emv.fields import (
    date,
    digits,
    luhn_ok,
    named_code,
    number,
    service_code,
    text,
    track2_parts,
)
from explorer.apps.findings import Finding
from explorer.apps.session import Answer
from explorer.apps.traced import of_node
from explorer.core.hexfmt import to_hex
from explorer.core.iso_codes import country_name, currency_name, language_name
from explorer.core.tlv import TlvNode

Decoder = Callable[[Answer, TlvNode], Finding]


def _title(tag: int) -> str:
    name = tag_name(tag)
    return name[:1].upper() + name[1:]


def _pan(answer: Answer, node: TlvNode) -> Finding:
    pan = digits(node.value)
    check = "the Luhn check digit is right" if luhn_ok(pan) else "the Luhn check digit is WRONG"
    return of_node(answer, node, "PAN", pan, f"primary account number, {len(pan)} digits; {check}",
                   sensitive=True)


def _track2(answer: Answer, node: TlvNode) -> Finding:
    parts = track2_parts(node.value)
    shown = node.value.hex().upper().rstrip("F")
    if parts is None:
        return of_node(answer, node, _title(node.tag), shown, "not in the track 2 layout (PAN D YYMM …)",
                       sensitive=True)
    pan, expiry, code, extra = parts
    children = [Finding("PAN", pan, "the account number track 2 carries", sensitive=True),
                Finding("Expiry", f"20{expiry[:2]}-{expiry[2:]}" if expiry.isdigit() else expiry, "YYMM"),
                Finding("Service code", code, service_code(code)),
                Finding("Discretionary data", extra, "the issuer's (a PIN verification value, a CVV…)",
                        sensitive=True)]
    return of_node(answer, node, _title(node.tag), shown,
                   "the magnetic stripe's track 2 as the chip gives it: PAN, D, expiry YYMM, service code, "
                   "discretionary data", children, sensitive=True)


def _text(why: str) -> Decoder:
    def decode(answer: Answer, node: TlvNode) -> Finding:
        return of_node(answer, node, _title(node.tag), text(node.value).strip(), why,
                       sensitive=node.tag in SENSITIVE_TAGS)
    return decode


def _date(why: str) -> Decoder:
    def decode(answer: Answer, node: TlvNode) -> Finding:
        return of_node(answer, node, _title(node.tag), date(node.value), why)
    return decode


def _code(why: str, name: Callable[[int], str | None]) -> Decoder:
    """A numeric country or currency code (ISO 3166-1 / ISO 4217, n 3 in two bytes), named."""
    def decode(answer: Answer, node: TlvNode) -> Finding:
        shown, named = named_code(node.value, name)
        return of_node(answer, node, _title(node.tag), shown,
                       why if named else f"{why}; a code it does not list")
    return decode


def _count(why: str) -> Decoder:
    def decode(answer: Answer, node: TlvNode) -> Finding:
        value = int.from_bytes(node.value, "big")
        return of_node(answer, node, _title(node.tag), f"{value} ({to_hex(node.value)})", why)
    return decode


def _service(answer: Answer, node: TlvNode) -> Finding:
    code = digits(node.value)[-3:]
    return of_node(answer, node, "Service code", code, f"ISO/IEC 7813: {service_code(code)}")


def _priority(answer: Answer, node: TlvNode) -> Finding:
    value = node.value[0] if node.value else 0
    rank = value & 0x0F
    parts = [f"priority {rank}" if rank else "no priority assigned"]
    if value & 0x80:
        parts.append("the cardholder must confirm its selection")
    return of_node(answer, node, "Application priority indicator", f"{to_hex(node.value)}",
                   "; ".join(parts) + " (1 is the highest)")


def _languages(answer: Answer, node: TlvNode) -> Finding:
    codes = [text(node.value[i:i + 2]) for i in range(0, len(node.value), 2)]
    named = [f"{code} ({name})" if (name := language_name(code)) else code for code in codes]
    return of_node(answer, node, "Language preference", ", ".join(named),
                   "ISO 639-1 codes, the cardholder's preferred first")


def _code_table(answer: Answer, node: TlvNode) -> Finding:
    n = node.value[0] if node.value else 0
    return of_node(answer, node, "Issuer code table index", f"{n:02d}",
                   f"the application preferred name is in ISO/IEC 8859-{n}")


def _exponent(answer: Answer, node: TlvNode) -> Finding:
    n = number(node.value)
    shown = str(n) if n is not None else to_hex(node.value)
    return of_node(answer, node, "Application currency exponent", shown,
                   "decimal places of amounts in the application currency")


def _df_name(answer: Answer, node: TlvNode) -> Finding:
    """An AID in hex; a PSE's or PPSE's name (1PAY.SYS.DDF01) in ASCII too."""
    shown = to_hex(node.value)
    if node.value and all(0x20 < b < 0x7F for b in node.value):
        shown += f" ({text(node.value)})"
    return of_node(answer, node, _title(node.tag), shown, "the name the application or environment is "
                   "selected by (for an application, its AID)")


def _log_entry(answer: Answer, node: TlvNode) -> Finding:
    if len(node.value) != 2:
        return of_node(answer, node, "Log entry", to_hex(node.value), "expected 2 bytes: SFI and count")
    sfi, count = node.value
    return of_node(answer, node, "Log entry", f"SFI {sfi}, {count} records",
                   "where the transaction log is: its file's SFI and how many records it keeps")


def _hex(why: str) -> Decoder:
    def decode(answer: Answer, node: TlvNode) -> Finding:
        return of_node(answer, node, _title(node.tag), to_hex(node.value), why,
                       sensitive=node.tag in SENSITIVE_TAGS)
    return decode


def _cvm(answer: Answer, node: TlvNode) -> Finding:
    return lists.cvm_list(answer, node)


def _dol(name: str, why: str) -> Decoder:
    def decode(answer: Answer, node: TlvNode) -> Finding:
        return lists.dol(answer, node, name, why)
    return decode


def _afl(answer: Answer, node: TlvNode) -> Finding:
    return lists.afl(answer, node)


def _aip(answer: Answer, node: TlvNode) -> Finding:
    return lists.aip(answer, node.offset, node.end, node.value)


def _iac(when: str) -> Decoder:
    def decode(answer: Answer, node: TlvNode) -> Finding:
        return lists.iac(answer, node, _title(node.tag), when)
    return decode


_CERT = "an RSA certificate or key part for offline data authentication, shown as sent"

DECODERS: dict[int, Decoder] = {
    Tag.PAN: _pan, Tag.TRACK2: _track2, Tag.TRACK2_DATA: _track2,
    Tag.TRACK1: _text("track 1 as the chip gives it (contactless): it holds the PAN and the name"),
    Tag.TRACK1_DISCRETIONARY: _hex("the issuer's data on track 1"),
    Tag.TRACK2_DISCRETIONARY: _hex("the issuer's data on track 2"),
    Tag.CARDHOLDER_NAME: _text("as printed on the card, surname / first name"),
    Tag.CARDHOLDER_NAME_EXTENDED: _text("the cardholder's name when it is longer than 26 characters"),
    Tag.APPLICATION_LABEL: _text("the application's mnemonic, for display"),
    Tag.PREFERRED_NAME: _text("the name to show, in the code table 9F11 names"),
    Tag.EXPIRY: _date("the last day the application may be used"),
    Tag.EFFECTIVE: _date("the first day the application may be used"),
    Tag.ISSUER_COUNTRY: _code("the issuer's country, ISO 3166-1 numeric", country_name),
    Tag.APP_CURRENCY: _code("the application's currency, ISO 4217 numeric", currency_name),
    Tag.TRANSACTION_CURRENCY: _code("ISO 4217 numeric", currency_name),
    Tag.TERMINAL_COUNTRY: _code("ISO 3166-1 numeric", country_name),
    Tag.SERVICE_CODE: _service,
    Tag.PAN_SEQUENCE: _count("tells apart cards with the same PAN"),
    Tag.DF_NAME: _df_name, Tag.ADF_NAME: _df_name, Tag.PRIORITY: _priority, Tag.LANGUAGE: _languages,
    Tag.CODE_TABLE: _code_table,
    Tag.APP_CURRENCY_EXPONENT: _exponent, Tag.LOG_ENTRY: _log_entry,
    Tag.APP_VERSION: _hex("the application's version number, as the payment system assigns it"),
    Tag.AUC: lists.auc, Tag.AIP: _aip, Tag.CVM_LIST: _cvm, Tag.AFL: _afl,
    Tag.IAC_DEFAULT: _iac("decline when it cannot go online"),
    Tag.IAC_DENIAL: _iac("decline offline"), Tag.IAC_ONLINE: _iac("send the transaction online"),
    Tag.CDOL1: _dol("CDOL1", "what the terminal sends with the first GENERATE AC"),
    Tag.CDOL2: _dol("CDOL2", "what the terminal sends with the second GENERATE AC"),
    Tag.PDOL: _dol("PDOL", "what the terminal sends with GET PROCESSING OPTIONS"),
    Tag.DDOL: _dol("DDOL", "what the terminal sends with INTERNAL AUTHENTICATE"),
    Tag.LOG_FORMAT: _dol("Log format", "the fields of each transaction log record, in order"),
    Tag.SDA_TAG_LIST: _hex("tags whose values are signed with the static data (normally 82, the AIP)"),
    Tag.CA_KEY_INDEX: _hex("which certification authority public key the issuer certificate needs"),
    Tag.ATC: _count("application transaction counter: goes up with every transaction (every GPO)"),
    Tag.LAST_ONLINE_ATC: _count("the ATC of the last transaction that went online"),
    Tag.PIN_TRY_COUNTER: _count("PIN tries left before the offline PIN is blocked"),
    0x90: _hex(_CERT), 0x92: _hex(_CERT), 0x93: _hex(_CERT), 0x9F32: _hex(_CERT), 0x9F46: _hex(_CERT),
    0x9F47: _hex(_CERT), 0x9F48: _hex(_CERT),
}


def decode_object(answer: Answer, node: TlvNode) -> Finding:
    """One data object (a template with its children) of `answer`'s data, decoded from offset 0."""
    decoder = DECODERS.get(node.tag)
    if decoder is not None:
        return decoder(answer, node)
    if node.constructed:
        children = [decode_object(answer, child) for child in node.children]
        return of_node(answer, node, _title(node.tag), "", f"template {node.tag_hex}", children)
    return of_node(answer, node, _title(node.tag), to_hex(node.value), f"tag {node.tag_hex}",
                   sensitive=node.tag in SENSITIVE_TAGS)
