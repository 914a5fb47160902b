"""BER-TLV as ISO/IEC 7816-4 and EMV use it: a tree that points at its bytes.

`decode_tlv` is total: a trace view calls it on whatever a card sent, so bad
data gives the objects read so far plus the first error with its absolute
offset, never an exception. The decoder is a loop over an explicit stack
rather than recursion, so neither deep nesting nor a large `max_depth` can
raise RecursionError.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.core.hexfmt import to_hex
from explorer.core.tlv_tags import TAG_NAMES

__all__ = ["TlvError", "TlvNode", "TlvResult", "decode_tlv", "looks_like_tlv", "tlv_lines"]

# ISO 7816-4 allows 00 and FF before, between and after data objects; EMV
# pads records with 00.
_PADDING = (0x00, 0xFF)
_MAX_TAG_BYTES = 4
_MAX_LENGTH_BYTES = 4


@dataclass(frozen=True)
class TlvNode:
    """One data object. `offset` is where its tag starts, absolute in the buffer
    the caller described; `value` is the whole value even when decoding its
    children stopped at an error, so a view can still show the bytes."""

    tag: int
    tag_bytes: bytes
    length: int
    value: bytes
    offset: int
    header_length: int
    children: tuple[TlvNode, ...]
    constructed: bool

    @property
    def end(self) -> int:
        return self.offset + self.header_length + self.length

    @property
    def tag_hex(self) -> str:
        return self.tag_bytes.hex().upper()

    @property
    def name(self) -> str:
        return TAG_NAMES.get(self.tag, "")


@dataclass(frozen=True)
class TlvError:
    message: str
    offset: int


@dataclass(frozen=True)
class TlvResult:
    nodes: tuple[TlvNode, ...]
    error: TlvError | None


@dataclass
class _Open:
    """A constructed object whose children are being read. The root is one
    too (no tag), so the top level and a template's value share one loop."""

    tag_bytes: bytes
    start: int  # index of the tag in `data`
    header_length: int
    end: int  # index just past the value
    pos: int  # next index to read
    children: list[TlvNode] = field(default_factory=list)


class _Stop(Exception):
    """The first error; internal only, caught in decode_tlv."""

    def __init__(self, message: str, at: int) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


def _end_text(frame: _Open) -> str:
    # Inside a template the limit is the template's value, not the data.
    return "the end" if not frame.tag_bytes else f"the end of {frame.tag_bytes.hex().upper()}"


def _bytes(count: int) -> str:
    return f"{count} byte" if count == 1 else f"{count} bytes"


def _read_tag(data: bytes, pos: int, frame: _Open, base: int) -> bytes:
    start = pos
    pos += 1
    if data[start] & 0x1F == 0x1F:
        while True:
            if pos >= frame.end:
                raise _Stop(f"tag at offset {base + start} is cut short by {_end_text(frame)}", start)
            pos += 1
            if not data[pos - 1] & 0x80:
                break
            if pos - start >= _MAX_TAG_BYTES:
                raise _Stop(f"tag at offset {base + start} is longer than {_MAX_TAG_BYTES} bytes", start)
    return data[start:pos]


def _read_length(data: bytes, pos: int, frame: _Open, base: int) -> tuple[int, int]:
    """(length, bytes the length field takes)."""
    where = f"at offset {base + pos}"
    if pos >= frame.end:
        raise _Stop(f"length {where} is cut short by {_end_text(frame)}", pos)
    first = data[pos]
    if first < 0x80:
        return first, 1
    if first == 0x80:
        # BER allows it, but ISO 7816 data objects always use definite lengths
        # and an end-of-contents search would make every offset a guess.
        raise _Stop(f"indefinite length (0x80) {where} is not supported", pos)
    count = first & 0x7F
    if count > _MAX_LENGTH_BYTES:
        raise _Stop(f"length byte 0x{first:02X} {where} is invalid: at most {_MAX_LENGTH_BYTES} "
                    f"length bytes (0x81..0x84)", pos)
    left = frame.end - pos - 1
    if left < count:
        raise _Stop(f"length {where} is cut short by {_end_text(frame)}: 0x{first:02X} needs "
                    f"{_bytes(count)} more, {left} left", pos)
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), 1 + count


