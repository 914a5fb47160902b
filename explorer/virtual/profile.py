"""Card profiles: an ATR plus an ISO/IEC 7816-4 file system, as JSON.

The format (resources/cards/README.md has it in full, demo.json is the example):

    {"format": "card-explorer-profile", "version": 1, "name": "Demo card",
     "atr": "3B 8E ...", "t0": true,
     "pins": [{"reference": "81", "value": "31323334FFFFFFFF", "tries": 3}],
     "data_objects": {"5F2D": "656E"},
     "files": {"fid": "3F00", "type": "MF", "children": [
         {"fid": "7F10", "type": "DF", "name": "F043415244455850", "label": "Demo", "children": [
             {"fid": "0101", "type": "EF", "structure": "transparent", "text": "Hello",
              "sfi": 1, "read": "always", "update": "pin:81"}]}]}}

MF/DF keys: fid, type, name (DF name), label, fci_proprietary, fci (the whole FCI
as a card sends it, instead of one built from the others), fcp_extra, gpo (an EMV
application's GET PROCESSING OPTIONS answer), children. EF
keys: fid, type, structure (transparent, linear-fixed, linear-variable,
cyclic), sfi, read/update (always, never, pin:RR), fcp_extra, and the data: content
(hex) or text plus size for transparent EFs, records plus record_size for
record EFs. An electronic passport adds `bac` (document_number, date_of_birth,
date_of_expiry: explorer.virtual.bac_card). Keys starting with "_" are comments;
any other unknown key is an error, so a typo never silently drops a file's
content. Hex accepts spaces.

`load_profile` reads a file, `parse_profile` checks decoded JSON; both raise
ProfileError naming the place: "demo.json: files.children[2]: content is not
hex (...)". The file is read as every file a user hands in is
(explorer.core.input_files: a regular file, at most MAX_SIZE, strict UTF-8)
and decoded and checked with the same primitives as a trace
(explorer.core.json_input: no NaN or Infinity, no 5,000-digit numbers, no
lone surrogates, at most MAX_DEPTH levels of nesting, every type checked).
The parsed profile is frozen: a card copies what it may change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from explorer.assets import asset_path
from explorer.core.hexfmt import HexError, parse_hex
from explorer.core.input_error import InputError
from explorer.core.input_files import read_document
from explorer.core.json_input import check_tree, describe, flag, loads, quoted, string, whole
from explorer.core.mrz_digits import MrzCharacterError, check_digit, mrz_information
from explorer.core.tlv import decode_tlv
from explorer.virtual.openpgp_profile import OpenPgpSpec, parse_openpgp

FORMAT = "card-explorer-profile"
VERSION = 1
MF_FID = 0x3F00
#: 3FFF stands for "the current DF" in paths, FFFF is reserved (ISO/IEC 7816-4 7.1.1).
RESERVED_FIDS = frozenset({0x3FFF, 0xFFFF})
MAX_OFFSET = 0x7FFF  # READ BINARY's 15-bit offset: bytes past it cannot be addressed
MAX_RECORDS = 254  # record numbers 01-FE; FF is RFU
#: A card's whole memory (a megabyte, in hex) fits; a bigger file is not a profile.
MAX_SIZE = 4 << 20
#: JSON nesting: each DF level is two (the DF, its children), so DFs may nest some 14 deep.
MAX_DEPTH = 32


class ProfileError(InputError):
    """A profile that cannot be used. `where` is the JSON path of the object at
    fault ("files.children[0]"), empty for the top level or the file itself."""


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
class PinSpec:
    reference: int
    value: bytes
    tries: int


@dataclass(frozen=True)
class DataObject:
    tag: int  # the GET DATA P1-P2, or the tag PIV's GET DATA lists (5C)
    value: bytes


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


@dataclass(frozen=True)
class BacSpec:
    """An eMRTD's Basic Access Control (`bac`): what its MRZ says, which its keys come from."""

    document_number: str
    date_of_birth: str  # YYMMDD
    date_of_expiry: str

    @property
    def mrz_information(self) -> str:
        return mrz_information(self.document_number, self.date_of_birth, self.date_of_expiry)


