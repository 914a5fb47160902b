"""Cardholder related data (65: name 5B, language 5F2D, sex 5F35; spec 4.4.3.2-4), login data
(5E), URL (5F50), the security support template (7A: signature counter 93) and the cardholder
certificate (7F21). Personal data is sensitive: masked in exports unless revealed."""

from __future__ import annotations

from cryptography import x509

from explorer.apps.findings import Finding
from explorer.apps.openpgp.constants import Tag
from explorer.apps.session import Answer
from explorer.apps.traced import at, of_node
from explorer.apps.x509_keys import certificate_key_text
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

#: ISO/IEC 5218 codes of 5F35.
SEX = {0x30: "not known", 0x31: "male", 0x32: "female", 0x39: "not applicable"}


def text_of(value: bytes) -> str:
    """Card text: ISO 8859-1 per the spec for the name; anything else is shown, never refused."""
    return value.decode("latin-1").replace("\x00", "")


def name_text(value: bytes) -> str:
    """5B per ISO/IEC 7501-1: `Surname<<Given<Names`, `<` standing for a space; shown as
    `Given Names Surname`."""
    raw = text_of(value)
    surname, sep, given = raw.partition("<<")
    if not sep:
        return raw.replace("<", " ").strip()
    return " ".join(part.replace("<", " ").strip() for part in (given, surname) if part.strip("<"))


def languages(value: bytes) -> list[str]:
    text = text_of(value)
    return [text[i : i + 2] for i in range(0, len(text) - 1, 2)]


def decode_cardholder(answer: Answer, node: TlvNode) -> Finding:
    children = []
    for child in node.children:
        if child.tag == Tag.NAME:
            children.append(of_node(answer, child, "Name", name_text(child.value),
                                    "5B, written surname<<given names with < for a space (ISO/IEC 7501-1), "
                                    "shown given names first", sensitive=True))
        elif child.tag == Tag.LANGUAGE:
            children.append(of_node(answer, child, "Language preferences", ", ".join(languages(child.value)),
                                    "ISO 639-1 codes, most preferred first (5F2D)"))
        elif child.tag == Tag.SEX:
            code = child.value[0] if len(child.value) == 1 else -1
            children.append(of_node(answer, child, "Sex", SEX.get(code, to_hex(child.value)),
                                    "ISO/IEC 5218 (5F35): 1 male, 2 female, 9 not applicable, 0 not known",
                                    sensitive=True))
        else:
            children.append(of_node(answer, child, f"Tag {child.tag_hex}", to_hex(child.value),
                                    "not defined for cardholder related data"))
    return of_node(answer, node, "Cardholder related data",
                   next((c.value for c in children if c.name == "Name"), ""),
                   "Who the card belongs to (65): personal data, masked unless revealed.", children,
                   sensitive=True)


def decode_login(answer: Answer, start: int, end: int) -> Finding:
    return at(answer, start, end, "Login data", text_of(answer.data[start:end]),
              "An account name for a login to a system (5E): personal data.", sensitive=True)


def decode_url(answer: Answer, start: int, end: int) -> Finding:
    return at(answer, start, end, "URL", text_of(answer.data[start:end]),
              "Where the cardholder's public keys can be fetched (5F50).")


def decode_security_support(answer: Answer, node: TlvNode) -> Finding:
    children = []
    for child in node.children:
        if child.tag == Tag.SIGNATURE_COUNTER:
            count = int.from_bytes(child.value, "big")
            children.append(of_node(answer, child, "Digital signature counter", str(count),
                                    "how many signatures the signature key has made (93); set to zero when "
                                    "the key is generated or imported"))
        else:
            children.append(of_node(answer, child, f"Tag {child.tag_hex}", to_hex(child.value),
                                    "not defined for the security support template"))
    return of_node(answer, node, "Security support template",
                   next((f"{c.value} signatures" for c in children if c.name.startswith("Digital")), ""),
                   "The security support template (7A).", children)


def decode_certificate(answer: Answer, start: int, end: int, name: str = "Cardholder certificate") -> Finding:
    """7F21's content: an X.509 certificate (DER); what it holds shown, or why it does not parse."""
    der = answer.data[start:end]
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        # The subject names the cardholder: personal data, as the name in 65 is.
        children = [
            at(answer, start, end, "Subject", subject, "whom the certificate names", sensitive=True),
            at(answer, start, end, "Issuer", issuer, "who signed it" + (" (itself)" * (issuer == subject)),
               sensitive=issuer == subject),
            at(answer, start, end, "Validity", f"{cert.not_valid_before_utc:%Y-%m-%d} to "
               f"{cert.not_valid_after_utc:%Y-%m-%d}", "not before, not after (UTC)"),
            at(answer, start, end, "Key", certificate_key_text(cert), "the certified public key"),
        ]
    except ValueError as exc:  # what cryptography raises for bad DER
        return at(answer, start, end, name, f"{len(der)} bytes, not X.509",
                  f"The content of 7F21 does not parse as a DER certificate: {exc}.")
    return at(answer, start, end, name, subject, "A certificate the card stores for one of its keys (7F21).",
              children, sensitive=True)
