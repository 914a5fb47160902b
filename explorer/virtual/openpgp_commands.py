"""The OpenPGP application of a profile's `openpgp` key (OpenPGP smart card application 3.4):
GET DATA of its data objects and GENERATE ASYMMETRIC KEY PAIR in read mode.

GET DATA (7.2.6): the templates 65, 6E, 7A, FA come with their tag and length, every other DO as
its value alone; 4F, 5F52, 7F66, 7F74 and C4 may also be asked for alone and are then taken from
6E. The PW status bytes (C4) carry the card's live retry counters (PW1 from reference 81, PW3 from
83), so a wrong VERIFY shows in the next GET DATA as on a card.

SELECT DATA (7.2.5) chooses which cardholder certificate GET DATA 7F21 gives: occurrence 0 (the
authentication key's) is the profile's 7F21, the other two are empty, as on a card where only one
was written; selecting a DF (the application) or a reset goes back to 0.

GENERATE ASYMMETRIC KEY PAIR (7.2.14): P1 81 answers the public key of the CRT in the data (B6,
B8, A4); P1 80 would make a new key and needs PW3, which this card never grants: 69 82.
"""

from __future__ import annotations

from explorer.core.apdu import CommandApdu
from explorer.core.tlv import TlvNode, decode_tlv
from explorer.virtual import fs_commands as fs
from explorer.virtual.fs_commands import CardState, Kind, Reply
from explorer.virtual.openpgp_profile import TEMPLATES

_APPLICATION_DATA = 0x6E
_PW_STATUS = 0xC4
#: DOs inside 6E that GET DATA may also ask for alone (spec 4.4.1).
_ALSO_ALONE = frozenset({0x4F, 0x5F52, 0x7F66, 0x7F74, _PW_STATUS})
#: The PW status bytes' retry counters: byte index -> VERIFY reference.
_COUNTERS = {4: 0x81, 6: 0x83}
_CERTIFICATE = 0x7F21
#: SELECT DATA's P2 and data: 7F21 through a tag list (60 04 5C 02 7F 21).
_SELECT_DATA_P2 = 0x04
_SELECT_DATA_7F21 = bytes.fromhex("60045C027F21")
_CERTIFICATES = 3
_READ_MODE = 0x81
_GENERATE = 0x80


def _find(nodes: tuple[TlvNode, ...], tag: int) -> TlvNode | None:
    for node in nodes:
        if node.tag == tag:
            return node
        inner = _find(node.children, tag)
        if inner is not None:
            return inner
    return None


def _live_pw_status(state: CardState, value: bytes) -> bytes:
    out = bytearray(value)
    for index, reference in _COUNTERS.items():
        if index < len(out) and reference in state.tries:
            out[index] = state.tries[reference]
    return bytes(out)


def _with_live_counters(state: CardState, content: bytes) -> bytes:
    """6E's content with C4 carrying the retry counters as they are now."""
    node = _find(decode_tlv(content).nodes, _PW_STATUS)
    if node is None:
        return content
    start = node.offset + node.header_length
    return content[:start] + _live_pw_status(state, node.value) + content[node.end :]


def get_data(state: CardState, tag: int) -> Reply | None:
    """The answer to GET DATA `tag`, or None when the OpenPGP application has no such DO (the
    card's other data objects may have it)."""
    assert state.openpgp is not None
    objects = dict(state.openpgp.data_objects)
    if tag == _CERTIFICATE and state.openpgp_instance:
        return Reply(fs.SW_OK, b"", Kind.FIXED)  # only the first certificate is written
    if tag in objects:
        value = objects[tag]
        if tag == _APPLICATION_DATA:
            value = _with_live_counters(state, value)
        elif tag == _PW_STATUS:
            value = _live_pw_status(state, value)
        return Reply(fs.SW_OK, fs.tlv(tag, value) if tag in TEMPLATES else value, Kind.FIXED)
    if tag in _ALSO_ALONE and _APPLICATION_DATA in objects:
        content = _with_live_counters(state, objects[_APPLICATION_DATA])
        node = _find(decode_tlv(content).nodes, tag)
        if node is not None:
            return Reply(fs.SW_OK, node.value, Kind.FIXED)
    return None


def generate_asymmetric_key_pair(state: CardState, apdu: CommandApdu) -> Reply:
    if state.openpgp is None:
        return Reply(0x6D00)  # no OpenPGP application: the instruction is unknown
    if apdu.p2:
        return Reply(fs.SW_WRONG_P1P2)
    if apdu.p1 == _GENERATE:
        return Reply(fs.SW_SECURITY)  # needs PW3, which is never verified here
    if apdu.p1 != _READ_MODE:
        return Reply(fs.SW_WRONG_P1P2)
    if not apdu.data:
        return Reply(fs.SW_WRONG_LENGTH)
    keys = dict(state.openpgp.public_keys)
    crt = apdu.data[0]
    if crt not in (0xB6, 0xB8, 0xA4):
        return Reply(fs.SW_WRONG_DATA)
    key = keys.get(crt)
    if key is None:
        return Reply(fs.SW_DATA_NOT_FOUND)
    return Reply(fs.SW_OK, key, Kind.OUTGOING)


def select_data(state: CardState, apdu: CommandApdu) -> Reply:
    if state.openpgp is None:
        return Reply(0x6D00)
    if apdu.p2 != _SELECT_DATA_P2:
        return Reply(fs.SW_WRONG_P1P2)
    if apdu.data != _SELECT_DATA_7F21:
        return Reply(fs.SW_WRONG_DATA)  # only 7F21 has several occurrences
    if apdu.p1 >= _CERTIFICATES:
        return Reply(fs.SW_DATA_NOT_FOUND)
    state.openpgp_instance = apdu.p1
    return Reply(fs.SW_OK)
