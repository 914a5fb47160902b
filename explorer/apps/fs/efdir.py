"""EF.DIR (ISO/IEC 7816-4 8.2.1.1): the card's list of applications, one application template
(61) per record, or a row of them in a transparent EF. Each template names the application by
its AID (4F), a label (50), a path (51) and/or the command that selects it (52)."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.apps.fs.constants import Ins
from explorer.core.tlv import decode_tlv

APPLICATION_TEMPLATE = 0x61
AID, LABEL, PATH, COMMAND = 0x4F, 0x50, 0x51, 0x52


@dataclass(frozen=True)
class Application:
    aid: bytes | None
    label: str
    path: bytes | None
    command: bytes | None

    @property
    def title(self) -> str:
        named = self.aid or self.path
        ident = named.hex().upper() if named else "without AID or path"
        return f"{ident} \"{self.label}\"" if self.label else ident

    def select_command(self) -> bytes | None:
        """The command EF.DIR gives, if it is a SELECT: the card wrote it, so anything else (a
        command that could change the card) is not sent."""
        command = self.command
        if command is not None and len(command) >= 4 and command[1] == Ins.SELECT:
            return command
        return None


def applications(contents: list[bytes]) -> list[Application]:
    """Every application template in the records (or the one transparent content) given."""
    found: list[Application] = []
    for data in contents:
        for node in decode_tlv(data).nodes:
            if node.tag != APPLICATION_TEMPLATE:
                continue
            parts = {child.tag: child.value for child in node.children}
            label = parts.get(LABEL, b"").decode("latin-1")
            found.append(Application(parts.get(AID), label, parts.get(PATH), parts.get(COMMAND)))
    return found