@dataclass(frozen=True)
class CardProfile:
    name: str
    atr: bytes
    t0: bool
    mf: FileSpec
    pins: tuple[PinSpec, ...] = ()
    data_objects: tuple[DataObject, ...] = ()
    description: str = ""
    source: str = ""
    #: The card is an eMRTD that needs BAC and secure messaging (explorer.virtual.bac_card).
    bac: BacSpec | None = None
    openpgp: OpenPgpSpec | None = None  # an OpenPGP application (openpgp_profile.py)


# -- reading ------------------------------------------------------------------

_TOP_KEYS = {"format", "version", "name", "atr", "files"}
_TOP_OPTIONAL = {"description", "t0", "pins", "data_objects", "bac", "openpgp"}
_BAC_KEYS = {"document_number", "date_of_birth", "date_of_expiry"}
_DF_KEYS = {"fid", "type", "name", "label", "fci_proprietary", "fci", "fcp_extra", "children", "gpo"}
#: A card's own FCI may be long (a GP security domain's, an EMV application's), but it comes back
#: in one short answer.
MAX_FCI = 255
_EF_KEYS = {"fid", "type", "structure", "sfi", "read", "update", "content", "text", "size", "records",
            "record_size", "fcp_extra"}


def _fail(problem: str, where: str) -> ProfileError:
    return ProfileError(problem, where)


def _object(value: Any, where: str, what: str = "an object") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"expected {what}, found {describe(value)}", where)
    return {k: v for k, v in value.items() if not k.startswith("_")}


def _check_keys(obj: dict[str, Any], where: str, required: set[str], allowed: set[str]) -> None:
    missing, unknown = sorted(required - obj.keys()), sorted(obj.keys() - allowed)
    if missing:
        raise _fail(f"missing key {missing[0]!r}", where)
    if unknown:
        raise _fail(f"unknown key {quoted(unknown[0])} (expected one of {', '.join(sorted(allowed))})", where)


def _string(obj: dict[str, Any], key: str, where: str) -> str:
    return string(obj[key], key, where)


def _int(obj: dict[str, Any], key: str, where: str, low: int, high: int) -> int:
    return whole(obj[key], key, where, low, high)


def _hex(obj: dict[str, Any], key: str, where: str, low: int = 0, high: int = 1 << 20) -> bytes:
    text = _string(obj, key, where)
    try:
        data = parse_hex(text)
    except HexError as exc:
        raise _fail(f"{key} is not hex ({exc})", where) from None
    if not low <= len(data) <= high:
        size = f"{low} bytes" if low == high else f"{low} to {high} bytes"
        raise _fail(f"{key} must have {size}, found {len(data)}", where)
    return data


def _tlv_hex(obj: dict[str, Any], key: str, where: str) -> bytes:
    """Optional BER-TLV objects (up to 200 bytes) a template carries: checked, since a reader's
    TLV parser meets them."""
    data = _hex(obj, key, where, 0, 200) if key in obj else b""
    bad = decode_tlv(data).error
    if bad is not None:
        raise _fail(f"{key} is not BER-TLV ({bad.message})", where)
    return data


def _access(obj: dict[str, Any], key: str, where: str, pins: set[int], default: Access) -> Access:
    if key not in obj:
        return default
    text = _string(obj, key, where)
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
        raise _fail(f"{key} must be 'always', 'never' or 'pin:RR' (RR a hex byte), found {quoted(text)}",
                    where)
    if ref not in pins:
        raise _fail(f"{key} needs PIN {ref:02X}, which the profile's pins do not declare", where)
    return Access(pin=ref)


def _pins(value: Any) -> tuple[PinSpec, ...]:
    if not isinstance(value, list):
        raise _fail(f"pins must be a list, found {describe(value)}", "")
    out: dict[int, PinSpec] = {}
    for i, item in enumerate(value):
        where = f"pins[{i}]"
        obj = _object(item, where)
        _check_keys(obj, where, {"reference", "value"}, {"reference", "value", "tries"})
        ref = _hex(obj, "reference", where, 1, 1)[0]
        if ref == 0 or ref in out:
            raise _fail(f"reference {ref:02X} is {'reserved' if ref == 0 else 'declared twice'}", where)
        tries = _int(obj, "tries", where, 1, 15) if "tries" in obj else 3  # 63Cx counts up to 15
        out[ref] = PinSpec(ref, _hex(obj, "value", where, 1, 255), tries)
    return tuple(out.values())


