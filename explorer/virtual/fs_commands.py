"""The file-system half of FileSystemCard: live files, the current DF and EF,
FCP/FCI/FMD templates, and SELECT, READ/UPDATE BINARY, READ RECORD per
ISO/IEC 7816-4.

Commands return a Reply that says what the data is; the card applies the
transport rules (61xx, 6Cxx, Le) in one place, since they are the same for
every command and differ only between T=0 and direct answers.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from explorer.core.apdu import CommandApdu
from explorer.core.tlv import decode_tlv
from explorer.virtual.profile import MF_FID, Access, CardProfile, FileSpec, FileType, PinSpec, Structure

SW_OK = 0x9000
SW_END_REACHED = 0x6282
SW_WRONG_LENGTH = 0x6700
SW_NOT_COMPATIBLE = 0x6981
SW_SECURITY = 0x6982
SW_BLOCKED = 0x6983
SW_CONDITIONS = 0x6985
SW_NO_CURRENT_EF = 0x6986
SW_FUNCTION = 0x6A81
SW_NOT_FOUND = 0x6A82
SW_RECORD_NOT_FOUND = 0x6A83
SW_NO_SPACE = 0x6A84
SW_WRONG_DATA = 0x6A80
SW_WRONG_P1P2 = 0x6A86
SW_LC_INCONSISTENT = 0x6A87
SW_DATA_NOT_FOUND = 0x6A88
SW_OFFSET = 0x6B00

#: Data coding byte, as the demo ATR's card capabilities announce it: 1-byte data units.
DATA_CODING = 0x01
_DESCRIPTOR = {Structure.TRANSPARENT: 0x01, Structure.LINEAR_FIXED: 0x02,
               Structure.LINEAR_VARIABLE: 0x04, Structure.CYCLIC: 0x06}
_DF_DESCRIPTOR = 0x38
_LCS_ACTIVATED = 0x05


class Kind(enum.Enum):
    DONE = "done"  # data and status word as they go out
    FIXED = "fixed"  # a whole object a case-2 command asked for: its length and Le must agree
    OUTGOING = "outgoing"  # data a case-3/4 command produced: 61xx under T=0, cut to Ne otherwise


@dataclass(frozen=True)
class Reply:
    sw: int
    data: bytes = b""
    kind: Kind = Kind.DONE
    #: FIXED, answered directly, Ne above the length: the status word that goes with the whole object.
    short_sw: int = SW_OK


def tlv(tag: int, value: bytes) -> bytes:
    """One BER-TLV object with a definite length (tags of 1 or 2 bytes)."""
    n = len(value)
    length = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else b"\x82" + n.to_bytes(2, "big")
    return tag.to_bytes(1 if tag < 0x100 else 2, "big") + length + value


class Node:
    """A file as it lives on the card: EF data that UPDATE BINARY changes."""

    def __init__(self, spec: FileSpec, parent: Node | None) -> None:
        self.spec = spec
        self.parent = parent
        self.content = bytearray(spec.content)
        self.records = list(spec.records)
        self.children = [Node(child, self) for child in spec.children]

    def child(self, fid: int, *, df: bool | None = None) -> Node | None:
        for node in self.children:
            if node.spec.fid == fid and (df is None or node.spec.is_df == df):
                return node
        return None

    def by_sfi(self, sfi: int) -> Node | None:
        return next((node for node in self.children if node.spec.sfi == sfi), None)

    def walk(self) -> list[Node]:
        out: list[Node] = []
        todo = [self]
        while todo:
            node = todo.pop()
            out.append(node)
            todo.extend(reversed(node.children))
        return out


class CardState:
    """What a power cycle clears (current files, security state) and what it
    keeps (file contents, retry counters: they live in the card's EEPROM)."""

    def __init__(self, profile: CardProfile, random: Callable[[int], bytes]) -> None:
        self.t0 = profile.t0
        self.random = random
        self.mf = Node(profile.mf, None)
        self.dfs = [node for node in self.mf.walk() if node.spec.is_df]
        self.pins: dict[int, PinSpec] = {pin.reference: pin for pin in profile.pins}
        self.tries = {pin.reference: pin.tries for pin in profile.pins}
        self.objects = {obj.tag: obj.value for obj in profile.data_objects}
        self.openpgp = profile.openpgp
        #: Whether any application answers GET PROCESSING OPTIONS (an EMV card).
        self.emv = any(df.spec.gpo is not None for df in self.dfs)
        self.reset()

    def reset(self) -> None:
        self.current_df = self.mf
        self.current_ef: Node | None = None
        self.record: int | None = None  # index in current_ef.records
        self.verified: set[int] = set()
        self.openpgp_instance = 0  # the 7F21 occurrence OpenPGP's SELECT DATA chose

    def allowed(self, access: Access) -> bool:
        return not access.never and (access.pin is None or access.pin in self.verified)

    def make_current(self, node: Node) -> None:
        if node.spec.is_df:
            self.current_df, self.current_ef = node, None
            self.openpgp_instance = 0
        else:
            assert node.parent is not None
            self.current_df, self.current_ef = node.parent, node
        self.record = None

    def ef_by_sfi(self, sfi: int) -> Node | None:
        """An EF of the current DF by SFI, made current as 7816-4 says."""
        node = self.current_df.by_sfi(sfi)
        if node is not None and node is not self.current_ef:
            self.make_current(node)
        return node


# -- templates ------------------------------------------------------------------

def fcp_objects(node: Node) -> bytes:
    spec = node.spec
    fid = tlv(0x83, spec.fid.to_bytes(2, "big"))
    if spec.type is FileType.EF:
        assert spec.structure is not None
        if spec.structure is Structure.TRANSPARENT:
            size, descriptor = len(node.content), bytes([_DESCRIPTOR[spec.structure]])
        else:
            size = sum(len(r) for r in node.records)
            longest = max((len(r) for r in node.records), default=0)
            # Descriptor byte, data coding byte, maximum record size (2 bytes), number of records.
            descriptor = (bytes([_DESCRIPTOR[spec.structure], DATA_CODING]) + longest.to_bytes(2, "big")
                          + bytes([len(node.records)]))
        out = tlv(0x80, size.to_bytes(2, "big")) + tlv(0x82, descriptor) + fid
        # An empty 88 says "no SFI"; leaving 88 out would mean the FID's low bits are one.
        out += tlv(0x88, bytes([spec.sfi << 3]) if spec.sfi else b"")
        if not _declares_security(spec.fcp_extra):  # a profile's own attributes replace the built ones
            out += security_attributes(spec)
    else:
        out = tlv(0x82, bytes([_DF_DESCRIPTOR])) + fid
        if spec.name:
            out += tlv(0x84, spec.name)
    return out + tlv(0x8A, bytes([_LCS_ACTIVATED])) + spec.fcp_extra


#: FCP tags of security attributes (ISO/IEC 7816-4 Table 12): proprietary 86, referenced 8B,
#: compact 8C, expanded AB, and the security environment templates A0/A1.
_SECURITY_TAGS = frozenset({0x86, 0x8B, 0x8C, 0xAB, 0xA0, 0xA1})


def _declares_security(extra: bytes) -> bool:
    return any(node.tag in _SECURITY_TAGS for node in decode_tlv(extra).nodes)


#: Access mode byte bits of an EF (ISO/IEC 7816-4 Table 17): UPDATE is bit 2, READ bit 1, and
#: their condition bytes follow in that order.
_AM_UPDATE, _AM_READ = 0x02, 0x01
_SC_ALWAYS, _SC_NEVER, _SC_USER_AUTH = 0x00, 0xFF, 0x10


def _sc_byte(access: Access) -> int:
    return _SC_NEVER if access.never else _SC_ALWAYS if access.pin is None else _SC_USER_AUTH


def _expanded_condition(access: Access) -> bytes:
    if access.never:
        return tlv(0x97, b"")
    if access.pin is None:
        return tlv(0x90, b"")
    # Control reference template AT: PIN reference 83, usage qualifier 95 = 08 (user verification).
    return tlv(0xA4, tlv(0x83, bytes([access.pin])) + tlv(0x95, b"\x08"))


def security_attributes(spec: FileSpec) -> bytes:
    """The EF's rules as a card states them: compact (8C) always; expanded (AB) too when a PIN is
    involved, since a compact condition byte says "user authentication" but cannot name the PIN."""
    out = tlv(0x8C, bytes([_AM_UPDATE | _AM_READ, _sc_byte(spec.update), _sc_byte(spec.read)]))
    if spec.read.pin is None and spec.update.pin is None:
        return out
    rules = (tlv(0x80, bytes([_AM_UPDATE])) + _expanded_condition(spec.update)
             + tlv(0x80, bytes([_AM_READ])) + _expanded_condition(spec.read))
    return out + tlv(0xAB, rules)


def _proprietary(node: Node) -> bytes:
    spec = node.spec
    inner = (tlv(0x50, spec.label.encode()) if spec.label else b"") + spec.fci_proprietary
    return tlv(0xA5, inner) if inner else b""


def fcp(node: Node) -> bytes:
    return tlv(0x62, fcp_objects(node))


def fci(node: Node) -> bytes:
    if node.spec.fci is not None:
        return node.spec.fci
    return tlv(0x6F, fcp_objects(node) + _proprietary(node))


def fmd(node: Node) -> bytes:
    return tlv(0x64, _proprietary(node))


# -- SELECT -----------------------------------------------------------------------

def _by_fid(state: CardState, fid: int) -> Node | None:
    """P1 = 00: the MF, then the places 7816-4 wants a FID unique in: children
    of the current DF, the current DF, its parent and the parent's children."""
    if fid == MF_FID:
        return state.mf
    df = state.current_df
    places = [df.child(fid), df if df.spec.fid == fid else None]
    if df.parent is not None:
        places += [df.parent if df.parent.spec.fid == fid else None, df.parent.child(fid)]
    return next((node for node in places if node is not None), None)


def _by_path(start: Node, data: bytes) -> Node | None:
    node: Node | None = start
    for i in range(0, len(data), 2):
        if node is None or not node.spec.is_df:
            return None
        node = node.child(int.from_bytes(data[i : i + 2], "big"))
    return node


def _by_name(state: CardState, name: bytes, occurrence: int) -> Node | None:
    # Right-truncated names match too (selection by partial DF name), which is
    # what makes "next occurrence" useful.
    found = [df for df in state.dfs if df.spec.name is not None and df.spec.name.startswith(name)]
    if not found:
        return None
    here = found.index(state.current_df) if state.current_df in found else None
    if occurrence == 0:
        return found[0]
    if occurrence == 1:
        return found[-1]
    if occurrence == 2:
        index = 0 if here is None else here + 1
    else:
        index = len(found) - 1 if here is None else here - 1
    return found[index] if 0 <= index < len(found) else None


def select(state: CardState, apdu: CommandApdu) -> Reply:
    p1, p2, data = apdu.p1, apdu.p2, apdu.data
    if p2 & 0xF0 or (p2 & 0x03 and p1 != 0x04):
        return Reply(SW_WRONG_P1P2)
    target: Node | None
    if p1 in (0x00, 0x04) and not data:
        target = state.mf
    elif p1 in (0x00, 0x01, 0x02):
        if len(data) != 2:
            return Reply(SW_LC_INCONSISTENT)
        fid = int.from_bytes(data, "big")
        target = _by_fid(state, fid) if p1 == 0x00 else state.current_df.child(fid, df=p1 == 0x01)
    elif p1 == 0x03:
        if data:
            return Reply(SW_LC_INCONSISTENT)
        target = state.current_df.parent
    elif p1 == 0x04:
        if len(data) > 16:
            return Reply(SW_LC_INCONSISTENT)
        target = _by_name(state, data, p2 & 0x03)
    elif p1 in (0x08, 0x09):
        if not data or len(data) % 2:
            return Reply(SW_LC_INCONSISTENT)
        target = _by_path(state.mf if p1 == 0x08 else state.current_df, data)
    else:
        return Reply(SW_WRONG_P1P2)
    if target is None:
        return Reply(SW_NOT_FOUND)
    state.make_current(target)
    template = (fci, fcp, fmd, None)[p2 >> 2 & 0x03]
    return Reply(SW_OK, template(target) if template else b"", Kind.OUTGOING)


# -- READ BINARY, UPDATE BINARY -------------------------------------------------------

def _binary_ef(state: CardState, p1: int, p2: int, access: str) -> tuple[Node, int] | Reply:
    """The EF and offset of a binary command, or the error. The SFI form makes the EF current."""
    if p1 & 0x80:
        sfi = p1 & 0x1F
        if p1 & 0x60 or sfi in (0, 31):
            return Reply(SW_WRONG_P1P2)
        node, offset = state.ef_by_sfi(sfi), p2
        if node is None:
            return Reply(SW_NOT_FOUND)
    else:
        node, offset = state.current_ef, p1 << 8 | p2
        if node is None:
            return Reply(SW_NO_CURRENT_EF)
    if node.spec.structure is not Structure.TRANSPARENT:
        return Reply(SW_NOT_COMPATIBLE)
    if not state.allowed(node.spec.read if access == "read" else node.spec.update):
        return Reply(SW_SECURITY)
    if offset >= len(node.content):
        return Reply(SW_OFFSET)
    return node, offset


def read_binary(state: CardState, apdu: CommandApdu) -> Reply:
    if apdu.data or apdu.le is None:
        return Reply(SW_WRONG_LENGTH)
    found = _binary_ef(state, apdu.p1, apdu.p2, "read")
    if isinstance(found, Reply):
        return found
    node, offset = found
    ne = apdu.ne
    data = bytes(node.content[offset : offset + ne])
    # Le 00 asks for "up to 256": fewer bytes at the end of the file are a full answer.
    if len(data) == ne or ne == 256:
        return Reply(SW_OK, data)
    if state.t0:
        return Reply(0x6C00 | len(data))
    return Reply(SW_END_REACHED, data)


def update_binary(state: CardState, apdu: CommandApdu) -> Reply:
    if not apdu.data:
        return Reply(SW_WRONG_LENGTH)
    found = _binary_ef(state, apdu.p1, apdu.p2, "update")
    if isinstance(found, Reply):
        return found
    node, offset = found
    if offset + len(apdu.data) > len(node.content):
        return Reply(SW_NO_SPACE)
    node.content[offset : offset + len(apdu.data)] = apdu.data
    return Reply(SW_OK)


# -- READ RECORD ---------------------------------------------------------------------

def _record_index(state: CardState, p1: int, mode: int, count: int, cyclic: bool) -> int | Reply:
    current = state.record
    if mode == 0b100:
        if p1 == 0:
            return current if current is not None else Reply(SW_RECORD_NOT_FOUND)
        return p1 - 1
    if mode in (0b101, 0b110):
        return Reply(SW_FUNCTION)  # several records in one answer: not offered
    if mode == 0b111 or p1:
        return Reply(SW_WRONG_P1P2)  # RFU mode, or a record identifier (not offered)
    if mode == 0b000:
        return 0
    if mode == 0b001:
        return count - 1
    step = 1 if mode == 0b010 else -1
    if current is None:
        return 0 if step == 1 else count - 1
    index = current + step
    # A cyclic file has no end: after the oldest record comes the newest again.
    return index % count if cyclic and count else index


def read_record(state: CardState, apdu: CommandApdu) -> Reply:
    if apdu.data or apdu.le is None:
        return Reply(SW_WRONG_LENGTH)
    sfi, mode = apdu.p2 >> 3, apdu.p2 & 0x07
    if sfi == 31 or apdu.p1 == 0xFF:
        return Reply(SW_WRONG_P1P2)
    node = state.ef_by_sfi(sfi) if sfi else state.current_ef
    if node is None:
        return Reply(SW_NOT_FOUND if sfi else SW_NO_CURRENT_EF)
    structure = node.spec.structure
    if structure is Structure.TRANSPARENT:
        return Reply(SW_NOT_COMPATIBLE)
    if not state.allowed(node.spec.read):
        return Reply(SW_SECURITY)
    index = _record_index(state, apdu.p1, mode, len(node.records), structure is Structure.CYCLIC)
    if isinstance(index, Reply):
        return index
    if not 0 <= index < len(node.records):
        return Reply(SW_RECORD_NOT_FOUND)
    # Reading by number leaves the record pointer alone, as GSM 11.11's absolute mode does.
    if mode != 0b100:
        state.record = index
    return Reply(SW_OK, node.records[index], Kind.FIXED, SW_END_REACHED)
