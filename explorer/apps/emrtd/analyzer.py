"""The eMRTD analyzer: EF.CardAccess in plain, SELECT of the eMRTD application, Basic Access
Control from the MRZ, then EF.COM, DG1, DG2, DG11 and DG12 when listed, and EF.SOD with the
passive authentication it allows (without the country signing CA). Read-only: SELECT, READ
BINARY, and BAC's GET CHALLENGE and EXTERNAL AUTHENTICATE (which change nothing on the chip)."""

from __future__ import annotations

from collections.abc import Callable

from explorer.apps.emrtd import access
from explorer.apps.emrtd.cardaccess import decode_card_access
from explorer.apps.emrtd.constants import AID_MRTD, DATA_GROUPS, Fid, Ins, Sw
from explorer.apps.emrtd.dg2 import decode_dg2
from explorer.apps.emrtd.lds import decode_com, decode_dg1, decode_dg11, decode_dg12
from explorer.apps.emrtd.reading import Content, read_file, select_fid
from explorer.apps.emrtd.sod import check_hashes, decode_sod
from explorer.apps.findings import Finding
from explorer.apps.session import AnalysisSession
from explorer.core.card_errors import SecureMessagingFailed

OpenSecure = Callable[[AnalysisSession, str], None]
PACE_ONLY = "PACE-only: not supported here (BAC only)"
_DECODERS: dict[int, Callable[[Content], Finding]] = {
    1: decode_dg1, 2: decode_dg2, 11: decode_dg11, 12: decode_dg12}
_FIDS = {1: Fid.DG1, 2: Fid.DG2, 11: Fid.DG11, 12: Fid.DG12}


