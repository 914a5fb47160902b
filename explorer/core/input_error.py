"""The one error for input a user handed in (a trace, a card profile): its text is
the whole message, ready to show, naming the file and the place in it."""

from __future__ import annotations

from typing import TypeVar

from explorer.core.printable import printable

E = TypeVar("E", bound="InputError")


class InputError(ValueError):
    """Input that cannot be used. `source` is the file, `line` its 1-based line for
    a format by lines (0 otherwise), `where` the JSON path of the value at fault
    ("files.children[0]", empty for the top level), `problem` what is wrong."""

    def __init__(self, problem: str, where: str = "", source: str = "", line: int = 0) -> None:
        self.problem = problem
        self.where = where
        self.source = printable(source)
        self.line = line
        place = " ".join(part for part in (self.source, f"line {line}" if line else "") if part)
        super().__init__(": ".join(part for part in (place, where, problem) if part))

    def recast(self, cls: type[E], source: str | None = None, line: int | None = None) -> E:
        """The same error as `cls` (a subclass callers catch), placed in `source` at `line`."""
        return cls(self.problem, where=self.where, source=self.source if source is None else source,
                   line=self.line if line is None else line)
