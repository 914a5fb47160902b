"""The session an analyzer reads a card through: a transmit callable (the link's, with its
automatic GET RESPONSE / 6Cxx steps), every reply kept so findings can point at their bytes,
progress, cancel, and the user's permission for commands that change the card.

Thread rules: an analysis runs on one thread (the reader's worker, or the CLI's); `cancel` may be
called from any other, and takes effect at the next command.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from explorer.core.card_errors import CardError
from explorer.core.exchange import Reply

Transmit = Callable[[bytes], Reply]


class Cancelled(Exception):
    """The user cancelled the analysis: what was found so far stands."""


class NotAllowed(Exception):
    """A command that changes the card (EMV GET PROCESSING OPTIONS: the ATC goes up; VERIFY: a
    try is spent) was not allowed for this run."""


@dataclass(frozen=True)
class Answer:
    """One command's answer: `index` in the session's replies (a Finding's Source.exchange)."""

    index: int
    reply: Reply

    @property
    def data(self) -> bytes:
        return self.reply.data

    @property
    def sw(self) -> int:
        return self.reply.sw

    @property
    def ok(self) -> bool:
        return self.reply.sw == 0x9000


@dataclass
class AnalysisSession:
    transmit: Transmit
    allow_changes: bool = False
    progress: Callable[[str, float], None] = lambda what, done: None
    replies: list[Reply] = field(default_factory=list)
    # The last card error a command raised: an analyzer may catch it to keep what it read, and the
    # analysis still learns that the card or the service went away (and stops).
    failure: CardError | None = None
    _cancelled: threading.Event = field(default_factory=threading.Event)

    def send(self, apdu: bytes, *, changes_card: bool = False) -> Answer:
        """One command; its answer kept. CardError when the card or reader fails; Cancelled once
        the user cancelled; NotAllowed for a command that changes the card when not allowed."""
        if self._cancelled.is_set():
            raise Cancelled
        if changes_card and not self.allow_changes:
            raise NotAllowed(apdu.hex(" ").upper())
        try:
            reply = self.transmit(apdu)
        except CardError as exc:
            self.failure = exc
            raise
        self.replies.append(reply)
        return Answer(len(self.replies) - 1, reply)

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


__all__ = ["AnalysisSession", "Answer", "Cancelled", "CardError", "NotAllowed", "Transmit"]