def _bac(value: Any) -> BacSpec:
    obj = _object(value, "bac")
    _check_keys(obj, "bac", _BAC_KEYS, _BAC_KEYS)
    number = _string(obj, "document_number", "bac")
    if not 1 <= len(number) <= 20:  # 9303-3: longer numbers than 9 continue in the optional data
        raise _fail(f"document_number must have 1 to 20 characters, found {len(number)}", "bac")
    dates = []
    for key in ("date_of_birth", "date_of_expiry"):
        text = _string(obj, key, "bac")
        if len(text) != 6 or not text.isascii() or not text.isdigit():
            raise _fail(f"{key} must be 6 digits YYMMDD, found {quoted(text)}", "bac")
        dates.append(text)
    try:
        check_digit(number)  # as the MRZ prints it: 0-9, A-Z and <
    except MrzCharacterError as exc:
        raise _fail(f"document_number {exc}", "bac") from None
    return BacSpec(number, dates[0], dates[1])


def _tag_ok(tag: bytes) -> bool:
    if len(tag) == 1:
        return tag[0] & 0x1F != 0x1F
    # Subsequent bytes: bit 8 set on all but the last.
    return tag[0] & 0x1F == 0x1F and all(b & 0x80 for b in tag[1:-1]) and not tag[-1] & 0x80


def _data_objects(value: Any) -> tuple[DataObject, ...]:
    table = _object(value, "data_objects")
    out: dict[int, DataObject] = {}
    for key in table:
        where = f"data_objects[{quoted(key)}]"
        try:
            tag = parse_hex(key)
        except HexError as exc:
            raise _fail(f"the tag is not hex ({exc})", where) from None
        if not 1 <= len(tag) <= 3 or not _tag_ok(tag):
            raise _fail("the tag must be a BER-TLV tag of 1 or 2 bytes, as GET DATA's P1-P2 carry, or of 3 "
                        "bytes, as PIV's GET DATA names in its tag list", where)
        number = int.from_bytes(tag, "big")
        if number in out:
            raise _fail("the tag is declared twice", where)
        out[number] = DataObject(number, _hex(table, key, where))
    return tuple(out.values())


#: What SELECT may answer as a DF's own `fci`: an FCI template, or the application property template
#: of SP 800-73-4 Part 2 Table 3.
_SELECT_TEMPLATES = (0x6F, 0x61)