def _close(frame: _Open, data: bytes, base: int) -> TlvNode:
    value_start = frame.start + frame.header_length
    return TlvNode(int.from_bytes(frame.tag_bytes, "big"), frame.tag_bytes, frame.end - value_start,
                   data[value_start : frame.end], base + frame.start, frame.header_length,
                   tuple(frame.children), True)


def _step(data: bytes, stack: list[_Open], base: int, max_depth: int) -> None:
    """Read the next object of the innermost open frame, or close that frame."""
    frame = stack[-1]
    pos = frame.pos
    while pos < frame.end and data[pos] in _PADDING:
        pos += 1
    frame.pos = pos
    if pos >= frame.end:
        if len(stack) > 1:
            stack.pop()
            stack[-1].children.append(_close(frame, data, base))
        return
    # The root frame does not count: top-level objects are at depth 1.
    if len(stack) > max_depth:
        raise _Stop(f"object at offset {base + pos} is nested deeper than {max_depth} levels", pos)
    tag_bytes = _read_tag(data, pos, frame, base)
    length_at = pos + len(tag_bytes)
    length, length_size = _read_length(data, length_at, frame, base)
    value_start = length_at + length_size
    left = frame.end - value_start
    if length > left:
        raise _Stop(f"length 0x{length:02X} at offset {base + length_at} runs past {_end_text(frame)}: "
                    f"{_bytes(left)} left", length_at)
    header_length = value_start - pos
    frame.pos = value_start + length
    if tag_bytes[0] & 0x20:
        stack.append(_Open(tag_bytes, pos, header_length, frame.pos, value_start))
    else:
        frame.children.append(TlvNode(int.from_bytes(tag_bytes, "big"), tag_bytes, length,
                                      data[value_start : frame.pos], base + pos, header_length, (), False))


def decode_tlv(data: bytes, *, offset: int = 0, max_depth: int = 16) -> TlvResult:
    """Decode a sequence of BER-TLV objects. `offset` is where `data` starts in a
    larger buffer: every offset in the result, and in error messages, is
    shifted by it. Objects nested more than `max_depth` levels are an error.
    On error the result keeps every object read so far, and each template
    the error is inside, with the children read before it."""
    data = bytes(data)
    root = _Open(b"", 0, 0, len(data), 0)
    stack = [root]
    error: TlvError | None = None
    try:
        while len(stack) > 1 or root.pos < root.end:
            _step(data, stack, offset, max_depth)
    except _Stop as stop:
        error = TlvError(stop.message, offset + stop.at)
        while len(stack) > 1:
            frame = stack.pop()
            stack[-1].children.append(_close(frame, data, offset))
    return TlvResult(tuple(root.children), error)


def looks_like_tlv(data: bytes) -> bool:
    """Whether response data is worth showing as a tree: it decodes without
    error, covers every byte, starts with a real tag, and says something.
    "90 00" is a valid empty object, so a two-byte result with no value is
    taken for what it almost always is in a trace: a status word."""
    if not data or data[0] in _PADDING:
        return False
    result = decode_tlv(data)
    if result.error is not None or not result.nodes:
        return False
    # Without an error the decoder has consumed everything, padding included.
    return any(node.length for node in result.nodes)


def _printable(value: bytes) -> bool:
    return len(value) >= 3 and all(0x20 <= b < 0x7F for b in value)


def _line(node: TlvNode, depth: int) -> str:
    name = f" ({node.name})" if node.name else ""
    text = f"{'  ' * depth}{node.tag_hex}{name} {node.length:02X}"
    if node.constructed or not node.value:
        return text
    text += f": {to_hex(node.value)}"
    if _printable(node.value):
        text += f' "{node.value.decode("ascii")}"'
    return text


def tlv_lines(result: TlvResult) -> list[str]:
    """Indented text: one line per object, "tag (name) length[: value]", the
    length in hex like the bytes it came from; the error, if any, last."""
    lines: list[str] = []
    todo = [(node, 0) for node in reversed(result.nodes)]
    while todo:
        node, depth = todo.pop()
        lines.append(_line(node, depth))
        todo.extend((child, depth + 1) for child in reversed(node.children))
    if result.error is not None:
        lines.append(f"error at offset {result.error.offset}: {result.error.message}")
    return lines
