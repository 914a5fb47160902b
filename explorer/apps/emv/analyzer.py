"""The EMV analyzer: the PPSE (contactless) and the PSE (contact) with its directory records, or
the known AIDs when neither lists anything; then each application: SELECT with its FCI decoded,
GET DATA of its counters, GET PROCESSING OPTIONS only when the user allowed changes (it increments
the ATC), the records the AFL names (or, without GPO, SFIs 1-10 probed), and the transaction log.

Sends SELECT, READ RECORD and GET DATA; 80 A8 (GPO) only with `session.allow_changes`."""

from __future__ import annotations

from explorer.apps.emv.constants import KNOWN_AIDS, PPSE, PSE, Tag
from explorer.apps.emv.dol import NEUTRAL_NOTE
from explorer.apps.emv.gpo import decode_gpo, gpo_command
from explorer.apps.emv.reading import (
    probe_records,
    read_afl,
    read_atc_after,
    read_get_data,
    read_log,
    refused,
)
from explorer.apps.emv.selection import (
    AppEntry,
    child,
    decode_fci,
    ppse_entries,
    pse_sfi,
    read_record,
    record_entries,
    select_name,
    top,
)
from explorer.apps.findings import Finding, group
from explorer.apps.session import AnalysisSession
from explorer.core.hexfmt import to_hex

#: Directory records read from the PSE at most (a directory lists a few applications).
MAX_DIRECTORY_RECORDS = 16


