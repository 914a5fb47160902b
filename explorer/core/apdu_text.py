"""Checking a command as typed: the bytes, or what is wrong and which characters."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.core.apdu import ApduError, CommandApdu, parse_apdu
from explorer.core.hexfmt import HexError, byte_columns, parse_hex
from explorer.core.sensitive import MASK, MASK_CHAR


@dataclass(frozen=True)
class CommandCheck:
    """`span` is the (start, end) character range at fault in the typed text."""

    apdu: bytes | None
    command: CommandApdu | None
    message: str
    span: tuple[int, int] | None = None
    masked: bool = False  # it holds "••" where a PIN or key was: it waits for the real bytes

    @property
    def ok(self) -> bool:
        return self.command is not None

    @property
    def empty(self) -> bool:
        return self.apdu == b""


def check_command_text(text: str) -> CommandCheck:
    """Total: every text gives a check; the message says what and where."""
    first = text.find(MASK_CHAR)
    if first >= 0:
        # A command recalled from the history or copied from a masked trace: the secret was not kept.
        return CommandCheck(None, None, f"{MASK} marks a PIN or key byte that was not kept: "
                            f"type the real bytes in place of the {MASK}", (first, text.rfind(MASK_CHAR) + 1),
                            masked=True)
    try:
        raw = parse_hex(text)
    except HexError as exc:
        return CommandCheck(None, None, str(exc), (exc.position, exc.position + 1))
    if not raw:
        return CommandCheck(b"", None, "type a command in hex, e.g. 00 A4 04 00 07 A0 00 00 00 04 10 10")
    try:
        command = parse_apdu(raw)
    except ApduError as exc:
        columns = byte_columns(text)
        start = min(exc.start, len(columns) - 1)
        end = max(start + 1, min(exc.end, len(columns)))
        return CommandCheck(raw, None, str(exc), (columns[start][0], columns[end - 1][1]))
    name = command.name or "unknown instruction"
    return CommandCheck(raw, command, f"{name} · {command.case.label} · {len(raw)} bytes")
