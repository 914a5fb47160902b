"""Editing one field of a command APDU, as the console's structured view does.

CLA, INS, P1, P2, the data and Le are set from hex; Lc is never typed: it
follows the data, and the encoding (short or extended) follows the lengths.
Pure and total: every text gives a command or a FieldError saying which
field and why.
"""

from __future__ import annotations

from dataclasses import replace

from explorer.core.apdu import EXTENDED_MAX_NE, SHORT_MAX_NC, SHORT_MAX_NE, ApduError, CommandApdu
from explorer.core.hexfmt import HexError, parse_hex

#: The fields a tester types; Lc is computed.
EDITABLE = ("CLA", "INS", "P1", "P2", "Data", "Le")
_HEADER = ("CLA", "INS", "P1", "P2")


class FieldError(ValueError):
    """A field's new value cannot be used; the message starts with the field's name."""


def edit_field(command: CommandApdu, name: str, text: str) -> CommandApdu:
    """`command` with field `name` set from the hex `text` (empty Data or Le: no such field)."""
    if name not in EDITABLE:
        raise FieldError(f"{name}: not a field that can be typed (Lc follows the data)")
    try:
        value = parse_hex(text)
    except HexError as exc:
        raise FieldError(f"{name}: {exc}") from None
    if name in _HEADER:
        if len(value) != 1:
            raise FieldError(f"{name}: one byte expected, {len(value)} given")
        header = [command.cla, command.ins, command.p1, command.p2]
        header[_HEADER.index(name)] = value[0]
        cla, ins, p1, p2 = header
        edited = replace(command, cla=cla, ins=ins, p1=p1, p2=p2)
    else:
        # The encoding follows the new lengths, except that an extended encoding the tester chose
        # for lengths a short one carries (to test a card's extended support) is kept; two Le
        # bytes typed ask for it too.
        extended = _chosen_extended(command) or (name == "Le" and len(value) == 2)
        if name == "Data":
            edited = replace(command, data=value, extended=extended)
        else:
            edited = replace(command, le=_le(value), extended=extended)
    try:
        edited.to_bytes()
    except ApduError as exc:
        raise FieldError(f"{name}: {exc}") from None
    return edited


def _chosen_extended(command: CommandApdu) -> bool:
    """Extended although short lengths would do: the tester's choice, not the lengths'."""
    return command.extended and len(command.data) <= SHORT_MAX_NC and (
        command.le is None or command.le <= SHORT_MAX_NE)


def _le(value: bytes) -> int | None:
    """Le as typed: none, one byte (00 = 256) or two (0000 = 65536, extended)."""
    if not value:
        return None
    if len(value) > 2:
        raise FieldError(f"Le: {len(value)} bytes; Le is one byte (short) or two (extended), "
                         "or nothing for no Le")
    number = int.from_bytes(value, "big")
    return number or (256 if len(value) == 1 else EXTENDED_MAX_NE)
