"""The PIV analyzer (NIST SP 800-73-4): SELECT of the PIV application by its partial AID with the
application property template decoded; GET DATA of the discovery object, CHUID (FASC-N, GUID,
expiry), CCC, the certificates of slots 9A, 9C, 9D, 9E and of the retired key management slots
the key history counts, the printed information and the security object; then the PIN and PUK
tries left, from a VERIFY without data, which uses no try.

Sends SELECT, GET DATA (00 CB) and the empty VERIFY; nothing that changes the card."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace

from explorer.apps.findings import Finding, Source
from explorer.apps.piv.certs import CertSummary, decode_certificate_object
from explorer.apps.piv.constants import (
    CERT_SLOTS,
    DATA_CONTAINER,
    PIV_AID,
    RID,
    AptTag,
    KeyRef,
    ObjectTag,
    PinPolicy,
    Sw,
    retired_slot,
)
from explorer.apps.piv.objects import (
    decode_apt,
    decode_ccc,
    decode_chuid,
    decode_discovery,
    decode_key_history,
    decode_printed,
)
from explorer.apps.piv.reading import SELECT_PIV, empty_verify, flat_tlv, get_data, with_children
from explorer.apps.piv.security_object import decode_security_object
from explorer.apps.session import AnalysisSession, Answer
from explorer.apps.traced import at
from explorer.core.atr import decode_atr
from explorer.core.hexfmt import to_hex
from explorer.core.status_words import explain
from explorer.core.tlv import TlvNode, decode_tlv

SELECT_FULL = bytes([0x00, 0xA4, 0x04, 0x00, len(PIV_AID)]) + PIV_AID + b"\x00"
_TRIES = 0x63C0


def _sw(answer: Answer, command: bytes) -> str:
    found = explain(answer.sw, command)
    return f"{found.hex}: {found.text}"


def _said(answer: Answer, name: str, value: str, why: str) -> Finding:
    """A finding about a command's status word (and whatever data came with it)."""
    return Finding(name, value, why, Source(answer.index, 0, len(answer.data)), answer.data)


def _stopped(found: Finding, problem: str) -> Finding:
    """`found` with where decoding stopped, when it did."""
    if not problem:
        return found
    return replace(found, children=(*found.children, Finding("Decoding stopped", problem,
                                                             "the bytes from there are not data objects")))


