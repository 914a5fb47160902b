"""Capture: what an analysis read, written as a card profile the app can emulate offline.

The profile is rebuilt from the exchanges themselves, not from any analyzer's findings: every
SELECT that answered (its FCP, or an application's FCI as given), every READ BINARY and READ
RECORD, every GET DATA, an EMV application's GET PROCESSING OPTIONS answer (GET DATA's last value
wins, so an ATC read after a GPO is captured as the card left it). So whatever analyzers ran, the
capture holds exactly what crossed the wire, and emulating it and analyzing it again sends the
same commands and gets the same answers.
What could not be read is listed, not guessed: a file the card refused (its access rule kept from
its FCP, behind a PIN whose value is a placeholder), PIN values and keys (never read), a file
found by SFI alone (it gets a made-up FID, said so).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from explorer.apps.analysis import Analysis
from explorer.apps.fs.constants import FileType
from explorer.apps.fs.fcp import FileInfo, decode_select
from explorer.core.exchange import Origin, Reply
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import decode_tlv

_STRUCTURES = {
    FileType.TRANSPARENT: "transparent",
    FileType.LINEAR_FIXED: "linear-fixed", FileType.LINEAR_FIXED_TLV: "linear-fixed",
    FileType.LINEAR_VARIABLE: "linear-variable", FileType.LINEAR_VARIABLE_TLV: "linear-variable",
    FileType.CYCLIC: "cyclic", FileType.CYCLIC_TLV: "cyclic",
}
_REFUSED = {0x6982, 0x6985, 0x6986}  # security status, conditions of use, command not allowed
_SFI_FID_BASE = 0xFF00  # a file known by SFI only gets FID FF01..FF1E in the capture
MAX_CONTENT = 32768  # what a profile's transparent EF holds (READ BINARY's 15-bit offset)


@dataclass
class _File:
    fid: int
    kind: str  # "MF", "DF" or "EF"
    parent: _File | None = None
    name: bytes | None = None
    fci: bytes | None = None
    info: FileInfo | None = None
    content: bytearray | None = None
    records: dict[int, bytes] = field(default_factory=dict)
    sfi: int | None = None
    fcp_extra: bytes = b""  # what the FCP holds after 8A: the card's own declarations, kept as given
    refused: str = ""  # why its reading was refused ("69 82 …")
    gpo: bytes | None = None  # an EMV application's GET PROCESSING OPTIONS answer
    by_sfi_only: bool = False
    children: list[_File] = field(default_factory=list)

    def child(self, fid: int) -> _File | None:
        return next((c for c in self.children if c.fid == fid), None)

    def path(self) -> str:
        names: list[str] = []
        node: _File | None = self
        while node is not None:
            names.append(f"{node.fid:04X}")
            node = node.parent
        return "/".join(reversed(names))


@dataclass
class Capture:
    """The profile (a JSON-ready dict) and what it could not hold, one sentence each."""

    profile: dict[str, Any]
    missing: list[str]


class _Builder:
    def __init__(self) -> None:
        self.mf = _File(0x3F00, "MF")
        self.df = self.mf
        self.ef: _File | None = None
        self.objects: dict[str, str] = {}
        self.pins: dict[int, str] = {}  # reference -> why it is there
        self.tries: dict[int, int] = {}  # reference -> tries left, as a VERIFY without data said
        self.missing: list[str] = []
        self.t0 = False

    # -- SELECT ----------------------------------------------------------------------------

    def select(self, command: bytes, reply: Reply) -> None:
        p1, data = command[2], _data(command)
        ok = reply.sw == 0x9000 or reply.sw >> 8 in (0x62, 0x63)
        if not ok:
            return
        info: FileInfo | None = None
        if reply.data:
            info = decode_select(reply.data, 0)[1]
        if p1 == 0x04:
            node = self._by_name(data, info, reply.data)
        elif p1 == 0x08:
            node = self._by_path(self.mf, data, info)
        elif p1 == 0x09:
            node = self._by_path(self.df, data, info)
        elif p1 == 0x03:
            node = self.df.parent or self.mf
        elif len(data) == 2:
            node = self._by_fid(int.from_bytes(data, "big"), info)
        elif not data:
            node = self.mf
        else:
            return
        self._learn(node, info, reply.data)
        if _one_template(reply.data, 0x61) and node.kind != "EF":
            node.fci = reply.data  # a PIV application's property template, as it answered
        if node.kind == "EF":
            self.ef = node
            self.df = node.parent or self.mf
        else:
            self.df, self.ef = node, None

    def _by_fid(self, fid: int, info: FileInfo | None) -> _File:
        """Where SELECT by FID looks (ISO/IEC 7816-4 7.1.1): the current DF's children, the DF
        itself, its parent and the parent's children; a FID seen nowhere is the current DF's."""
        if fid == 0x3F00:
            return self.mf
        df = self.df
        if (found := df.child(fid)) is not None:
            return found
        if df.fid == fid:
            return df
        parent = df.parent
        if parent is not None:
            if parent.fid == fid:
                return parent
            if (found := parent.child(fid)) is not None:
                return found
        return self._new(df, fid, info)

    def _new(self, parent: _File, fid: int, info: FileInfo | None) -> _File:
        kind = "DF" if info is not None and info.is_df else "EF"
        node = _File(fid, kind, parent)
        parent.children.append(node)
        return node

    def _by_name(self, name: bytes, info: FileInfo | None, answer: bytes) -> _File:
        full = info.df_name if info is not None and info.df_name else name
        if not name and not full:
            return self.mf
        for node in self._walk(self.mf):
            if node.name is not None and (node.name == full or (name and node.name.startswith(name))):
                return node
        if not name:
            self.mf.name = full  # the application selected by default (SELECT with no AID) is the root
            return self.mf
        fid = info.fid if info is not None and info.fid is not None else self._free_fid(self.mf, 0xDF00)
        node = self.mf.child(fid) or _File(fid, "DF", self.mf)
        if node not in self.mf.children:
            self.mf.children.append(node)
        node.kind, node.name = "DF", full
        return node

    def _by_path(self, start: _File, path: bytes, info: FileInfo | None) -> _File:
        node = start
        fids = [int.from_bytes(path[i:i + 2], "big") for i in range(0, len(path) - 1, 2)]
        for i, fid in enumerate(fids):
            last = i == len(fids) - 1
            found = node.child(fid)
            if found is None:
                found = self._new(node, fid, info if last else None)
                if not last:
                    found.kind = "DF"
            node = found
        return node

    def _learn(self, node: _File, info: FileInfo | None, answer: bytes) -> None:
        if info is None:
            return
        if answer[:1] == b"\x6f" and node.kind != "EF":
            node.fci = answer  # an application's FCI, as it answered
        if answer[:1] == b"\x62":
            node.fcp_extra = _after_life_cycle(answer)
        if info.df_name and node.kind != "EF":
            node.name = info.df_name
        if info.is_df and node is not self.mf:
            node.kind = "DF"
        if node.kind == "EF" and info.type is not None:
            node.info = info
            if info.sfi is not None:
                node.sfi = info.sfi
                self._merge_sfi_twin(node)
        elif node.info is None:
            node.info = info

    # -- reading -----------------------------------------------------------------------------

    @staticmethod
    def _merge_sfi_twin(node: _File) -> None:
        """A file read by SFI before its FCP named it: one file, under its real FID."""
        parent = node.parent
        if parent is None:
            return
        twin = next((c for c in parent.children
                     if c is not node and c.by_sfi_only and c.sfi == node.sfi), None)
        if twin is None:
            return
        parent.children.remove(twin)
        if node.content is None:
            node.content = twin.content
        node.records = {**twin.records, **node.records}
        node.refused = node.refused or twin.refused

    def _by_sfi(self, sfi: int, answered: bool = True) -> _File | None:
        """The EF with short identifier `sfi` in the current DF; made (FID unknown) when the card
        `answered` with data or a refusal, never for a probe that found nothing."""
        found = next((c for c in self.df.children if c.sfi == sfi), None)
        if found is None and answered:
            found = _File(self._free_fid(self.df, _SFI_FID_BASE + sfi), "EF", self.df, sfi=sfi,
                          by_sfi_only=True)
            self.df.children.append(found)
        return found

    def read_binary(self, command: bytes, reply: Reply) -> None:
        p1, p2 = command[2], command[3]
        node = self._by_sfi(p1 & 0x1F, _answered(reply)) if p1 & 0x80 else self.ef
        offset = p2 if p1 & 0x80 else (p1 << 8 | p2) & 0x7FFF
        if node is None:
            return
        if p1 & 0x80:
            self.ef = node
        if reply.sw in _REFUSED:
            node.refused = _sw(reply.sw)
            return
        if reply.sw != 0x9000 and reply.sw >> 8 != 0x62:
            return
        content = node.content if node.content is not None else bytearray()
        end = min(offset + len(reply.data), MAX_CONTENT)
        if len(content) < end:
            content.extend(bytes(end - len(content)))
        content[offset:end] = reply.data[:end - offset]
        node.content = content

    def read_record(self, command: bytes, reply: Reply) -> None:
        number, p2 = command[2], command[3]
        if p2 & 0x07 != 0x04 or number == 0:  # only records read by their number are placed
            return
        sfi = p2 >> 3
        node = self._by_sfi(sfi, _answered(reply)) if sfi else self.ef
        if node is None:
            return
        if sfi:
            self.ef = node
        if reply.sw in _REFUSED:
            node.refused = _sw(reply.sw)
        elif reply.sw == 0x9000:
            node.records[number] = reply.data

    def get_processing_options(self, command: bytes, reply: Reply) -> None:
        """An EMV application's GPO answer, for the profile's `gpo` of the DF it was sent in."""
        nodes = decode_tlv(reply.data).nodes
        if (command[0] == 0x80 and reply.sw == 0x9000 and self.df is not self.mf and len(nodes) == 1
                and nodes[0].tag in (0x80, 0x77) and nodes[0].end == len(reply.data)):
            self.df.gpo = reply.data

    def get_data(self, command: bytes, reply: Reply) -> None:
        tag = command[2] << 8 | command[3]
        key = f"{tag:04X}" if command[2] else f"{tag:02X}"
        if reply.sw in _REFUSED:
            self.missing.append(f"GET DATA {key}: refused ({_sw(reply.sw)})")
            return
        if reply.sw != 0x9000:
            return
        nodes = decode_tlv(reply.data).nodes
        if len(nodes) == 1 and nodes[0].tag == tag and nodes[0].end == len(reply.data):
            self.objects[key] = to_hex(nodes[0].value)
        else:
            self.missing.append(f"GET DATA {key}: the answer is not the data object {key} alone")

    def get_data_by_list(self, command: bytes, reply: Reply) -> None:
        """PIV's GET DATA (INS CB, tag list 5C): a 3-byte tag's value comes wrapped in 53, a shorter
        one's (the discovery object 7E) under its own tag."""
        listed = _data(command)
        if len(listed) < 3 or listed[0] != 0x5C or listed[1] != len(listed) - 2:
            return
        key = listed[2:].hex().upper()
        if reply.sw in _REFUSED or reply.sw == 0x6A82:
            if reply.sw in _REFUSED:
                self.missing.append(f"GET DATA {key}: refused ({_sw(reply.sw)})")
            return
        wrapper = 0x53 if len(listed) == 5 else int(key, 16)
        nodes = decode_tlv(reply.data).nodes
        if reply.sw == 0x9000 and _one_template(reply.data, wrapper):
            self.objects[key] = to_hex(nodes[0].value)
        elif reply.sw == 0x9000:
            self.missing.append(f"GET DATA {key}: the answer is not one {wrapper:02X} object alone")

    def verify_query(self, command: bytes, reply: Reply) -> None:
        """VERIFY without data (tries left, no try spent): the PIN is there, its value unknown."""
        if len(command) != 4 or command[2] or reply.sw & 0xFFF0 != 0x63C0 or not reply.sw & 0x0F:
            return
        reference = command[3]
        self.tries[reference] = reply.sw & 0x0F
        self.pins.setdefault(reference, f"PIN {reference:02X}: its value was not read (VERIFY without "
                                        "data only said its tries left); the profile holds a placeholder")

    # -- the profile -------------------------------------------------------------------------

    def _walk(self, node: _File) -> list[_File]:
        out = [node]
        for child in node.children:
            out.extend(self._walk(child))
        return out

    @staticmethod
    def _free_fid(parent: _File, wanted: int) -> int:
        fid = wanted
        while parent.child(fid) is not None or fid in (0x3F00, 0x3FFF, 0xFFFF):
            fid += 1
        return fid

    def _rule(self, node: _File, group: str) -> str:
        conditions = node.info.rules.conditions if node.info is not None else {}
        text = conditions.get(group, "")
        if text == "always" or (group == "READ" and not text and not node.refused):
            return "always"
        if text.startswith("PIN "):
            try:
                reference = int(text[4:6], 16)
            except ValueError:
                return "never"
            self.pins.setdefault(reference, f"PIN {reference:02X}: its value was not read (reading it "
                                            "is not possible, and a VERIFY would spend a try); the "
                                            "profile holds a placeholder")
            return f"pin:{reference:02X}"
        return "never"

    def file(self, node: _File) -> dict[str, Any]:
        out: dict[str, Any] = {"fid": f"{node.fid:04X}", "type": node.kind}
        if node.fcp_extra:
            out["fcp_extra"] = to_hex(node.fcp_extra)
        if node.kind != "EF":
            if node.name:
                out["name"] = to_hex(node.name)
            if node.fci is not None:
                out["fci"] = to_hex(node.fci)
            if node.gpo is not None:
                out["gpo"] = to_hex(node.gpo)
            out["children"] = [self.file(c) for c in node.children]
            return out
        info = node.info
        structure = _STRUCTURES.get(info.type) if info is not None and info.type is not None else None
        if structure is None:
            structure = "linear-variable" if node.records else "transparent"
        out["structure"] = structure
        if node.sfi is not None:
            out["sfi"] = node.sfi
        out["read"] = self._rule(node, "READ")
        update = self._rule(node, "UPDATE")
        if update != "never":
            out["update"] = update
        if node.by_sfi_only:
            self.missing.append(f"{node.path()}: found by SFI {node.sfi} only; its real FID and FCP "
                                f"are not known (FID {node.fid:04X} is made up)")
        if node.refused:
            self.missing.append(f"{node.path()}: reading refused ({node.refused}); its content is "
                                "not in the capture")
        if structure == "transparent":
            content = bytes(node.content or b"")
            out["content"] = to_hex(content)
            size = info.size if info is not None and info.size is not None else None
            if size is not None and size >= len(content):
                out["size"] = min(size, MAX_CONTENT)
        else:
            numbers = sorted(node.records)
            declared = info.records if info is not None and info.records else 0  # what the FCP says
            count = max(numbers[-1] if numbers else 0, declared)
            unread = [n for n in range(1, count + 1) if n not in node.records]
            if unread:  # kept in place by empty records (padded with FF where records have a size)
                self.missing.append(f"{node.path()}: records {unread} were not read; they are empty "
                                    "placeholders")
            size = info.record_size if info is not None and info.record_size else 0
            placeholder = b"\xff" * size if structure != "linear-variable" else b""
            out["records"] = [to_hex(node.records.get(n, placeholder)) for n in range(1, count + 1)]
            if structure != "linear-variable" and out["records"]:
                longest = max((len(node.records[n]) for n in numbers), default=0)
                out["record_size"] = max(size, longest)
        return out


