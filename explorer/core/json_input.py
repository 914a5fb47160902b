"""JSON from files a user picks, decoded strictly and checked by type with the
JSON path of what is wrong.

Shared by the trace reader (JSON Lines, `explorer.core.json_lines`) and card
profiles (one document); the files themselves are read by
`explorer.core.input_files`. What is refused here, and how:

- NaN, Infinity and -Infinity (not JSON, but Python's json takes them) and
  integers of more than MAX_INT_DIGITS digits: decoded as `Refused` values,
  which every type check refuses, so the message names the field.
- Nesting deeper than json can decode (its RecursionError), or than a
  caller's limit (`check_tree`).
- Strings holding a lone surrogate (JSON's "\\ud800" escape): no UTF-8 file,
  export or label can hold one.

Every error is an `InputError` (explorer.core.input_error); the callers place
it in their file and line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from explorer.core.input_error import InputError

MAX_INT_DIGITS = 40
#: Arrays and objects inside each other: far beyond any format here, far below json's own limit.
MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Refused:
    """A JSON number this program does not hold: `text` says what it was."""

    text: str
    why: str


def _integer(digits: str) -> int | Refused:
    if len(digits) > MAX_INT_DIGITS:
        return Refused(f"a number with {len(digits.lstrip('-'))} digits", f"at most {MAX_INT_DIGITS}")
    return int(digits)


def _constant(name: str) -> Refused:
    return Refused(name, "JSON has no NaN or Infinity")


_DECODER = json.JSONDecoder(parse_int=_integer, parse_constant=_constant)


def loads(text: str, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
          one_line: bool = False) -> Any:
    """Decoded JSON, numbers refused as `Refused` values; raises InputError for text that is not JSON
    (with its line and column; the column alone for `one_line`, a line the caller numbers) or is
    nested deeper than json can decode."""
    decoder = _DECODER if object_pairs_hook is None else json.JSONDecoder(
        parse_int=_integer, parse_constant=_constant, object_pairs_hook=object_pairs_hook)
    try:
        return decoder.decode(text)
    except json.JSONDecodeError as exc:
        at = f"column {exc.colno}" if one_line else f"line {exc.lineno}, column {exc.colno}"
        raise InputError(f"not valid JSON: {at}: {exc.msg}") from None
    except RecursionError:
        raise InputError("arrays or objects nested too deep to read") from None


# -- what a value is, for messages ----------------------------------------------------


def quoted(text: str, limit: int = 40) -> str:
    """A string as a message quotes it: repr (so controls and surrogates show escaped), cut short."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def describe(value: Any) -> str:
    """What a JSON value is, for "found ..." in a message; never long."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Refused):
        return value.text
    if isinstance(value, int):
        return f"the number {value}" if abs(value) < 10 ** MAX_INT_DIGITS else "a number too long to show"
    if isinstance(value, float):
        if math.isfinite(value):
            return f"the number {value!r}"
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, str):
        return f"the string {quoted(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def member(where: str, key: str | int) -> str:
    """The JSON path of `key` inside the value at `where`: a.b, a[3], a['odd key']."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    if key.isidentifier() and key.isascii():
        return f"{where}.{key}" if where else key
    return f"{where}[{quoted(key)}]"


# -- type checks --------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def must_be(name: str, expected: str, value: Any, where: str = "") -> InputError:
    return InputError(f"{name} must be {expected}, found {describe(value)}", where)


def lone_surrogate(value: str) -> int:
    """Where `value` holds a lone surrogate, or -1."""
    found = _SURROGATE.search(value)
    return -1 if found is None else found.start()


def _surrogate_error(name: str, value: str, at: int, where: str) -> InputError:
    return InputError(f"{name} holds a lone surrogate (U+{ord(value[at]):04X} at character {at + 1}), "
                      "which is not Unicode text", where)


def string(value: Any, name: str, where: str = "") -> str:
    if type(value) is not str:
        raise must_be(name, "a string", value, where)
    at = lone_surrogate(value)
    if at >= 0:
        raise _surrogate_error(name, value, at, where)
    return value


def whole(value: Any, name: str, where: str, low: int, high: int) -> int:
    # bool is an int in Python: `true` for a size is a mistake, not 1.
    if type(value) is not int or not low <= value <= high:
        raise must_be(name, f"a whole number from {low} to {high}", value, where)
    return value


def flag(value: Any, name: str, where: str = "") -> bool:
    if type(value) is not bool:
        raise must_be(name, "true or false", value, where)
    return value


def _check_leaf(item: Any, path: str) -> None:
    kind = type(item)
    if kind is str:
        at = lone_surrogate(item)
        if at >= 0:
            raise _surrogate_error("the string", item, at, path)
    elif kind is float:
        if not math.isfinite(item):
            raise InputError(f"{describe(item)} is not a number this program reads", path)
    elif kind is Refused:
        raise InputError(f"{item.text} is refused ({item.why})", path)


def check_tree(value: Any, where: str = "", max_depth: int = MAX_DEPTH) -> None:
    """Raise InputError at the JSON path of a value no check should meet: a refused number,
    a float that is not finite, a lone surrogate (in a key too), nesting deeper than
    `max_depth`. Iterative, so a deep tree cannot exhaust the stack here; a path is made
    only for arrays and objects, and for the value at fault."""
    if type(value) is not dict and type(value) is not list:
        _check_leaf(value, where)
        return
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth >= max_depth:
            raise InputError(f"nested deeper than {max_depth} levels", path)
        inner: list[tuple[Any, str, int]] = []
        for key, child in item.items() if type(item) is dict else enumerate(item):
            if type(key) is str and (at := lone_surrogate(key)) >= 0:
                raise _surrogate_error(f"the key {quoted(key)}", key, at, path)
            kind = type(child)
            if kind is dict or kind is list:
                inner.append((child, member(path, key), depth + 1))
            elif kind is not int and kind is not bool and child is not None:
                try:
                    _check_leaf(child, "")
                except InputError as exc:
                    raise InputError(exc.problem, member(path, key)) from None
        stack.extend(reversed(inner))  # document order
