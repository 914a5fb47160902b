"""SELECT and READ in the card's style: a UICC's (CLA 00, SELECT answering the FCP, ETSI TS
102 221) or a GSM SIM's (CLA A0, SELECT answering 9Fxx, then GET RESPONSE, 3GPP TS 51.011).
Each file's bytes are kept with the exchanges they came in, so a finding can point at them."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from explorer.apps.findings import Source
from explorer.apps.session import AnalysisSession, Answer
from explorer.apps.sim.constants import Cla, Ins, Sw, Sw1
from explorer.apps.sim.fcp import FileInfo, parse_fcp, parse_gsm_response

_CHUNK = 256
#: Files bigger than this are not read whole: a SIM's files of interest are tens of bytes.
MAX_READ = 4096


class Style(enum.Enum):
    UICC = "UICC (CLA 00, ETSI TS 102 221)"
    GSM = "GSM SIM (CLA A0, 3GPP TS 51.011)"


def ok(sw: int) -> bool:
    # 91xx: done, and a proactive command waits (102 221 10.2.1.1): still a success.
    return sw == Sw.OK or sw >> 8 == Sw1.PROACTIVE


def refused(sw: int) -> bool:
    return sw in (Sw.SECURITY, Sw.GSM_ACCESS)


@dataclass(frozen=True)
class Content:
    """A file's bytes as read: pieces of exchange data, each (answer, where it starts in the file)."""

    pieces: tuple[tuple[Answer, int], ...]
    sw: int

    @property
    def data(self) -> bytes:
        return b"".join(a.data for a, _ in self.pieces)

    @property
    def ok(self) -> bool:
        return ok(self.sw) and bool(self.pieces)

    def source(self, start: int, end: int) -> Source | None:
        """Where bytes start..end of the file are, when one exchange holds them all."""
        for answer, at in self.pieces:
            if at <= start and end <= at + len(answer.data) and end > start:
                return Source(answer.index, start - at, end - at)
        return None


def single(answer: Answer) -> Content:
    return Content(((answer, 0),), answer.sw)


@dataclass(frozen=True)
class Selected:
    sw: int
    info: FileInfo
    #: The answer holding the FCP or GSM response (empty when the SELECT failed).
    template: Content


class SimCard:
    def __init__(self, session: AnalysisSession, style: Style) -> None:
        self.session = session
        self.style = style

    @property
    def cla(self) -> int:
        return Cla.UICC if self.style is Style.UICC else Cla.GSM

    def _apdu(self, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
        out = bytes([self.cla, ins, p1, p2])
        if data:
            out += bytes([len(data)]) + data
        if le is not None:
            out += bytes([le & 0xFF])
        return out

    def select_fid(self, fid: int) -> Selected:
        if self.style is Style.UICC:
            # P2 04: return the FCP template (102 221 11.1.1.2).
            answer = self.session.send(self._apdu(Ins.SELECT, 0x00, 0x04, fid.to_bytes(2, "big"), 0))
            return self._uicc_selected(answer)
        first = self.session.send(self._apdu(Ins.SELECT, 0x00, 0x00, fid.to_bytes(2, "big")))
        if first.sw >> 8 != Sw1.GSM_RESPONSE and not ok(first.sw):
            return Selected(first.sw, FileInfo(), Content((), first.sw))
        length = first.sw & 0xFF if first.sw >> 8 == Sw1.GSM_RESPONSE else 0
        answer = self.session.send(self._apdu(Ins.GET_RESPONSE, 0, 0, le=length))
        if not ok(answer.sw):
            return Selected(answer.sw, FileInfo(), Content((), answer.sw))
        return Selected(answer.sw, parse_gsm_response(answer.data), single(answer))

    def select_aid(self, aid: bytes) -> Selected:
        answer = self.session.send(self._apdu(Ins.SELECT, 0x04, 0x04, aid, 0))
        return self._uicc_selected(answer)

    @staticmethod
    def _uicc_selected(answer: Answer) -> Selected:
        if not ok(answer.sw):
            return Selected(answer.sw, FileInfo(), Content((), answer.sw))
        return Selected(answer.sw, parse_fcp(answer.data), single(answer))

    def read_binary(self, size: int | None) -> Content:
        total = min(size if size is not None else _CHUNK, MAX_READ)
        pieces: list[tuple[Answer, int]] = []
        offset, sw = 0, int(Sw.OK)
        while offset < total:
            want = min(_CHUNK, total - offset)
            answer = self.session.send(self._apdu(Ins.READ_BINARY, offset >> 8, offset & 0xFF, le=want))
            sw = answer.sw
            if not ok(sw) or not answer.data:
                break
            pieces.append((answer, offset))
            offset += len(answer.data)
        return Content(tuple(pieces), sw if not pieces or ok(sw) else int(Sw.OK))

    def read_record(self, number: int, length: int) -> Answer:
        # P2 04: record number P1, absolute mode, current EF.
        return self.session.send(self._apdu(Ins.READ_RECORD, number, 0x04, le=length))