def _after_life_cycle(fcp: bytes) -> bytes:
    """The FCP's objects after its life cycle status (8A), as given: a profile's `fcp_extra`, which
    the emulator puts there (security attributes referenced to EF.ARR, a PIN status template)."""
    nodes = decode_tlv(fcp).nodes
    if len(nodes) != 1:
        return b""
    children = nodes[0].children
    at = next((i for i, c in enumerate(children) if c.tag == 0x8A), None)
    if at is None or at == len(children) - 1:
        return b""
    return fcp[children[at + 1].offset:children[-1].end]


def _one_template(data: bytes, tag: int) -> bool:
    nodes = decode_tlv(data).nodes
    return len(nodes) == 1 and nodes[0].tag == tag and nodes[0].end == len(data)


def _answered(reply: Reply) -> bool:
    """Data, a warning with data, or a refusal: a file is there."""
    return reply.sw == 0x9000 or reply.sw >> 8 == 0x62 or reply.sw in _REFUSED


def _data(command: bytes) -> bytes:
    if len(command) > 5 and command[4]:
        return command[5:5 + command[4]]
    return b""


def _sw(sw: int) -> str:
    return f"{sw >> 8:02X} {sw & 0xFF:02X}"


def capture(analysis: Analysis, name: str = "") -> Capture:
    """The profile of what `analysis` read (its exchanges, in order)."""
    builder = _Builder()
    # What each command a profile can answer teaches about the card, by INS.
    handlers: dict[int, Callable[[bytes, Reply], None]] = {
        0xA4: builder.select, 0xB0: builder.read_binary, 0xB2: builder.read_record, 0xCA: builder.get_data,
        0xCB: builder.get_data_by_list, 0x20: builder.verify_query, 0xA8: builder.get_processing_options,
    }
    protected = 0
    for reply in analysis.replies:
        if not reply.exchanges:
            continue
        command = reply.exchanges[0].command
        if command and not command[0] & 0x80 and command[0] & 0x0C == 0x0C:
            # Secure messaging (a passport after BAC): the wire holds ciphertext, and a card that
            # answers it needs the chip's keys: not something a profile can be made from.
            protected += 1
            continue
        if len(reply.exchanges) > 1 and reply.exchanges[1].origin is Origin.GET_RESPONSE \
                and len(reply.exchanges[0].response) == 2:
            # All the data behind 61xx: a T=0 card. A direct card sends what fits with its 61xx.
            builder.t0 = True
        if len(command) < 4:
            continue
        learn = handlers.get(command[1])
        if learn is not None:
            learn(command, reply)
    files = builder.file(builder.mf)
    pins = [{"reference": f"{ref:02X}", "value": "00 00 00 00 00 00 00 00",
             "tries": builder.tries.get(ref, 3), "_": "a placeholder: the card's PIN was not read"}
            for ref in sorted(builder.pins)]
    builder.missing.extend(builder.pins[ref] for ref in sorted(builder.pins))
    if protected:
        builder.missing.append(f"{protected} command{'s' * (protected > 1)} under secure messaging (BAC): "
                               "the files read through it are not in the profile")
    builder.missing.append("keys and anything behind authentication are never read")
    when = time.strftime("%Y-%m-%d %H:%M:%S")
    profile: dict[str, Any] = {
        "format": "card-explorer-profile", "version": 1,
        "name": name or f"Captured from {analysis.reader}",
        "description": f"Captured by card-explorer analyze on {when} from {analysis.reader}: what the "
                       "analysis read, as the card answered. Not captured: " + "; ".join(builder.missing),
        "atr": to_hex(analysis.atr) or "3B 00",
        "t0": builder.t0,
        "files": files,
    }
    if pins:
        profile["pins"] = pins
    if builder.objects:
        profile["data_objects"] = builder.objects
    return Capture(profile, builder.missing)
