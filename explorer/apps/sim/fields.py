"""What a decoder gives: named values with their byte span inside the bytes it was handed. The
analyzer turns them into Findings by adding where those bytes are in the exchange."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    explanation: str = ""
    start: int = 0
    end: int = 0  # exclusive; start == end: no bytes of its own (a summary)
    sensitive: bool = False
    children: tuple[Field, ...] = field(default=())

    def shifted(self, by: int) -> Field:
        """The same field for bytes that sit `by` further on (a record inside a file)."""
        return Field(self.name, self.value, self.explanation, self.start + by, self.end + by,
                     self.sensitive, tuple(c.shifted(by) for c in self.children))


def nibbles(data: bytes) -> list[int]:
    """The nibbles of BCD swapped as the SIM stores digits: low nibble first."""
    out: list[int] = []
    for b in data:
        out += [b & 0x0F, b >> 4]
    return out


def digits(data: bytes) -> str:
    """Swapped-nibble BCD up to the first F filler; other non-digits shown as hex."""
    text = ""
    for n in nibbles(data):
        if n == 0xF:
            break
        text += f"{n:X}"
    return text