class EmvAnalyzer:
    key = "emv"
    title = "EMV payment"

    def likely(self, atr: bytes) -> bool:
        """Always False: an EMV card's ATR (Book 1's basic ATRs, chapter 8) says nothing about payment, and
        its historical bytes are the issuer's choice; no byte pattern tells a payment card from
        another. The SELECT of the PPSE / PSE decides, so `analyze` is no waste on any card."""
        return False

    def analyze(self, session: AnalysisSession) -> Finding:
        session.progress("EMV: PPSE", 0.0)
        children: list[Finding] = []
        apps: list[AppEntry] = []
        children.append(self._ppse(session, apps))
        session.progress("EMV: PSE", 0.1)
        children.append(self._pse(session, apps))
        unique = _unique(apps)
        if not unique:
            session.progress("EMV: known AIDs", 0.2)
            found, unique = self._known_aids(session)
            children.append(found)
        if not unique:
            return Finding(self.title, "not an EMV card",
                           "Neither the PPSE nor the PSE answered with applications, and no known payment "
                           "AID could be selected.", children=tuple(children))
        ordered = sorted(unique, key=lambda e: (e.priority or 0) & 0x0F or 16)
        children.append(group("Application list", [e.finding for e in ordered],
                               "the applications found, by priority (1 first; none given last)"))
        for n, entry in enumerate(ordered):
            session.progress(f"EMV: application {to_hex(entry.aid)}", 0.3 + 0.7 * n / len(ordered))
            children.append(self._application(session, entry))
        session.progress("EMV: done", 1.0)
        names = ", ".join(e.label or to_hex(e.aid) for e in ordered)
        gpo = ("GET PROCESSING OPTIONS sent (allowed for this run)" if session.allow_changes
               else "nothing on the card changed: GET PROCESSING OPTIONS was not sent")
        return Finding(self.title, f"{len(ordered)} applications: {names}", f"EMV payment card; {gpo}.",
                       children=tuple(children))

    # -- selection ----------------------------------------------------------------------

    def _ppse(self, session: AnalysisSession, apps: list[AppEntry]) -> Finding:
        command = select_name(PPSE)
        answer = session.send(command)
        if not answer.ok:
            return refused("PPSE (2PAY.SYS.DDF01, contactless)", answer, command)
        found = ppse_entries(answer)
        apps += found
        fci = decode_fci(answer, "PPSE")
        return Finding("PPSE (2PAY.SYS.DDF01, contactless)", f"{len(found)} applications",
                       "the Proximity Payment System Environment lists the applications in its FCI's "
                       "BF0C (EMV Book B)", children=(fci,))

    def _pse(self, session: AnalysisSession, apps: list[AppEntry]) -> Finding:
        name = "PSE (1PAY.SYS.DDF01, contact)"
        command = select_name(PSE)
        answer = session.send(command)
        if not answer.ok:
            return refused(name, answer, command)
        children = [decode_fci(answer, "PSE")]
        sfi = pse_sfi(answer)
        if sfi is None:
            return Finding(name, "no directory", "the PSE's FCI names no directory SFI (88)",
                           children=tuple(children))
        found: list[AppEntry] = []
        for number in range(1, MAX_DIRECTORY_RECORDS + 1):
            command = read_record(sfi, number)
            record = session.send(command)
            if not record.ok:
                if record.sw != 0x6A83:  # 6A83 after the last record is the directory's end
                    children.append(refused(f"Directory record {number}", record, command))
                break
            finding, entries = record_entries(record)
            children.append(finding)
            found += entries
        apps += found
        return Finding(name, f"directory SFI {sfi}, {len(found)} applications",
                       "the Payment System Environment: its directory's records list the applications "
                       "(Book 1 12.2.3)", children=tuple(children))

    def _known_aids(self, session: AnalysisSession) -> tuple[Finding, list[AppEntry]]:
        found, tried = [], []
        for aid_hex, scheme in KNOWN_AIDS:
            aid = bytes.fromhex(aid_hex)
            answer = session.send(select_name(aid))
            tried.append(f"{aid_hex} ({scheme}): {answer.sw:04X}")
            if answer.ok:
                entry = Finding("Application", f"{aid_hex} {scheme}", "selected by its AID")
                found.append(AppEntry(aid, scheme, None, entry))
        return (Finding("Known AIDs", f"{len(found)} selected",
                        "No directory listed applications, so the registered AIDs of the main schemes were "
                        "tried (Book 1 12.3.3): " + "; ".join(tried)), found)

    # -- one application ----------------------------------------------------------------

    def _application(self, session: AnalysisSession, entry: AppEntry) -> Finding:
        name = f"Application {to_hex(entry.aid)}" + (f" {entry.label}" if entry.label else "")
        command = select_name(entry.aid)
        answer = session.send(command)
        if not answer.ok:
            return refused(name, answer, command)
        children = [decode_fci(answer, "Application")]
        fci = top(answer.data, Tag.FCI)
        proprietary = child(fci, Tag.FCI_PROPRIETARY)
        pdol = child(proprietary, Tag.PDOL)
        log_entry = child(child(proprietary, Tag.FCI_ISSUER_DISCRETIONARY), Tag.LOG_ENTRY)
        data, values = read_get_data(session)
        children.append(group("GET DATA", data, "counters and the log format (80 CA), before any GPO"))
        gpo = gpo_command(pdol.value if pdol is not None else None)
        log_sfi = log_entry.value[0] if log_entry is not None and log_entry.value else None
        if gpo is not None and session.allow_changes:
            children += self._gpo(session, gpo)
        else:
            why = ("the PDOL asks for more data than a GPO command can carry (255 bytes): the card's PDOL "
                   "is not usable" if gpo is None else
                   "GPO starts a transaction: the card increments its application transaction counter "
                   "(ATC), so it is sent only when changes are allowed for the run (--allow-gpo). It would "
                   f"have been {to_hex(gpo)}: {NEUTRAL_NOTE}")
            children.append(Finding("GET PROCESSING OPTIONS", "not sent", f"{why}. Without the AFL it "
                                    "returns, SFIs 1-10 were probed for records 1-16 instead."))
            children.append(group("Records (probed, no AFL)", probe_records(session, log_sfi),
                                  "READ RECORD of SFIs 1-10, each until the first record the card refuses"))
        if log_entry is not None:
            children.append(read_log(session, log_entry.value, values.get(Tag.LOG_FORMAT)))
        return Finding(name, "selected", "the application's FCI, counters, data records and log",
                       children=tuple(children))

    def _gpo(self, session: AnalysisSession, command: bytes) -> list[Finding]:
        answer = session.send(command, changes_card=True)
        if not answer.ok:
            return [refused("GET PROCESSING OPTIONS", answer, command)]
        found, afl = decode_gpo(answer)
        sent = Finding("GET PROCESSING OPTIONS", "sent", f"{to_hex(command)}: {NEUTRAL_NOTE}. The card "
                       "incremented its ATC.", found.source, found.raw, children=(found,))
        records = group("Records (AFL)", read_afl(session, afl), "the records the AFL names")
        return [sent, records, read_atc_after(session)]



def _unique(apps: list[AppEntry]) -> list[AppEntry]:
    seen: set[bytes] = set()
    out = []
    for entry in apps:
        if entry.aid not in seen:
            seen.add(entry.aid)
            out.append(entry)
    return out