class EmrtdAnalyzer:
    key = "emrtd"
    title = "Electronic passport (eMRTD)"

    def __init__(self, mrz_information: str | None = None,
                 open_secure: OpenSecure = access.open_secure) -> None:
        """`mrz_information`: what BAC's keys come from (mrz.Entry.information or
        mrz.Mrz.information); None reads only what needs no access control."""
        self.mrz_information = mrz_information
        self.open_secure = open_secure

    def likely(self, atr: bytes) -> bool:
        """A passport is contactless: its ATR is the one the reader makes up (PC/SC part 3), the
        same for any ISO 14443-4 card. No verdict: SELECT of the application decides."""
        return False

    def analyze(self, session: AnalysisSession) -> Finding:
        session.progress("eMRTD: EF.CardAccess", 0.0)
        children: list[Finding] = []
        pace: tuple[str, ...] = ()
        card_access = _read(session, Fid.CARD_ACCESS, "EF.CardAccess")
        if isinstance(card_access, Content):
            decoded = decode_card_access(card_access)
            children.append(decoded.finding)
            pace = decoded.pace
        elif card_access is not None:
            children.append(card_access)
        else:
            children.append(Finding("EF.CardAccess", "absent", "No EF.CardAccess in the MF: the chip "
                                    "offers no PACE, so BAC is how it is read (9303-11 4.2)."))
        session.progress("eMRTD: application", 0.1)
        selected = session.send(bytes([0x00, Ins.SELECT, 0x04, 0x0C, len(AID_MRTD)]) + AID_MRTD)
        if not selected.ok:
            refused = selected.sw == Sw.SECURITY and pace
            children.append(Finding("eMRTD application", PACE_ONLY if refused else "not found",
                                    f"SELECT of {AID_MRTD.hex().upper()} answered {selected.sw:04X}."))
            value = PACE_ONLY if refused else "not an eMRTD"
            return Finding(self.title, value, "", children=tuple(children))
        children.append(Finding("eMRTD application", "selected", f"{AID_MRTD.hex().upper()}, the LDS1 "
                                "eMRTD application (9303-10 3.1.1)."))
        session.progress("eMRTD: Basic Access Control", 0.2)
        secured = self._access(session, pace)
        children.append(secured)
        if secured.value not in ("established", "not needed"):
            return Finding(self.title, secured.value, secured.explanation, children=tuple(children))
        return self._files(session, children, secured.value == "established")

    def _access(self, session: AnalysisSession, pace: tuple[str, ...]) -> Finding:
        name = "Basic Access Control"
        if self.mrz_information is None:
            # Without the MRZ: a chip without access control (early passports) still reads.
            selected = select_fid(session, Fid.COM)
            if selected.ok and read_probe(session):
                return Finding(name, "not needed", "EF.COM reads without BAC: this chip has no "
                               "access control, and everything is read in plain.")
            return Finding(name, "MRZ needed", "The chip's files need Basic Access Control: give the "
                           "document number, date of birth and date of expiry (or the whole MRZ).")
        try:
            self.open_secure(session, self.mrz_information)
        except access.BacRefused as exc:
            if pace:
                return Finding(name, PACE_ONLY, f"The chip refuses BAC ({exc}) and offers PACE in "
                               "EF.CardAccess; this analyzer does BAC only.")
            return Finding(name, "refused", f"The chip refuses BAC: {exc}.")
        except access.AccessDenied as exc:
            # The value says "access denied…"; the explanation says why the chip's answer means it.
            detail = str(exc).removeprefix(access.ACCESS_DENIED).strip(" ()") or "the keys did not match"
            why = (f"The keys derived from the MRZ typed are not this document's ({detail}): check "
                   "the document number, the date of birth and the date of expiry (9303-11 9.7.1).")
            if pace:
                why += f" If the MRZ is right, the chip may be {PACE_ONLY}."
            return Finding(name, access.ACCESS_DENIED, why)
        return Finding(name, "established", "The keys from the MRZ were the chip's: every command "
                       "after this goes with secure messaging (9303-11 9.8), the trace shows both.")

    def _files(self, session: AnalysisSession, children: list[Finding], secured: bool) -> Finding:
        try:
            return self._read_lds(session, children, secured)
        except SecureMessagingFailed as exc:
            # The channel is closed (the chip's side too): what was read before it stands, and the
            # failure is named, never its answer used.
            children.append(Finding("Secure messaging", "failed", f"{exc}. Reading stopped here: "
                                    "the findings above were read before."))
            return Finding(self.title, "secure messaging failed", str(exc), children=tuple(children))

    def _read_lds(self, session: AnalysisSession, children: list[Finding], secured: bool) -> Finding:
        session.progress("eMRTD: EF.COM", 0.3)
        com = _read(session, Fid.COM, "EF.COM")
        listed: list[int] | None = None
        if isinstance(com, Content):
            listed, found = decode_com(com)
            children.append(found)
        elif com is not None:
            children.append(com)
        wanted = [1, 2] + [n for n in (11, 12) if listed is None or n in listed]
        groups: dict[int, bytes] = {}
        partial: list[int] = []
        for i, number in enumerate(wanted):
            session.progress(f"eMRTD: DG{number}", 0.4 + 0.1 * i)
            got = _read(session, _FIDS[number], f"DG{number}")
            if isinstance(got, Content):
                children.append(_DECODERS[number](got))
                if got.whole:
                    groups[number] = got.data
                else:
                    partial.append(number)
            elif got is not None:
                children.append(got)
            elif listed is not None and number in listed:
                children.append(Finding(f"DG{number}", "absent", "EF.COM lists it, but it is not there."))
        session.progress("eMRTD: EF.SOD", 0.8)
        sod_file = _read(session, Fid.SOD, "EF.SOD")
        verdict = "no SOD"
        if isinstance(sod_file, Content):
            sod = decode_sod(sod_file)
            hashes = check_hashes(sod, groups, partial)
            children += [sod.finding, hashes]
            verdict = f"SOD {sod.finding.value}, data group hashes: {hashes.value}"
        elif sod_file is not None:
            children.append(sod_file)
        session.progress("eMRTD: done", 1.0)
        read = ", ".join(f"DG{n}" for n in sorted(groups))
        how = "with BAC" if secured else "in plain (no access control)"
        return Finding(self.title, f"read {how}: {read or 'no data group'}; {verdict}",
                       "What the chip holds, read " + how + ". " + _names(groups), children=tuple(children))


def read_probe(session: AnalysisSession) -> bool:
    answer = session.send(bytes([0x00, Ins.READ_BINARY, 0x00, 0x00, 0x04]))
    return answer.sw in (Sw.OK, Sw.END_REACHED) and bool(answer.data)


def _names(groups: dict[int, bytes]) -> str:
    return "; ".join(f"DG{n}: {DATA_GROUPS[n][1]}" for n in sorted(groups))


def _read(session: AnalysisSession, fid: int, name: str) -> Content | Finding | None:
    """The file's bytes; a finding when it is there but not readable; None when absent."""
    selected = select_fid(session, fid)
    if selected.sw == Sw.NOT_FOUND:
        return None
    if not selected.ok:
        return Finding(name, f"not selected ({selected.sw:04X})", f"SELECT of {fid:04X} was refused.")
    content = read_file(session)
    if not content.pieces:
        why = (" (security status not satisfied: it needs access control)"
               if content.sw == Sw.SECURITY else "")
        return Finding(name, f"not read ({content.sw:04X})", f"READ BINARY of {fid:04X} was "
                       f"refused{why}.")
    return content