class PivAnalyzer:
    key = "piv"
    title = "PIV"

    def likely(self, atr: bytes) -> bool:
        """True when the historical bytes carry NIST's RID. Most PIV cards' ATRs say nothing of
        PIV, so a False is no verdict: `analyze` selects the application."""
        return RID in decode_atr(atr).historical_bytes

    def analyze(self, session: AnalysisSession) -> Finding:
        session.progress("PIV: SELECT", 0.0)
        selection, tried = self._select(session)
        if selection is None:
            return Finding(self.title, "not a PIV card",
                           "The PIV application could not be selected: " + "; ".join(tried) + ".")
        children = [self._apt(selection)]
        certificates: list[tuple[int, CertSummary]] = []
        seen: dict[int, tuple[bytes, bytes]] = {}  # what was read, for the security object's hashes
        steps: list[tuple[str, Callable[[], list[Finding]]]] = [
            ("discovery object", lambda: [self._read(session, ObjectTag.DISCOVERY, "Discovery object",
                                                     decode_discovery, seen)]),
            ("CHUID", lambda: [self._read(session, ObjectTag.CHUID, "Card holder unique identifier (CHUID)",
                                          decode_chuid, seen)]),
            ("CCC", lambda: [self._read(session, ObjectTag.CARD_CAPABILITY_CONTAINER,
                                        "Card capability container (CCC)", decode_ccc, seen)]),
            ("certificates", lambda: self._certificates(session, certificates, seen)),
            ("printed information", lambda: [self._read(session, ObjectTag.PRINTED_INFORMATION,
                                                        "Printed information", decode_printed, seen)]),
            ("security object", lambda: [self._read(session, ObjectTag.SECURITY_OBJECT, "Security object",
                                                    functools.partial(decode_security_object, read=seen),
                                                    seen)]),
        ]
        for n, (what, step) in enumerate(steps):
            session.progress(f"PIV: {what}", (n + 1) / (len(steps) + 2))
            children.extend(step())
        session.progress("PIV: PIN and PUK", (len(steps) + 1) / (len(steps) + 2))
        children.extend(self._pins(session, children))
        session.progress("done", 1.0)
        count = len(certificates)
        return Finding(self.title, f"PIV card application, {count} certificate{'s' * (count != 1)}",
                       "Read with SELECT, GET DATA and VERIFY without data (which spends no try): "
                       "nothing on the card changed.", children=tuple(children))

    # -- selection ------------------------------------------------------------------------

    @staticmethod
    def _select(session: AnalysisSession) -> tuple[Answer | None, list[str]]:
        tried: list[str] = []
        for command, what in ((SELECT_PIV, "by the partial AID A0 00 00 03 08"),
                              (SELECT_FULL, f"by the full AID {to_hex(PIV_AID)}")):
            answer = session.send(command)
            if answer.ok:
                return answer, tried
            tried.append(f"SELECT {what} answered {_sw(answer, command)}")
        return None, tried

    @staticmethod
    def _apt(selection: Answer) -> Finding:
        result = decode_tlv(selection.data)
        node = next((n for n in result.nodes if n.tag == AptTag.TEMPLATE), None)
        if node is None:
            why = result.error.message if result.error else "no application property template (61) in it"
            return at(selection, 0, len(selection.data), "Application property template",
                      to_hex(selection.data) or "(no data)", f"SELECT answered 90 00, but {why}")
        found = decode_apt(selection, node)
        if result.error is not None:
            found = _stopped(found, result.error.message)
        return found

    # -- data objects ---------------------------------------------------------------------

    @staticmethod
    def _get(session: AnalysisSession, tag: int, name: str,
             seen: dict[int, tuple[bytes, bytes]]) -> tuple[Answer, TlvNode | Finding, str]:
        """The answer to GET DATA of `tag`; its container with children, or the finding that says
        why there is none; and where decoding stopped ("" when it did not). What was read goes
        into `seen` by tag: (the container's content, the object as answered)."""
        command = get_data(tag)
        answer = session.send(command)
        if answer.sw == Sw.NOT_FOUND:
            why = f"GET DATA answered {_sw(answer, command)}"
            return answer, _said(answer, name, "not on the card", why), ""
        if answer.sw == Sw.SECURITY_STATUS:
            return answer, _said(answer, name, "needs the PIN",
                                 "GET DATA answered 69 82: the object is read only after the PIN; "
                                 "the analyzer does not ask for it"), ""
        if not answer.ok:
            return answer, _said(answer, name, f"not available ({answer.sw >> 8:02X} {answer.sw & 0xFF:02X})",
                                 f"GET DATA answered {_sw(answer, command)}"), ""
        outer = DATA_CONTAINER if tag > 0xFFFF else tag
        if outer == DATA_CONTAINER:
            top = flat_tlv(answer.data)
            node = next((n for n in top.nodes if n.tag == outer), None)
            problem = top.error
            if node is not None:
                node, problem = with_children(node)
        else:
            result = decode_tlv(answer.data)
            node = next((n for n in result.nodes if n.tag == outer), None)
            problem = result.error.message if result.error else ""
        if node is None:
            why = problem or f"no {outer:02X} object in it"
            return answer, at(answer, 0, len(answer.data), name, to_hex(answer.data) or "(no data)",
                          f"unexpected answer to GET DATA: {why}"), ""
        seen[tag] = (node.value, answer.data[node.offset:node.end])
        return answer, node, problem

    def _read(self, session: AnalysisSession, tag: int, name: str,
              decode: Callable[[Answer, TlvNode], Finding], seen: dict[int, tuple[bytes, bytes]]) -> Finding:
        answer, got, problem = self._get(session, tag, name, seen)
        return got if isinstance(got, Finding) else _stopped(decode(answer, got), problem)

    def _certificate(self, session: AnalysisSession, key: int, tag: int, name: str,
                     read: list[tuple[int, CertSummary]], seen: dict[int, tuple[bytes, bytes]]) -> Finding:
        answer, got, problem = self._get(session, tag, name, seen)
        if isinstance(got, Finding):
            return got
        found, summary = decode_certificate_object(answer, got, name)
        if summary is not None:
            read.append((key, summary))
        return _stopped(found, problem)

    def _certificates(self, session: AnalysisSession, read: list[tuple[int, CertSummary]],
                      seen: dict[int, tuple[bytes, bytes]]) -> list[Finding]:
        out = [self._certificate(session, key, tag, f"Certificate {key:02X} ({what})", read, seen)
               for key, tag, what in CERT_SLOTS]
        answer, got, problem = self._get(session, ObjectTag.KEY_HISTORY, "Key history", seen)
        if isinstance(got, Finding):
            return [*out, replace(got, explanation=got.explanation + "; without it, the retired "
                                  "key management slots (82-95) are not read")]
        history, on_card = decode_key_history(answer, got)
        out.append(_stopped(history, problem))
        for n in range(1, on_card + 1):
            key, tag = retired_slot(n)
            name = f"Certificate {key:02X} (retired key management {n})"
            out.append(self._certificate(session, key, tag, name, read, seen))
        return out

    # -- PIN and PUK ----------------------------------------------------------------------

    def _pins(self, session: AnalysisSession, found: list[Finding]) -> list[Finding]:
        references = [(KeyRef.PIN, "PIN (80)", "the PIV Card Application PIN"),
                      (KeyRef.PUK, "PUK (81)", "the PIN unblocking key")]
        discovery = next((f for f in found if f.name == "Discovery object"), None)
        policy = discovery.find("First byte") if discovery is not None else None
        if policy is not None and int(policy.value, 16) & PinPolicy.GLOBAL_PIN:
            references.insert(1, (KeyRef.GLOBAL_PIN, "Global PIN (00)",
                                  "the global PIN, shared by applications"))
        return [self._tries(session, ref, name, what) for ref, name, what in references]

    @staticmethod
    def _tries(session: AnalysisSession, reference: int, name: str, what: str) -> Finding:
        command = empty_verify(reference)
        answer = session.send(command)
        sw = answer.sw
        note = ("VERIFY without data asks for the state of " + what + " and spends no try")
        if reference == KeyRef.PUK:
            note += ("; SP 800-73-4 lists VERIFY for the PINs (00, 80) and the OCC, not the PUK, so a card "
                     "may refuse it")
        if sw & 0xFFF0 == _TRIES:
            return _said(answer, name, f"{sw & 0x0F} tries left", f"{note}: 63 C{sw & 0x0F:X}")
        if sw == Sw.OK:
            return _said(answer, name, "verified", f"{note}: 90 00, already verified in this session")
        if sw == Sw.BLOCKED:
            return _said(answer, name, "blocked", f"{note}: 69 83, no tries left")
        return _said(answer, name, f"not available ({sw >> 8:02X} {sw & 0xFF:02X})",
                     f"{note}; the card answered {_sw(answer, command)}")
