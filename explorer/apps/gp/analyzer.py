"""The GlobalPlatform analyzer: what GPPro's `-i` shows, without keys and without changing the
card. Selects the Issuer Security Domain (the default SELECT, then the ISD AIDs), decodes its FCI,
and reads with GET DATA the CPLC, card data, card capabilities, key information, IIN, CIN and the
counters. Only SELECT and GET DATA are sent."""

from __future__ import annotations

from explorer.apps.findings import Finding, Source
from explorer.apps.gp.constants import ISD_AIDS, SW_CARD_LOCKED, CardLifeCycle, Cla, Ins
from explorer.apps.gp.fci import aid_of, decode_fci, looks_like_isd
from explorer.apps.gp.objects import OBJECTS, DataObject, decode_object
from explorer.apps.session import AnalysisSession, Answer
from explorer.core.atr import decode_atr
from explorer.core.hexfmt import to_hex
from explorer.core.status_words import explain

DEFAULT_SELECT = bytes([Cla.ISO, Ins.SELECT, 0x04, 0x00, 0x00])
#: Historical bytes that honestly say "GlobalPlatform": NXP's JCOP names itself there, and some
#: cards put the ISD's AID or GlobalPlatform's RID in them.
_ATR_MARKS = (b"JCOP", bytes.fromhex("A000000151"), *ISD_AIDS)
#: Class or instruction refused: the card may want GET DATA with CLA 00.
_RETRY_WITH_ISO = (0x6D00, 0x6E00)


def select_aid(aid: bytes) -> bytes:
    return bytes([Cla.ISO, Ins.SELECT, 0x04, 0x00, len(aid)]) + aid + b"\x00"


def get_data(tag: int, cla: int = Cla.GP) -> bytes:
    return bytes([cla, Ins.GET_DATA, tag >> 8, tag & 0xFF, 0x00])


def _selected(answer: Answer) -> bool:
    return answer.ok or answer.sw == SW_CARD_LOCKED


def _sw_text(answer: Answer, command: bytes) -> str:
    found = explain(answer.sw, command)
    return f"{found.hex}: {found.text}"


def refused(name: str, answer: Answer, command: bytes) -> Finding:
    """A command the card did not answer with data: its status word, explained."""
    return Finding(name, f"not available ({answer.sw >> 8:02X} {answer.sw & 0xFF:02X})",
                   f"The card answered {_sw_text(answer, command)}",
                   Source(answer.index, 0, len(answer.data)), answer.data)


def locked(selection: Answer) -> Finding:
    state = CardLifeCycle.CARD_LOCKED
    return Finding("Card life cycle state", f"{state.name} ({state.value:02X})",
                   "SELECT of the security domain answered 62 83: the card is locked, and only its Issuer "
                   "Security Domain can be selected until the issuer unlocks it.",
                   Source(selection.index, 0, len(selection.data)), selection.data)


class GpAnalyzer:
    key = "gp"
    title = "GlobalPlatform"

    def likely(self, atr: bytes) -> bool:
        """True when the historical bytes name JCOP or carry a GlobalPlatform AID. Most GP cards
        say nothing about GlobalPlatform in their ATR (the historical bytes are the issuer's), so a
        False is no verdict: `analyze` probes with SELECT."""
        history = decode_atr(atr).historical_bytes
        return any(mark in history for mark in _ATR_MARKS)

    def analyze(self, session: AnalysisSession) -> Finding:
        session.progress("selecting the Issuer Security Domain", 0.0)
        selection, by_aid, tried = self._select(session)
        isd = selection is not None and (by_aid or looks_like_isd(selection.data))
        children: list[Finding] = []
        if selection is None:
            children.append(Finding("Issuer Security Domain", "not selected",
                                    "Nothing answered as a security domain: " + "; ".join(tried) + "."))
        elif isd:
            children.append(decode_fci(selection))
        else:
            fci = decode_fci(selection)
            why = ("No Issuer Security Domain AID answered (" + "; ".join(tried[1:]) + "); the default "
                   "SELECT chose this application, which does not look like a security domain. GET DATA "
                   "goes to it.")
            children.append(Finding("Default selection", fci.value, why, fci.source, fci.raw,
                                    children=fci.children))
        if selection is not None and selection.sw == SW_CARD_LOCKED:
            children.append(locked(selection))
        found_any = isd
        for n, spec in enumerate(OBJECTS):
            session.progress(f"GET DATA {spec.name}", (n + 1) / (len(OBJECTS) + 1))
            finding, ok = self._get(session, spec)
            found_any |= ok
            children.append(finding)
        session.progress("done", 1.0)
        if not found_any:
            return Finding(self.title, "not a GlobalPlatform card",
                           "No security domain could be selected and no GlobalPlatform data object was "
                           "given: the card answers nothing GlobalPlatform-like.", children=tuple(children))
        aid = aid_of(selection.data) if selection is not None else None
        value = (f"Issuer Security Domain {to_hex(aid)}" if isd and aid else "Issuer Security Domain" if isd
                 else "no security domain recognised, GlobalPlatform data found")
        return Finding(self.title, value,
                       "GlobalPlatform card management data read without keys: nothing on the card changed.",
                       children=tuple(children))

    def _select(self, session: AnalysisSession) -> tuple[Answer | None, bool, list[str]]:
        """The SELECT answer of the ISD (or of whatever the default SELECT chose, when no ISD AID
        answers), whether an ISD AID selected it, and what each attempt gave."""
        tried = []
        first = session.send(DEFAULT_SELECT)
        tried.append(f"default SELECT: {_sw_text(first, DEFAULT_SELECT)}")
        if _selected(first) and looks_like_isd(first.data):
            return first, False, tried
        for aid in ISD_AIDS:
            command = select_aid(aid)
            answer = session.send(command)
            tried.append(f"SELECT {to_hex(aid)}: {_sw_text(answer, command)}")
            if _selected(answer):
                return answer, True, tried
        return (first if _selected(first) and first.data else None), False, tried

    def _get(self, session: AnalysisSession, spec: DataObject) -> tuple[Finding, bool]:
        command = get_data(spec.tag)
        answer = session.send(command)
        if answer.sw in _RETRY_WITH_ISO:
            command = get_data(spec.tag, Cla.ISO)
            answer = session.send(command)
        if not answer.ok or not answer.data:
            return refused(spec.name, answer, command), False
        return decode_object(spec, answer)
