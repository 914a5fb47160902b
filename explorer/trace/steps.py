"""A command and the automatic steps sent for it (GET RESPONSE after 61xx,
the re-send after 6Cxx, and the plain answer a secure-messaging command
carried): what the exchange came to in the end.

A folded trace row stands for the whole chain, so it must show where the
chain ended (the 90 00 after GET RESPONSE), not the 61 1C that started it.
Steps follow their command in the store, though another reader's records may
sit between: the scan stops at the next command of the same reader, and
looks no further than `REACH` records.
"""

from __future__ import annotations

from typing import NamedTuple

from explorer.trace.records import Kind, Records, TraceRecord

REACH = 64


class Outcome(NamedTuple):
    steps: int  # automatic steps that followed the command
    final: TraceRecord  # the last of them, or the command itself
    response: bytes  # the data of the command and of its steps joined, then the final SW

    @property
    def data(self) -> bytes:
        return self.response[:-2] if self.final.sw is not None else self.response


def alone(r: TraceRecord) -> Outcome:
    return Outcome(0, r, r.response)


def outcome(records: Records, index: int) -> Outcome:
    """Where the command at `records[index]` ended up."""
    r = records[index]
    if r.kind is not Kind.EXCHANGE or r.parent is not None:
        return alone(r)
    seq, reader = r.seq, r.reader
    steps: list[TraceRecord] = []
    end = min(len(records), index + 1 + REACH)
    for i in range(index + 1, end):
        nxt = records[i]
        if nxt.parent == seq:
            steps.append(nxt)
        elif nxt.parent is None and nxt.reader == reader:
            break
    if not steps:
        return alone(r)
    final = steps[-1]
    if final.unwrapped:  # a protected command comes to the plain answer it carried
        return Outcome(len(steps), final, final.response)
    data = b"".join(x.data for x in (r, *steps))
    sw = final.response[-2:] if final.sw is not None else b""
    return Outcome(len(steps), final, data + sw)
