"""Which records a trace view shows: by reader, origin, status-word class and
free text or hex (explorer.trace.search), with automatic steps folded into
the command they were sent for or not.

Built for a million records: the filter compiles to one test per store
index, a status word's class is looked up once per distinct word, and
`rows` runs off the GUI thread, asking `cancelled` now and then so that a
search overtaken by the next keystroke stops early. A folded command is
judged by where its chain ended (explorer.trace.steps): "Failures" keeps a
SELECT whose GET RESPONSE failed, and drops one answered 61 1C then 90 00.
"""

from __future__ import annotations

import enum
import functools
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from explorer.core.status_words import Severity, explain
from explorer.trace.records import Kind, Records, TraceRecord
from explorer.trace.search import text_test
from explorer.trace.steps import outcome


class SwClass(enum.Enum):
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"  # an error status word, or no answer at all (the record's error)
    EVENT = "event"  # not an exchange


_BY_SEVERITY = {Severity.SUCCESS: SwClass.SUCCESS, Severity.WARNING: SwClass.WARNING,
                Severity.ERROR: SwClass.ERROR}
_CHECK_EVERY = 4096  # records between two looks at `cancelled`


@functools.lru_cache(maxsize=65536)
def _sw_class(sw: int) -> SwClass:
    return _BY_SEVERITY[explain(sw).severity]


def sw_class(r: TraceRecord) -> SwClass:
    if r.kind is Kind.EVENT:
        return SwClass.EVENT
    sw = r.sw
    return SwClass.ERROR if sw is None else _sw_class(sw)


class Cancelled(Exception):
    """`rows` stopped because its result was no longer wanted."""


@dataclass(frozen=True)
class TraceFilter:
    readers: frozenset[str] | None = None  # None: every reader
    origins: frozenset[str] | None = None
    classes: frozenset[SwClass] | None = None
    text: str = ""
    fold: bool = False  # automatic steps hidden, their command showing the outcome
    reveal: bool = False  # secret bytes are shown, so the search may find them

    @property
    def active(self) -> bool:
        """Whether some record may be left out (by choice or by text)."""
        chosen = (self.readers, self.origins, self.classes)
        return any(x is not None for x in chosen) or bool(self.text.strip())

    @property
    def narrows(self) -> bool:
        """Whether the rows are anything but every record in order."""
        return self.active or self.fold

    def keeps(self, records: Records) -> Callable[[int], bool]:
        """A test for the record at a store index."""
        readers, origins, classes, fold = self.readers, self.origins, self.classes, self.fold
        text = text_test(self.text, self.reveal)

        def keep(i: int) -> bool:
            r = records[i]
            if fold and r.parent is not None:
                return False
            if readers is not None and r.reader not in readers:
                return False
            if origins is not None and r.origin not in origins:
                return False
            if classes is None and text is None:
                return True
            if fold and r.kind is Kind.EXCHANGE:
                _, final, response = outcome(records, i)
            else:
                final, response = r, r.response
            if classes is not None and sw_class(final) not in classes:
                return False
            return text is None or text(r, final, response)

        return keep

    def rows(self, records: Records, start: int, stop: int,
             cancelled: Callable[[], bool] = lambda: False) -> Sequence[int]:
        """The store indexes in [start, stop) that the view shows, in order:
        a range when that is all of them. Raises Cancelled when `cancelled`
        says so."""
        if not self.narrows:
            return range(start, stop)
        keep = self.keeps(records)
        text = text_test(self.text, self.reveal)
        chosen = (self.readers, self.origins, self.classes)
        only_text = text is not None and not self.fold and chosen == (None, None, None)
        shown = array("q")
        add = shown.append
        for chunk in range(start, stop, _CHECK_EVERY):
            if cancelled():
                raise Cancelled
            if only_text:
                assert text is not None
                for i in range(chunk, min(stop, chunk + _CHECK_EVERY)):  # the usual search, one call a record
                    r = records[i]
                    if text(r, r, r.response):
                        add(i)
                continue
            for i in range(chunk, min(stop, chunk + _CHECK_EVERY)):
                if keep(i):
                    add(i)
        return shown


def matching_rows(records: Sequence[TraceRecord], f: TraceFilter) -> list[int]:
    """Indexes of the records the filter keeps, in order."""
    return list(f.rows(records, 0, len(records)))
