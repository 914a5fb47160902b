"""The OpenPGP card analyzer (OpenPGP smart card application 3.4): what `openpgp-tool -C -U -K`
and `gpg --card-status` show, and the public keys with their fingerprints checked. Sends SELECT,
GET DATA, SELECT DATA (which certificate GET DATA gives: a choice the card forgets at the next
selection) and GENERATE ASYMMETRIC KEY PAIR in read mode (P1 81) only: nothing on the card
changes, no password is presented."""

from __future__ import annotations

import functools
from collections.abc import Callable

from explorer.apps.findings import Finding, Source
from explorer.apps.openpgp.aid import decode_aid
from explorer.apps.openpgp.appdata import AppData, decode_application_data
from explorer.apps.openpgp.cardholder import (
    decode_cardholder,
    decode_certificate,
    decode_login,
    decode_security_support,
    decode_url,
)
from explorer.apps.openpgp.constants import APPLICATION_ID, SLOTS, Ins, KeySlot, Tag
from explorer.apps.openpgp.kdf import decode_algorithm_information, decode_kdf
from explorer.apps.openpgp.keys import read_public_key
from explorer.apps.session import AnalysisSession, Answer
from explorer.core.atr import decode_atr
from explorer.core.hexfmt import to_hex
from explorer.core.status_words import explain
from explorer.core.tlv import TlvNode, decode_tlv

SELECT = bytes([0x00, Ins.SELECT, 0x04, 0x00, len(APPLICATION_ID)]) + APPLICATION_ID + b"\x00"
#: Historical bytes that name an OpenPGP token (YubiKey and Gnuk say so; cards rarely do).
_ATR_MARKS = (APPLICATION_ID, b"Yubikey", b"YubiKey", b"Gnuk", b"Nitrokey")


#: SELECT DATA's occurrences of 7F21, in order (spec 7.2.5).
CERTIFICATE_SLOTS = (KeySlot.AUTHENTICATION, KeySlot.DECRYPTION, KeySlot.SIGNATURE)


def select_data(occurrence: int) -> bytes:
    """00 A5 <occurrence> 04 06 60 04 5C 02 7F 21: choose which 7F21 GET DATA gives."""
    return bytes([0x00, Ins.SELECT_DATA, occurrence, 0x04, 0x06]) + bytes.fromhex("60045C027F21")


def get_data(tag: int) -> bytes:
    return bytes([0x00, Ins.GET_DATA, tag >> 8, tag & 0xFF, 0x00])


def _sw_text(answer: Answer, command: bytes) -> str:
    found = explain(answer.sw, command)
    return f"{found.hex}: {found.text}"


def refused(name: str, answer: Answer, command: bytes) -> Finding:
    absent = answer.sw == 0x6A88
    value = "not present" if absent else f"not available ({answer.sw >> 8:02X} {answer.sw & 0xFF:02X})"
    return Finding(name, value,
                   f"GET DATA answered {_sw_text(answer, command)}",
                   Source(answer.index, 0, len(answer.data)), answer.data)


def template(answer: Answer, tag: int) -> TlvNode | None:
    """A constructed DO's answer as one node: the DO itself when the card sent it with its tag
    (as the spec shows), or a node over the answer's objects when it sent only its content."""
    result = decode_tlv(answer.data)
    if len(result.nodes) == 1 and result.nodes[0].tag == tag and result.nodes[0].end == len(answer.data):
        return result.nodes[0]
    if result.error is not None or not result.nodes:
        return None
    return TlvNode(tag, b"", len(answer.data), answer.data, 0, 0, result.nodes, True)


def simple_span(answer: Answer, tag: int) -> tuple[int, int]:
    """A simple DO's value in its answer: the whole data, or the value when the card added the tag."""
    result = decode_tlv(answer.data)
    if (result.error is None and len(result.nodes) == 1 and result.nodes[0].tag == tag
            and result.nodes[0].end == len(answer.data) and result.nodes[0].tag_bytes):
        node = result.nodes[0]
        return node.offset + node.header_length, node.end
    return 0, len(answer.data)


