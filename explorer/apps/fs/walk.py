"""The walk over a card's file system: the MF and the files known to live under it, EF.DIR's
applications, the DFs found on the way, an optional FID scan and an SFI probe in each DF.

Every DF has a route: the commands that make it current from wherever the card is. After
anything that may have changed the current DF (selecting a DF, or a file of unknown type), the
route is sent again, so the next SELECT by FID is relative to the right DF.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.apps.findings import Finding
from explorer.apps.fs.constants import (
    EF_ARR,
    EF_DIR,
    KNOWN_DF_FIDS,
    KNOWN_MF_FIDS,
    MF_FID,
    REFUSALS,
    RESERVED_FIDS,
    FileType,
    Sw,
)
from explorer.apps.fs.content import content_findings
from explorer.apps.fs.efdir import Application, applications
from explorer.apps.fs.fcp import FileInfo, decode_select
from explorer.apps.fs.reading import (
    Read,
    read_binary_sfi,
    read_record,
    read_records,
    read_transparent,
    refusal,
    select_fid,
    select_name,
    select_path,
    selected,
    status,
)
from explorer.apps.fs.security import arr_record
from explorer.apps.fs.tree import Branch
from explorer.apps.session import AnalysisSession, Answer

_SFIS = range(1, 31)


@dataclass(frozen=True)
class Options:
    """`scan`: FIDs to try with SELECT in every DF explored (the caller's bound); `sfi_probe`:
    look for EFs by short identifier 1-30 with READ RECORD/READ BINARY; `max_depth`: DF levels
    under the MF that are entered."""

    scan: range | None = None
    sfi_probe: bool = True
    max_depth: int = 2


@dataclass(frozen=True)
class Df:
    title: str
    route: tuple[bytes, ...]
    depth: int
    known: dict[int, str]
    #: FIDs not to try here: the DF's own, its parent's files (P1 00 lets a card find them too).
    skip: frozenset[int] = frozenset()


@dataclass
class _Found:
    fids: set[int] = field(default_factory=set)
    sfis: set[int] = field(default_factory=set)
    dfs: list[tuple[Df, Branch, bytes | None]] = field(default_factory=list)


class Walker:
    def __init__(self, session: AnalysisSession, options: Options) -> None:
        self.session = session
        self.options = options
        self.apps: list[Application] = []
        self.entered: set[bytes] = set()  # DF names explored, so an application is not walked twice
        self.files_read = 0
        self.refused = 0
        # The MF's files: an application DF is the MF's child, and a SELECT by FID (P1 00) from it
        # also finds its parent's children (ISO/IEC 7816-4 7.1.1, ETSI TS 102 221 8.4.1). Tried
        # there, the MF's EF.ARR would pass for the application's, and make the MF the current DF
        # for the SFI probe that follows.
        self.mf_fids: frozenset[int] = frozenset()
        # EF.ARR: 2F06 under the MF (ETSI TS 102 221 13.4), and whatever FID an FCP's 8B names.
        self.arr_fids: set[int] = {EF_ARR}

    # -- selecting ---------------------------------------------------------------------

    def _select(self, first: bytes, fallback: bytes | None) -> tuple[Answer, bytes]:
        """SELECT asking for the FCP, then the FCI when the card does not take P2 04."""
        answer = self.session.send(first)
        if fallback is not None and not selected(answer) and answer.sw != Sw.NOT_FOUND:
            answer2 = self.session.send(fallback)
            if selected(answer2):
                return answer2, fallback
        return answer, first

    def reselect(self, df: Df, branch: Branch) -> bool:
        for command in df.route:
            answer = self.session.send(command)
            if not selected(answer):
                branch.add(status(answer, command, f"Could not select {df.title} again"))
                return False
        return True

    # -- the MF and the applications -----------------------------------------------------

    def run(self, root: Branch) -> None:
        self.session.progress("Selecting the MF", 0.0)
        mf = root.add(Branch("MF 3F00", explanation="master file: the root of the file system"))
        plain = select_fid(MF_FID, 0x0C)
        answer = self.session.send(plain)
        route: tuple[bytes, ...] = (plain,)
        if not selected(answer):
            mf.add(status(answer, plain, "No MF"))
            mf.explanation = ("the card has no MF, or does not select it by FID: files are tried in the DF "
                              "current at reset")
            route = ()
        else:
            answer, command = self._select(select_fid(MF_FID, 0x04), select_fid(MF_FID, 0x00))
            mf.add(self._control(answer, command)[0])
        self.mf_fids = frozenset(self.explore(Df("the MF", route, 0, KNOWN_MF_FIDS), mf).fids)
        if self.apps:
            self.applications(root.add(Branch("Applications (EF.DIR)", f"{len(self.apps)}",
                                              "the applications EF.DIR lists, each selected and walked")))

    def _control(self, answer: Answer, command: bytes) -> tuple[Finding, FileInfo | None]:
        if not selected(answer):
            return status(answer, command, "Control parameters not returned"), None
        return decode_select(answer.data, answer.index)

    def applications(self, branch: Branch) -> None:
        seen: set[bytes] = set()
        for i, app in enumerate(self.apps):
            self.session.progress(f"Application {app.title}", i / len(self.apps))
            key = app.aid or app.path or app.command or b""
            if key in seen:
                continue
            seen.add(key)
            self._application(app, branch.add(Branch(f"Application {app.title}")))

    def _application(self, app: Application, branch: Branch) -> None:
        route: tuple[bytes, ...] = ()
        if app.aid:
            answer, command = self._select(select_name(app.aid, 0x04), select_name(app.aid, 0x00))
        elif app.path:
            path = app.path[2:] if app.path[:2] == MF_FID.to_bytes(2, "big") else app.path
            route = (select_fid(MF_FID, 0x0C),)
            self.session.send(route[0])
            answer, command = self._select(select_path(path, 0x04), select_path(path, 0x00))
        elif (given := app.select_command()) is not None:
            command = given
            answer = self.session.send(command)
        else:
            branch.explanation = "EF.DIR gives no AID, path or SELECT command for it"
            return
        control, info = self._control(answer, command)
        branch.add(control)
        if info is None:
            branch.explanation = "could not be selected"
            return
        if app.aid:
            self.entered.add(app.aid)
        how = "AID" if app.aid else "path" if app.path else "EF.DIR's command"
        branch.explanation = f"selected by {how}"
        self.explore(Df(f"application {app.title}", (*route, command), 1, KNOWN_DF_FIDS, self.mf_fids),
                     branch)

    # -- one DF --------------------------------------------------------------------------

    def explore(self, df: Df, branch: Branch) -> _Found:
        """Every file of `df` that can be found; what was found in it (not in its sub-DFs)."""
        found = _Found()
        for fid, label in df.known.items():
            if fid not in df.skip:
                self.try_fid(df, fid, label, branch, found)
        scan = self.options.scan
        if scan is not None:
            self.scan(df, scan, branch, found)
        if self.options.sfi_probe:
            self.probe(df, branch, found)
        for sub, sub_branch, name in found.dfs:
            if name is not None and (name in self.entered or any(a.aid == name for a in self.apps)):
                sub_branch.explanation = "walked as an application (EF.DIR) or elsewhere"
            elif sub.depth > self.options.max_depth:
                sub_branch.explanation = f"not entered: deeper than {self.options.max_depth} DF levels"
            elif self.reselect(sub, sub_branch):
                if name is not None:
                    self.entered.add(name)
                self.explore(sub, sub_branch)
        return found

    def scan(self, df: Df, fids: range, branch: Branch, found: _Found) -> None:
        tried = 0
        total = max(len(fids), 1)
        before = len(found.fids)
        for i, fid in enumerate(fids):
            if not 0 <= fid <= 0xFFFF or fid in RESERVED_FIDS or fid == MF_FID or fid in df.skip:
                continue
            if fid in found.fids or fid in df.known:
                continue
            self.session.progress(f"FID scan in {df.title}: {fid:04X}", i / total)
            tried += 1
            self.try_fid(df, fid, "found by the FID scan", branch, found, quiet=True)
        hits = len(found.fids) - before
        last = fids[-1] if len(fids) else fids.start
        branch.add(Finding("FID scan", f"{fids.start:04X}-{last:04X}",
                           f"{tried} FIDs tried with SELECT, {hits} found"))

    def try_fid(self, df: Df, fid: int, label: str, branch: Branch, found: _Found,
                quiet: bool = False) -> None:
        answer, command = self._select(select_fid(fid, 0x04), select_fid(fid, 0x00))
        if answer.sw == Sw.NOT_FOUND or (quiet and not selected(answer) and answer.sw not in REFUSALS):
            return
        found.fids.add(fid)
        if not selected(answer):
            ef = branch.add(Branch(f"File {fid:04X}", "not selected", label))
            ef.add(status(answer, command, "SELECT refused"))
            return
        control, info = decode_select(answer.data, answer.index)
        if info.is_df:
            sub = branch.add(Branch(f"DF {fid:04X}", "", label))
            sub.add(control)
            child = Df(f"DF {fid:04X}", (*df.route, command), df.depth + 1, KNOWN_DF_FIDS,
                       frozenset({fid, *found.fids}))
            found.dfs.append((child, sub, info.df_name))
            self.reselect(df, branch)
            return
        ef = branch.add(Branch(f"EF {fid:04X}", "", label))
        ef.add(control)
        if info.sfi is not None:
            found.sfis.add(info.sfi)
        if info.arr is not None:
            self.arr_fids.add(info.arr)
        read = self.read_ef(info, ef, arr=fid in self.arr_fids)
        if fid == EF_DIR and df.depth == 0:
            self.apps = applications([f.raw for f in read.findings])
        if info.type is None:  # a DF that sent no FCP would have moved the current DF
            self.reselect(df, branch)

    # -- reading an EF --------------------------------------------------------------------

    def read_ef(self, info: FileInfo, branch: Branch, arr: bool = False) -> Read:
        kind = info.type
        if kind is not None and (kind.records):
            read = read_records(self.session, info, decode=arr_record if arr else content_findings)
        elif kind in (None, FileType.NO_INFORMATION, FileType.TRANSPARENT):
            read = read_transparent(self.session, info)
            if kind is not FileType.TRANSPARENT and read.stop_sw == Sw.INCOMPATIBLE:
                read = read_records(self.session, info)
        else:
            branch.explanation = f"{kind.value}: not read (READ BINARY/RECORD do not apply)"
            return Read()
        self._record(read, branch)
        return read

    def _record(self, read: Read, branch: Branch) -> None:
        for finding in read.findings:
            branch.add(finding)
        if read.stopped is not None:
            branch.add(read.stopped)
            if read.stopped.name == "Reading refused":
                self.refused += 1
                branch.value = "refused"
                branch.explanation = read.stopped.explanation
                return
        self.files_read += 1

    # -- EFs by short identifier ----------------------------------------------------------

    def probe(self, df: Df, branch: Branch, found: _Found) -> None:
        probe = branch.add(Branch("SFI probe", explanation="READ RECORD 1 / READ BINARY by short EF "
                                  "identifier, for SFIs 1-30 no FCP here claimed"))
        hits = 0
        for sfi in _SFIS:
            if sfi in found.sfis:
                continue
            self.session.progress(f"SFI probe in {df.title}: {sfi}", sfi / len(_SFIS))
            command = read_record(1, sfi)
            answer = self.session.send(command)
            if answer.sw == Sw.NOT_FOUND:
                continue
            ef = Branch(f"EF with SFI {sfi}", explanation="found by SFI: its FID and FCP are not known")
            if answer.sw in (Sw.OK, Sw.END_REACHED, Sw.RECORD_NOT_FOUND):
                self._record(read_records(self.session, None, sfi, (answer, command)), ef)
            elif answer.sw == Sw.INCOMPATIBLE:
                binary = read_binary_sfi(sfi)
                first = self.session.send(binary)
                if first.sw in (Sw.OK, Sw.END_REACHED):
                    self._record(read_transparent(self.session, None, (first, binary)), ef)
                elif first.sw in REFUSALS:
                    self._record(Read(stopped=refusal(first, binary, None)), ef)
                else:
                    ef.add(status(first, binary))
            elif answer.sw in REFUSALS:
                self._record(Read(stopped=refusal(answer, command, None)), ef)
            else:
                probe.add(status(answer, command, "Probe stopped"))
                break
            hits += 1
            probe.add(ef)
        probe.value = f"{hits} found"
