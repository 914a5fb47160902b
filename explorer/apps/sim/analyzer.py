"""The SIM/USIM analyzer: which command style the card answers, its ICCID, EF.DIR's
applications, ADF.USIM (or DF.GSM) and what each EF holds or which PIN keeps it. Read-only: it
sends SELECT, READ BINARY, READ RECORD and GET RESPONSE, never VERIFY."""

from __future__ import annotations

from explorer.apps.findings import Finding
from explorer.apps.session import AnalysisSession
from explorer.apps.sim import files
from explorer.apps.sim.applications import decode_dir_record
from explorer.apps.sim.card import SimCard, Style, ok, single
from explorer.apps.sim.constants import AID_USIM_PREFIX, AppCode3gpp, FileId, Sw, Sw1
from explorer.apps.sim.ef_decoders import decode_languages, mnc_length
from explorer.apps.sim.identities import decode_iccid
from explorer.apps.sim.reading import EfSpec, finding, read_ef, template_findings
from explorer.core.atr import decode_atr

_ICCID = EfSpec(FileId.EF_ICCID, "EF.ICCID", "The card's identification number.", decode_iccid)
_PL = EfSpec(FileId.EF_PL, "EF.PL", "Preferred languages, card-wide.",
             lambda d: decode_languages(d, "Languages", "two ISO 639 letters per entry (102 221 13.3)"))


class SimAnalyzer:
    key = "sim"
    title = "SIM / USIM"

    def likely(self, atr: bytes) -> bool:
        """ETSI TS 102 221 6.2.1 has a UICC announce its supply voltage classes in a TA after T=15
        in the ATR. Other cards may do so too, and a GSM SIM need not: a hint, and the SELECT of
        the MF decides."""
        try:
            return decode_atr(atr).classes is not None
        except ValueError:
            return False

    def analyze(self, session: AnalysisSession) -> Finding:
        session.progress("SIM / USIM: command style", 0.0)
        found = _detect(session)
        if found is None:
            return Finding(self.title, "not a SIM", "The card refused SELECT of the MF in both the UICC "
                           "style (CLA 00, ETSI TS 102 221) and the GSM style (CLA A0, 3GPP TS 51.011).")
        card, style_finding = found
        children = [style_finding]
        session.progress("SIM / USIM: ICCID", 0.2)
        iccid = read_ef(card, _ICCID, FileId.EF_ARR_MF)
        if iccid is not None:
            children.append(iccid)
        if card.style is Style.UICC:
            children += _uicc(card, session)
        else:
            children += _gsm(card)
        session.progress("SIM / USIM: done", 1.0)
        apps = [c.name for c in children if c.name in ("ADF.USIM", "DF.GSM") and c.value == "selected"]
        if apps:
            value = "USIM" if "ADF.USIM" in apps else "GSM SIM"
            why = (f"A {value} read in the {card.style.name} style: what can be read without a PIN is "
                   "decoded, what needs one is named with its access rule.")
        else:
            value = "not a SIM"
            why = ("The card answers SELECT of the MF but has neither a USIM application nor DF.GSM"
                   + (" (it does have an EF.ICCID)" if iccid is not None else "") + ": not a SIM.")
        return Finding(self.title, value, why, children=tuple(children))


def _detect(session: AnalysisSession) -> tuple[SimCard, Finding] | None:
    uicc = SimCard(session, Style.UICC)
    mf = uicc.select_fid(FileId.MF)
    if ok(mf.sw):
        return uicc, Finding(
            "Command style", Style.UICC.value,
            "SELECT MF with CLA 00 and P2 04 answered with an FCP template, as a UICC does.",
            children=template_findings(mf))
    gsm = SimCard(session, Style.GSM)
    mf_gsm = gsm.select_fid(FileId.MF)
    if not ok(mf_gsm.sw):
        return None
    refused = ("class not supported" if mf.sw == Sw.CLA_NOT_SUPPORTED else
               "instruction not supported" if mf.sw == Sw.INS_NOT_SUPPORTED else f"{mf.sw:04X}")
    return gsm, Finding(
        "Command style", Style.GSM.value,
        f"SELECT with CLA 00 was refused ({refused}); with CLA A0 the card answered "
        f"{Sw1.GSM_RESPONSE:02X}xx and GET RESPONSE gave the file's description, as a GSM SIM does.",
        children=template_findings(mf_gsm))


def _uicc(card: SimCard, session: AnalysisSession) -> list[Finding]:
    # Still in the MF after EF.ICCID: EF.PL and EF.DIR are its children too.
    pl = read_ef(card, _PL, FileId.EF_ARR_MF)
    out = [pl] if pl is not None else []
    session.progress("SIM / USIM: EF.DIR", 0.3)
    usim_aids: list[bytes] = []
    selected = card.select_fid(FileId.EF_DIR)
    if ok(selected.sw):
        apps: list[Finding] = []
        # No record count in the FCP: read on until the card says there is no such record.
        for number in range(1, min(selected.info.records or 32, 32) + 1):
            answer = card.read_record(number, selected.info.record_size)
            if not ok(answer.sw):
                break
            app = decode_dir_record(answer.data)
            if app is None:
                continue
            apps.append(finding(app.field, single(answer)))
            if app.aid.startswith(AID_USIM_PREFIX):
                usim_aids.append(app.aid)
        out.append(Finding("EF.DIR", f"{len(apps)} application(s)",
                           "The applications on this UICC, one template per record (ETSI TS 102 221 13.1).",
                           children=tuple(apps)))
    session.progress("SIM / USIM: ADF.USIM", 0.4)
    aid = usim_aids[0] if usim_aids else AID_USIM_PREFIX
    adf = card.select_aid(aid)
    if not ok(adf.sw):
        out.append(Finding("ADF.USIM", "not found",
                           f"SELECT by AID {aid.hex().upper()} answered {adf.sw:04X}: "
                           f"no USIM application ({AppCode3gpp.USIM:04X}) on this card."))
        return out
    how = "its AID from EF.DIR" if usim_aids else "the partial AID A0000000871002 (EF.DIR named none)"
    efs: list[Finding] = list(template_findings(adf))
    ad = read_ef(card, files.AD)
    mnc = None
    if ad is not None:
        efs.append(ad)
        mnc = mnc_length(ad.raw) if ad.value != "PIN-protected" else None
    specs = files.usim_files(mnc)
    for i, spec in enumerate(specs):
        session.progress(f"SIM / USIM: {spec.name}", 0.5 + 0.5 * i / len(specs))
        got = read_ef(card, spec)
        if got is not None:
            efs.append(got)
    out.append(Finding("ADF.USIM", "selected", f"The USIM application, selected by {how} "
                       "(3GPP TS 31.102); its FCP, then its files.", children=tuple(efs)))
    return out


def _gsm(card: SimCard) -> list[Finding]:
    df = card.select_fid(FileId.DF_GSM)
    if not ok(df.sw):
        return [Finding("DF.GSM", "not found", f"SELECT 7F20 answered {df.sw:04X}.")]
    efs: list[Finding] = list(template_findings(df))
    ad = read_ef(card, files.AD)
    mnc = None
    if ad is not None:
        efs.append(ad)
        mnc = mnc_length(ad.raw) if ad.value != "PIN-protected" else None
    for spec in files.gsm_files(mnc):
        got = read_ef(card, spec)
        if got is not None:
            efs.append(got)
    return [Finding("DF.GSM", "selected", "The GSM application's directory (3GPP TS 51.011).",
                    children=tuple(efs))]
