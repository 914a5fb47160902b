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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.assets import asset_path
from explorer.core.hexfmt import HexError, parse_hex
from explorer.core.input_error import InputError
from explorer.core.input_files import read_document
from explorer.core.json_input import check_tree, describe, flag, loads, quoted
from explorer.core.mrz_digits import MrzCharacterError, check_digit, mrz_information
from explorer.virtual.openpgp_profile import OpenPgpSpec, parse_openpgp
from explorer.virtual.profile_fields import ProfileError, as_object, check_keys, fail, hex_of, int_of, text_of
from explorer.virtual.profile_files import (
    ALWAYS,
    MAX_OFFSET,
    MF_FID,
    NEVER,
    Access,
    FileSpec,
    FileType,
    Structure,
    read_files,
)

# What the format's readers import from here; the file tree and the field checks live beside it.
__all__ = ["ALWAYS", "FORMAT", "MAX_OFFSET", "MF_FID", "NEVER", "VERSION", "Access", "BacSpec", "CardProfile",
           "DataObject", "FileSpec", "FileType", "PinSpec", "ProfileError", "Structure", "demo_profile",
           "demo_profile_path", "load_profile", "parse_profile"]

FORMAT = "card-explorer-profile"
VERSION = 1
#: A card's whole memory (a megabyte, in hex) fits; a bigger file is not a profile.
MAX_SIZE = 4 << 20
#: JSON nesting: each DF level is two (the DF, its children), so DFs may nest some 14 deep.
MAX_DEPTH = 32


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


def _pins(value: Any) -> tuple[PinSpec, ...]:
    if not isinstance(value, list):
        raise fail(f"pins must be a list, found {describe(value)}", "")
    out: dict[int, PinSpec] = {}
    for i, item in enumerate(value):
        where = f"pins[{i}]"
        obj = as_object(item, where)
        check_keys(obj, where, {"reference", "value"}, {"reference", "value", "tries"})
        ref = hex_of(obj, "reference", where, 1, 1)[0]
        if ref == 0 or ref in out:
            raise fail(f"reference {ref:02X} is {'reserved' if ref == 0 else 'declared twice'}", where)
        tries = int_of(obj, "tries", where, 1, 15) if "tries" in obj else 3  # 63Cx counts up to 15
        out[ref] = PinSpec(ref, hex_of(obj, "value", where, 1, 255), tries)
    return tuple(out.values())


def _bac(value: Any) -> BacSpec:
    obj = as_object(value, "bac")
    check_keys(obj, "bac", _BAC_KEYS, _BAC_KEYS)
    number = text_of(obj, "document_number", "bac")
    if not 1 <= len(number) <= 20:  # 9303-3: longer numbers than 9 continue in the optional data
        raise fail(f"document_number must have 1 to 20 characters, found {len(number)}", "bac")
    dates = []
    for key in ("date_of_birth", "date_of_expiry"):
        text = text_of(obj, key, "bac")
        if len(text) != 6 or not text.isascii() or not text.isdigit():
            raise fail(f"{key} must be 6 digits YYMMDD, found {quoted(text)}", "bac")
        dates.append(text)
    try:
        check_digit(number)  # as the MRZ prints it: 0-9, A-Z and <
    except MrzCharacterError as exc:
        raise fail(f"document_number {exc}", "bac") from None
    return BacSpec(number, dates[0], dates[1])


def _tag_ok(tag: bytes) -> bool:
    if len(tag) == 1:
        return tag[0] & 0x1F != 0x1F
    # Subsequent bytes: bit 8 set on all but the last.
    return tag[0] & 0x1F == 0x1F and all(b & 0x80 for b in tag[1:-1]) and not tag[-1] & 0x80


def _data_objects(value: Any) -> tuple[DataObject, ...]:
    table = as_object(value, "data_objects")
    out: dict[int, DataObject] = {}
    for key in table:
        where = f"data_objects[{quoted(key)}]"
        try:
            tag = parse_hex(key)
        except HexError as exc:
            raise fail(f"the tag is not hex ({exc})", where) from None
        if not 1 <= len(tag) <= 3 or not _tag_ok(tag):
            raise fail("the tag must be a BER-TLV tag of 1 or 2 bytes, as GET DATA's P1-P2 carry, or of 3 "
                        "bytes, as PIV's GET DATA names in its tag list", where)
        number = int.from_bytes(tag, "big")
        if number in out:
            raise fail("the tag is declared twice", where)
        out[number] = DataObject(number, hex_of(table, key, where))
    return tuple(out.values())


def parse_profile(obj: Any, source: str = "") -> CardProfile:
    """A CardProfile from decoded JSON; `source` (a file name) starts every error message."""
    try:
        # First, whatever no check below should meet, wherever it is (comments included).
        check_tree(obj, "", MAX_DEPTH)
        return _parse(obj, source)
    except InputError as exc:
        raise exc.recast(ProfileError, source) from None


def _parse(value: Any, source: str) -> CardProfile:
    obj = as_object(value, "", "a JSON object at the top")
    if obj.get("format") != FORMAT:
        raise fail(f"format must be {FORMAT!r}: this is not a card profile", "")
    version = obj.get("version")
    if type(version) is not int:  # not `true`, which Python takes for 1
        raise fail(f"version must be a whole number, found {describe(version)}", "")
    if version != VERSION:
        raise fail(f"version {version} is not supported (this program reads version {VERSION})", "")
    check_keys(obj, "", _TOP_KEYS, _TOP_KEYS | _TOP_OPTIONAL)
    name = text_of(obj, "name", "").strip()
    if not name:
        raise fail("name must not be empty", "")
    t0 = flag(obj.get("t0", False), "t0")
    pins = _pins(obj["pins"]) if "pins" in obj else ()
    objects = _data_objects(obj["data_objects"]) if "data_objects" in obj else ()
    mf = read_files(obj["files"], {p.reference for p in pins})
    description = text_of(obj, "description", "") if "description" in obj else ""
    bac = _bac(obj["bac"]) if "bac" in obj else None
    openpgp = parse_openpgp(obj["openpgp"]) if "openpgp" in obj else None
    return CardProfile(name, hex_of(obj, "atr", "", 2, 33), t0, mf, pins, objects, description, source, bac,
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