class OpenPgpAnalyzer:
    key = "openpgp"
    title = "OpenPGP card"

    def likely(self, atr: bytes) -> bool:
        """True when the historical bytes carry the OpenPGP AID or name an OpenPGP token. Most
        OpenPGP cards' historical bytes say nothing of it, so a False is no verdict."""
        history = decode_atr(atr).historical_bytes
        return any(mark in history for mark in _ATR_MARKS)

    def analyze(self, session: AnalysisSession) -> Finding:
        session.progress("selecting the OpenPGP application", 0.0)
        selection = session.send(SELECT)
        if not selection.ok:
            return Finding(self.title, "not an OpenPGP card",
                           f"SELECT of the OpenPGP application ({to_hex(APPLICATION_ID)}) answered "
                           f"{_sw_text(selection, SELECT)}: the card has no OpenPGP application.",
                           Source(selection.index, 0, len(selection.data)), selection.data)
        children: list[Finding] = [Finding(
            "Selection", "OpenPGP application selected",
            f"SELECT by the partial AID {to_hex(APPLICATION_ID)} (P1 04 P2 00) answered 90 00"
            + (f" with {len(selection.data)} bytes of FCI." if selection.data else "."),
            Source(selection.index, 0, len(selection.data)), selection.data)]
        session.progress("application related data", 0.1)
        app, found = self._application_data(session)
        children += found
        steps: list[tuple[int, str, Callable[[Answer, int, int], Finding] | None,
                          Callable[[Answer, TlvNode], Finding] | None]] = [
            (Tag.CARDHOLDER_RELATED_DATA, "Cardholder related data", None, decode_cardholder),
            (Tag.LOGIN_DATA, "Login data", decode_login, None),
            (Tag.URL, "URL", decode_url, None),
            (Tag.SECURITY_SUPPORT_TEMPLATE, "Security support template", None, decode_security_support),
            (Tag.KDF, "KDF data object", None, decode_kdf),
            (Tag.ALGORITHM_INFORMATION, "Algorithm information", None, decode_algorithm_information),
        ]
        for n, (tag, name, simple, constructed) in enumerate(steps):
            session.progress(f"GET DATA {name}", 0.2 + 0.4 * n / len(steps))
            children.append(self._get(session, tag, name, simple, constructed))
        session.progress("cardholder certificates", 0.55)
        children.append(self._certificates(session, app))
        keys = []
        for n, slot in enumerate(SLOTS):
            session.progress(f"reading the {slot.label.lower()}", 0.6 + 0.4 * n / len(SLOTS))
            keys.append(read_public_key(session, slot, app.keys[slot.index]))
        children.append(Finding("Public keys", "; ".join(f"{k.name}: {k.value}" for k in keys),
                                "Read with GENERATE ASYMMETRIC KEY PAIR in read mode (00 47 81 00): "
                                "nothing on the card changes.", children=tuple(keys)))
        session.progress("done", 1.0)
        aid = app.aid
        value = (f"OpenPGP card {aid.version_text}, serial {aid.manufacturer:04X} {aid.serial.hex().upper()}"
                 if aid else "OpenPGP application, AID not read")
        return Finding(self.title, value, "The OpenPGP application read without a password: nothing on the "
                       "card changed.", children=tuple(children))

    def _application_data(self, session: AnalysisSession) -> tuple[AppData, list[Finding]]:
        command = get_data(Tag.APPLICATION_RELATED_DATA)
        answer = session.send(command)
        node = template(answer, Tag.APPLICATION_RELATED_DATA) if answer.ok and answer.data else None
        if node is not None:
            found, app = decode_application_data(answer, node)
            if app.aid is not None:
                return app, [found]
            out = [found]
        else:
            out = [refused("Application related data", answer, command)]
            app = AppData()
        # Without 6E (or an AID in it), the AID alone (4F) still names the card.
        command = get_data(Tag.AID)
        answer = session.send(command)
        if not answer.ok or not answer.data:
            return app, [*out, refused("Application identifier (AID)", answer, command)]
        start, end = simple_span(answer, Tag.AID)
        found, app.aid = decode_aid(answer, start, end)
        return app, [*out, found]

    def _certificates(self, session: AnalysisSession, app: AppData) -> Finding:
        """7F21: a version 3 card keeps one per key, chosen with SELECT DATA (7.2.5: occurrence 0
        the authentication key's, 1 decryption, 2 signature); an older card, or one refusing
        SELECT DATA, has the one GET DATA gives."""
        name = "Cardholder certificate"
        if app.aid is None or app.aid.version < (3, 0):
            return self._get(session, Tag.CARDHOLDER_CERTIFICATE, name, decode_certificate, None)
        found = []
        for occurrence, slot in enumerate(CERTIFICATE_SLOTS):
            command = select_data(occurrence)
            chosen = session.send(command)
            if not chosen.ok:
                if not occurrence:  # no SELECT DATA: the one certificate there is
                    return self._get(session, Tag.CARDHOLDER_CERTIFICATE, name, decode_certificate, None)
                found.append(Finding(f"{name} ({slot.label.lower()})", "not selected",
                                     f"SELECT DATA answered {_sw_text(chosen, command)}",
                                     Source(chosen.index, 0, len(chosen.data)), chosen.data))
                break
            which = f"{name} ({slot.label.lower()})"
            found.append(self._get(session, Tag.CARDHOLDER_CERTIFICATE, which,
                                   functools.partial(decode_certificate, name=which), None))
        present = [f for f in found if f.value not in ("empty", "not present", "not selected")]
        return Finding("Cardholder certificates", f"{len(present)} of {len(CERTIFICATE_SLOTS)}",
                       "The certificates (7F21) of the three keys, each chosen with SELECT DATA (00 A5) "
                       "before GET DATA.", children=tuple(found))

    def _get(self, session: AnalysisSession, tag: int, name: str,
             simple: Callable[[Answer, int, int], Finding] | None,
             constructed: Callable[[Answer, TlvNode], Finding] | None) -> Finding:
        command = get_data(tag)
        answer = session.send(command)
        if not answer.ok:
            return refused(name, answer, command)
        if not answer.data:
            return Finding(name, "empty", "GET DATA answered 90 00 with no data: the DO is not set.",
                           Source(answer.index, 0, 0))
        if constructed is not None:
            node = template(answer, tag)
            if node is None:
                return Finding(name, to_hex(answer.data), "unexpected answer: not BER-TLV",
                               Source(answer.index, 0, len(answer.data)), answer.data)
            return constructed(answer, node)
        assert simple is not None
        start, end = simple_span(answer, tag)
        return simple(answer, start, end)