class _Files:
    """Reads the file tree; remembers the PIN references access rules may name."""

    def __init__(self, pins: set[int]) -> None:
        self.pins = pins

    def read(self, value: Any, where: str, root: bool) -> FileSpec:
        obj = _object(value, where, "a file object")
        if "type" not in obj:
            raise _fail("missing key 'type'", where)
        kind_text = _string(obj, "type", where)
        try:
            kind = FileType(kind_text)
        except ValueError:
            raise _fail(f"type must be MF, DF or EF, found {quoted(kind_text)}", where) from None
        if (kind is FileType.MF) != root:
            raise _fail("the root of files must be the MF" if root else "only the root of files is the MF",
                        where)
        if "fid" not in obj:
            raise _fail("missing key 'fid'", where)
        fid = int.from_bytes(_hex(obj, "fid", where, 2, 2), "big")
        if kind is FileType.MF and fid != MF_FID:
            raise _fail(f"fid {fid:04X}: the MF is 3F00", where)
        if kind is not FileType.MF and (fid == MF_FID or fid in RESERVED_FIDS):
            raise _fail(f"fid {fid:04X} is reserved ({'the MF' if fid == MF_FID else 'ISO/IEC 7816-4'})",
                        where)
        if kind is FileType.EF:
            return replace(self._ef(obj, where, fid), fcp_extra=_tlv_hex(obj, "fcp_extra", where))
        _check_keys(obj, where, {"fid", "type"}, _DF_KEYS)
        name = _hex(obj, "name", where, 1, 16) if "name" in obj else None
        label = _string(obj, "label", where) if "label" in obj else None
        # It goes inside A5, where a reader's TLV parser meets it.
        extra = _tlv_hex(obj, "fci_proprietary", where)
        fci = self._fci(obj, where)
        raw_children = obj.get("children", [])
        if not isinstance(raw_children, list):
            raise _fail(f"children must be a list, found {describe(raw_children)}", where)
        children = tuple(self.read(c, f"{where}.children[{i}]", False) for i, c in enumerate(raw_children))
        self._check_siblings(children, fid, where)
        return FileSpec(fid, kind, name, label, extra, children=children, fci=fci,
                        fcp_extra=_tlv_hex(obj, "fcp_extra", where), gpo=self._gpo(obj, where))

    @staticmethod
    def _gpo(obj: dict[str, Any], where: str) -> bytes | None:
        """An EMV application's GPO answer: one response template, format 1 (80) or 2 (77)."""
        if "gpo" not in obj:
            return None
        data = _hex(obj, "gpo", where, 2, MAX_FCI)
        result = decode_tlv(data)
        if result.error is not None:
            raise _fail(f"gpo is not BER-TLV ({result.error.message})", where)
        nodes = result.nodes
        if len(nodes) != 1 or nodes[0].tag not in (0x80, 0x77) or nodes[0].end != len(data):
            raise _fail("gpo must be one response template (80 or 77) and nothing after it", where)
        return data

    @staticmethod
    def _fci(obj: dict[str, Any], where: str) -> bytes | None:
        """A DF's own FCI: one 6F template, BER-TLV all through, nothing after it."""
        if "fci" not in obj:
            return None
        for key in ("label", "fci_proprietary"):
            if key in obj:
                raise _fail(f"give fci or {key}, not both: {key} only goes into an FCI the card builds",
                            where)
        data = _hex(obj, "fci", where, 2, MAX_FCI)
        result = decode_tlv(data)
        if result.error is not None:
            raise _fail(f"fci is not BER-TLV ({result.error.message})", where)
        nodes = result.nodes
        if len(nodes) != 1 or nodes[0].tag not in _SELECT_TEMPLATES or nodes[0].end != len(data):
            raise _fail("fci must be one FCI template (6F) and nothing after it (or one application property "
                        "template (61), as a PIV application answers)", where)
        return data

    def _ef(self, obj: dict[str, Any], where: str, fid: int) -> FileSpec:
        _check_keys(obj, where, {"fid", "type", "structure"}, _EF_KEYS)
        text = _string(obj, "structure", where)
        try:
            structure = Structure(text)
        except ValueError:
            choices = ", ".join(s.value for s in Structure)
            raise _fail(f"structure must be one of {choices}, found {quoted(text)}", where) from None
        sfi = _int(obj, "sfi", where, 1, 30) if "sfi" in obj else None
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
                raise _fail(f"{key} is for record EFs; a transparent EF takes content or text", where)
        if "content" in obj and "text" in obj:
            raise _fail("give content or text, not both", where)
        content = (_string(obj, "text", where).encode() if "text" in obj
                   else _hex(obj, "content", where) if "content" in obj else b"")
        size = _int(obj, "size", where, 0, MAX_OFFSET + 1) if "size" in obj else min(len(content),
                                                                                      MAX_OFFSET + 1)
        if len(content) > size:
            raise _fail(f"the content has {len(content)} bytes, more than size {size}"
                        if "size" in obj else f"the content has {len(content)} bytes: READ BINARY offsets "
                        f"reach {MAX_OFFSET + 1} bytes at most", where)
        return content + bytes(size - len(content))

    def _records(self, obj: dict[str, Any], where: str, structure: Structure) -> tuple[bytes, ...]:
        for key in ("content", "text", "size"):
            if key in obj:
                raise _fail(f"{key} is for transparent EFs; a record EF takes records", where)
        raw = obj.get("records", [])
        if not isinstance(raw, list):
            raise _fail(f"records must be a list, found {describe(raw)}", where)
        if len(raw) > MAX_RECORDS:
            raise _fail(f"{len(raw)} records: record numbers go up to {MAX_RECORDS}", where)
        records = [_hex({"record": r}, "record", f"{where}.records[{i}]", 0, 255) for i, r in enumerate(raw)]
        if "record_size" in obj:
            if not structure.fixed_size:
                raise _fail("record_size is for linear-fixed and cyclic EFs", where)
            size = _int(obj, "record_size", where, 1, 255)
            for i, record in enumerate(records):
                if len(record) > size:
                    raise _fail(f"{len(record)} bytes, more than record_size {size}", f"{where}.records[{i}]")
            return tuple(r + b"\xff" * (size - len(r)) for r in records)
        if structure.fixed_size:
            for i, record in enumerate(records[1:], 1):
                if len(record) != len(records[0]):
                    raise _fail(f"{len(record)} bytes, but records[0] has {len(records[0])}: a {structure} "
                                "EF has one record size (give record_size to pad)", f"{where}.records[{i}]")
        return tuple(records)

    @staticmethod
    def _check_siblings(children: tuple[FileSpec, ...], fid: int, where: str) -> None:
        seen: set[int] = set()
        sfis: set[int] = set()
        for i, child in enumerate(children):
            at = f"{where}.children[{i}]"
            if child.fid in seen or child.fid == fid:
                raise _fail(f"fid {child.fid:04X} is already used in this DF", at)
            seen.add(child.fid)
            if child.sfi is not None:
                if child.sfi in sfis:
                    raise _fail(f"sfi {child.sfi} is already used in this DF", at)
                sfis.add(child.sfi)


