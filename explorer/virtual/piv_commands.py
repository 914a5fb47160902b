"""PIV's GET DATA (NIST SP 800-73-4 Part 2 §3.1.2) for FileSystemCard: INS CB, P1-P2 3F FF, and
in the data field a tag list (5C) naming one object. The objects are the profile's
`data_objects`, keyed by that tag: a 3-byte tag (5FC1xx) answers its value wrapped in 53, a 1-
or 2-byte one (the discovery object 7E, the BIT group template 7F61) answers its own template,
as Part 1 Table 3 lays them out. The answer is data a case-4 command produced: the card's
transport rules send it (61xx and GET RESPONSE past 256 bytes, or under T=0)."""

from __future__ import annotations

from explorer.core.apdu import CommandApdu
from explorer.virtual import fs_commands as fs
from explorer.virtual.fs_commands import CardState, Kind, Reply

#: P1-P2 of the odd GET DATA: "the current DF" (ISO/IEC 7816-4 §11.5.2).
CURRENT_DF = 0x3FFF
TAG_LIST = 0x5C
DATA_CONTAINER = 0x53
#: GET DATA's tag list holds one tag of at most 3 bytes on a PIV card.
_MAX_TAG = 3


def get_data_by_list(state: CardState, apdu: CommandApdu) -> Reply:
    if apdu.p1 << 8 | apdu.p2 != CURRENT_DF:
        return Reply(fs.SW_WRONG_P1P2)
    data = apdu.data
    if len(data) < 3 or data[0] != TAG_LIST or data[1] != len(data) - 2 or data[1] > _MAX_TAG:
        return Reply(fs.SW_WRONG_DATA)
    listed = data[2:]
    value = state.objects.get(int.from_bytes(listed, "big"))
    if value is None:
        return Reply(fs.SW_NOT_FOUND)  # Part 2: 6A 82, "data object not found"
    wrapper = DATA_CONTAINER if len(listed) == _MAX_TAG else int.from_bytes(listed, "big")
    return Reply(fs.SW_OK, fs.tlv(wrapper, value), Kind.OUTGOING)
