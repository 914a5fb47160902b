"""The file tree of a profile (`files`): the MF, DFs with their names and FCIs, and EFs with their
structure, contents and access rules, read and checked (explorer.virtual.profile has the format)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from explorer.core.hexfmt import HexError, parse_hex
from explorer.core.json_input import describe, quoted
from explorer.core.tlv import decode_tlv
from explorer.virtual.profile_fields import as_object, check_keys, fail, hex_of, int_of, text_of, tlv_of

MF_FID = 0x3F00
#: 3FFF stands for "the current DF" in paths, FFFF is reserved (ISO/IEC 7816-4 7.1.1).
RESERVED_FIDS = frozenset({0x3FFF, 0xFFFF})
MAX_OFFSET = 0x7FFF  # READ BINARY's 15-bit offset: bytes past it cannot be addressed
MAX_RECORDS = 254  # record numbers 01-FE; FF is RFU


class FileType(enum.StrEnum):
    MF = "MF"
    DF = "DF"
    EF = "EF"


class Structure(enum.StrEnum):
    TRANSPARENT = "transparent"
    LINEAR_FIXED = "linear-fixed"
    LINEAR_VARIABLE = "linear-variable"
    CYCLIC = "cyclic"

    @property
    def fixed_size(self) -> bool:
        return self in (Structure.LINEAR_FIXED, Structure.CYCLIC)


@dataclass(frozen=True)
class Access:
    """Who may read or update an EF: always, never, or after VERIFY of `pin`."""

    never: bool = False
    pin: int | None = None

    def __str__(self) -> str:
        return "never" if self.never else "always" if self.pin is None else f"pin:{self.pin:02X}"


ALWAYS = Access()
NEVER = Access(never=True)


@dataclass(frozen=True)
class FileSpec:
    """One file as the profile declares it; EF contents are the initial ones."""

    fid: int
    type: FileType
    name: bytes | None = None
    label: str | None = None
    fci_proprietary: bytes = b""
    structure: Structure | None = None
    content: bytes = b""
    records: tuple[bytes, ...] = ()
    sfi: int | None = None
    read: Access = ALWAYS
    update: Access = NEVER
    children: tuple[FileSpec, ...] = ()
    #: The FCI as given (`fci`): SELECT with P2=00 answers it instead of the one built from the file.
    fci: bytes | None = None
    #: BER-TLV objects the FCP carries after its own (security attributes 8B/8C/AB, a PIN status
    #: template C6), as a card declares them: the emulator enforces `read`/`update`, not these.
    fcp_extra: bytes = b""
    #: An EMV application's answer to GET PROCESSING OPTIONS (`gpo`): one response template, 80
    #: (format 1) or 77 (format 2), answered to 80 A8 whatever the PDOL data.
    gpo: bytes | None = None

    @property
    def is_df(self) -> bool:
        return self.type is not FileType.EF


_DF_KEYS = {"fid", "type", "name", "label", "fci_proprietary", "fci", "fcp_extra", "children", "gpo"}
#: A card's own FCI may be long (a GP security domain's, an EMV application's), but it comes back
#: in one short answer.
MAX_FCI = 255
_EF_KEYS = {"fid", "type", "structure", "sfi", "read", "update", "content", "text", "size", "records",
            "record_size", "fcp_extra"}


def _access(obj: dict[str, Any], key: str, where: str, pins: set[int], default: Access) -> Access:
    if key not in obj:
        return default
    text = text_of(obj, key, where)
    if text == "always":
        return ALWAYS
    if text == "never":
        return NEVER
    ref_text = text[4:] if text.startswith("pin:") else ""
    try:
        ref_byte = parse_hex(ref_text) if len(ref_text) == 2 else b""
    except HexError:
        ref_byte = b""
    ref = ref_byte[0] if ref_byte else -1
    if ref < 0:
        raise fail(f"{key} must be 'always', 'never' or 'pin:RR' (RR a hex byte), found {quoted(text)}",
                    where)
    if ref not in pins:
        raise fail(f"{key} needs PIN {ref:02X}, which the profile's pins do not declare", where)
    return Access(pin=ref)


#: What SELECT may answer as a DF's own `fci`: an FCI template, or the application property template
#: of SP 800-73-4 Part 2 Table 3.
_SELECT_TEMPLATES = (0x6F, 0x61)


class _Files:
    """Reads the file tree; remembers the PIN references access rules may name."""

    def __init__(self, pins: set[int]) -> None:
        self.pins = pins

    def read(self, value: Any, where: str, root: bool) -> FileSpec:
        obj = as_object(value, where, "a file object")
        if "type" not in obj:
            raise fail("missing key 'type'", where)
        kind_text = text_of(obj, "type", where)
        try:
            kind = FileType(kind_text)
        except ValueError:
            raise fail(f"type must be MF, DF or EF, found {quoted(kind_text)}", where) from None
        if (kind is FileType.MF) != root:
            raise fail("the root of files must be the MF" if root else "only the root of files is the MF",
                        where)
        if "fid" not in obj:
            raise fail("missing key 'fid'", where)
        fid = int.from_bytes(hex_of(obj, "fid", where, 2, 2), "big")
        if kind is FileType.MF and fid != MF_FID:
            raise fail(f"fid {fid:04X}: the MF is 3F00", where)
        if kind is not FileType.MF and (fid == MF_FID or fid in RESERVED_FIDS):
            raise fail(f"fid {fid:04X} is reserved ({'the MF' if fid == MF_FID else 'ISO/IEC 7816-4'})",
                        where)
        if kind is FileType.EF:
            return replace(self._ef(obj, where, fid), fcp_extra=tlv_of(obj, "fcp_extra", where))
        check_keys(obj, where, {"fid", "type"}, _DF_KEYS)
        name = hex_of(obj, "name", where, 1, 16) if "name" in obj else None
        label = text_of(obj, "label", where) if "label" in obj else None
        # It goes inside A5, where a reader's TLV parser meets it.
        extra = tlv_of(obj, "fci_proprietary", where)
        fci = self._fci(obj, where)
        raw_children = obj.get("children", [])
        if not isinstance(raw_children, list):
            raise fail(f"children must be a list, found {describe(raw_children)}", where)
        children = tuple(self.read(c, f"{where}.children[{i}]", False) for i, c in enumerate(raw_children))
        self._check_siblings(children, fid, where)
        return FileSpec(fid, kind, name, label, extra, children=children, fci=fci,
                        fcp_extra=tlv_of(obj, "fcp_extra", where), gpo=self._gpo(obj, where))

    @staticmethod
    def _gpo(obj: dict[str, Any], where: str) -> bytes | None:
        """An EMV application's GPO answer: one response template, format 1 (80) or 2 (77)."""
        if "gpo" not in obj:
            return None
        data = hex_of(obj, "gpo", where, 2, MAX_FCI)
        result = decode_tlv(data)
        if result.error is not None:
            raise fail(f"gpo is not BER-TLV ({result.error.message})", where)
        nodes = result.nodes
        if len(nodes) != 1 or nodes[0].tag not in (0x80, 0x77) or nodes[0].end != len(data):
            raise fail("gpo must be one response template (80 or 77) and nothing after it", where)
        return data

    @staticmethod
    def _fci(obj: dict[str, Any], where: str) -> bytes | None:
        """A DF's own FCI: one 6F template, BER-TLV all through, nothing after it."""
        if "fci" not in obj:
            return None
        for key in ("label", "fci_proprietary"):
            if key in obj:
                raise fail(f"give fci or {key}, not both: {key} only goes into an FCI the card builds",
                            where)
        data = hex_of(obj, "fci", where, 2, MAX_FCI)
        result = decode_tlv(data)
        if result.error is not None:
            raise fail(f"fci is not BER-TLV ({result.error.message})", where)
        nodes = result.nodes
        if len(nodes) != 1 or nodes[0].tag not in _SELECT_TEMPLATES or nodes[0].end != len(data):
            raise fail("fci must be one FCI template (6F) and nothing after it (or one application property "
                        "template (61), as a PIV application answers)", where)
        return data

    def _ef(self, obj: dict[str, Any], where: str, fid: int) -> FileSpec:
        check_keys(obj, where, {"fid", "type", "structure"}, _EF_KEYS)
        text = text_of(obj, "structure", where)
        try:
            structure = Structure(text)
        except ValueError:
            choices = ", ".join(s.value for s in Structure)
            raise fail(f"structure must be one of {choices}, found {quoted(text)}", where) from None
        sfi = int_of(obj, "sfi", where, 1, 30) if "sfi" in obj else None
        read = _access(obj, "read", where, self.pins, ALWAYS)
        update = _access(obj, "update", where, self.pins, NEVER)
        if structure is Structure.TRANSPARENT:
            content = self._content(obj, where)
            return FileSpec(fid, FileType.EF, structure=structure, content=content, sfi=sfi, read=read,
                            update=update)
        return FileSpec(fid, FileType.EF, structure=structure, records=self._records(obj, where, structure),
                        sfi=sfi, read=read, update=update)

    def _content(self, obj: dict[str, Any], where: str) -> bytes:
        for key in ("records", "record_size"):
            if key in obj:
                raise fail(f"{key} is for record EFs; a transparent EF takes content or text", where)
        if "content" in obj and "text" in obj:
            raise fail("give content or text, not both", where)
        content = (text_of(obj, "text", where).encode() if "text" in obj
                   else hex_of(obj, "content", where) if "content" in obj else b"")
        size = int_of(obj, "size", where, 0, MAX_OFFSET + 1) if "size" in obj else min(len(content),
                                                                                      MAX_OFFSET + 1)
        if len(content) > size:
            raise fail(f"the content has {len(content)} bytes, more than size {size}"
                        if "size" in obj else f"the content has {len(content)} bytes: READ BINARY offsets "
                        f"reach {MAX_OFFSET + 1} bytes at most", where)
        return content + bytes(size - len(content))

    def _records(self, obj: dict[str, Any], where: str, structure: Structure) -> tuple[bytes, ...]:
        for key in ("content", "text", "size"):
            if key in obj:
                raise fail(f"{key} is for transparent EFs; a record EF takes records", where)
        raw = obj.get("records", [])
        if not isinstance(raw, list):
            raise fail(f"records must be a list, found {describe(raw)}", where)
        if len(raw) > MAX_RECORDS:
            raise fail(f"{len(raw)} records: record numbers go up to {MAX_RECORDS}", where)
        records = [hex_of({"record": r}, "record", f"{where}.records[{i}]", 0, 255)
                   for i, r in enumerate(raw)]
        if "record_size" in obj:
            if not structure.fixed_size:
                raise fail("record_size is for linear-fixed and cyclic EFs", where)
            size = int_of(obj, "record_size", where, 1, 255)
            for i, record in enumerate(records):
                if len(record) > size:
                    raise fail(f"{len(record)} bytes, more than record_size {size}", f"{where}.records[{i}]")
            return tuple(r + b"\xff" * (size - len(r)) for r in records)
        if structure.fixed_size:
            for i, record in enumerate(records[1:], 1):
                if len(record) != len(records[0]):
                    raise fail(f"{len(record)} bytes, but records[0] has {len(records[0])}: a {structure} "
                                "EF has one record size (give record_size to pad)", f"{where}.records[{i}]")
        return tuple(records)

    @staticmethod
    def _check_siblings(children: tuple[FileSpec, ...], fid: int, where: str) -> None:
        seen: set[int] = set()
        sfis: set[int] = set()
        for i, child in enumerate(children):
            at = f"{where}.children[{i}]"
            if child.fid in seen or child.fid == fid:
                raise fail(f"fid {child.fid:04X} is already used in this DF", at)
            seen.add(child.fid)
            if child.sfi is not None:
                if child.sfi in sfis:
                    raise fail(f"sfi {child.sfi} is already used in this DF", at)
                sfis.add(child.sfi)


def read_files(value: Any, pins: set[int]) -> FileSpec:
    """The MF and everything under it, from `files`; `pins`: the references access rules may name."""
    return _Files(pins).read(value, "files", True)