def parse_profile(obj: Any, source: str = "") -> CardProfile:
    """A CardProfile from decoded JSON; `source` (a file name) starts every error message."""
    try:
        # First, whatever no check below should meet, wherever it is (comments included).
        check_tree(obj, "", MAX_DEPTH)
        return _parse(obj, source)
    except InputError as exc:
        raise exc.recast(ProfileError, source) from None


def _parse(value: Any, source: str) -> CardProfile:
    obj = _object(value, "", "a JSON object at the top")
    if obj.get("format") != FORMAT:
        raise _fail(f"format must be {FORMAT!r}: this is not a card profile", "")
    version = obj.get("version")
    if type(version) is not int:  # not `true`, which Python takes for 1
        raise _fail(f"version must be a whole number, found {describe(version)}", "")
    if version != VERSION:
        raise _fail(f"version {version} is not supported (this program reads version {VERSION})", "")
    _check_keys(obj, "", _TOP_KEYS, _TOP_KEYS | _TOP_OPTIONAL)
    name = _string(obj, "name", "").strip()
    if not name:
        raise _fail("name must not be empty", "")
    t0 = flag(obj.get("t0", False), "t0")
    pins = _pins(obj["pins"]) if "pins" in obj else ()
    objects = _data_objects(obj["data_objects"]) if "data_objects" in obj else ()
    mf = _Files({p.reference for p in pins}).read(obj["files"], "files", True)
    description = _string(obj, "description", "") if "description" in obj else ""
    bac = _bac(obj["bac"]) if "bac" in obj else None
    openpgp = parse_openpgp(obj["openpgp"]) if "openpgp" in obj else None
    return CardProfile(name, _hex(obj, "atr", "", 2, 33), t0, mf, pins, objects, description, source, bac,
                       openpgp)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ProfileError(f"key {quoted(key)} appears twice in one object")
        out[key] = value
    return out


def load_profile(path: str | Path) -> CardProfile:
    """Read and check a profile file. Raises ProfileError, naming the file and the place,
    for anything wrong with it (the file cannot be opened included); nothing else."""
    path = Path(path)
    source = path.name
    try:
        obj = loads(read_document(path, "card profile", MAX_SIZE), object_pairs_hook=_no_duplicates)
    except InputError as exc:
        raise exc.recast(ProfileError, exc.source or source) from None
    return parse_profile(obj, source)


def demo_profile_path() -> Path:
    return asset_path("cards", "demo.json")


def demo_profile() -> CardProfile:
    """The profile that ships with the app."""
    return load_profile(demo_profile_path())
