"""The session an analyzer reads a card through: a transmit callable (the link's, with its
automatic GET RESPONSE / 6Cxx steps), every reply kept so findings can point at their bytes,
progress, cancel, the user's permission for commands that change the card, and a secure
channel once an analyzer opened one (BAC): from then on commands are protected on the wire and
the analyzer sees plain answers, until the channel ends.

Thread rules: an analysis runs on one thread (the reader's worker, or the CLI's); `cancel` may be
called from any other, and takes effect at the next command.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from explorer.core.card_errors import CardError, SecureMessagingFailed
from explorer.core.exchange import Reply
from explorer.core.processors import Channel

Transmit = Callable[[bytes], Reply]
#: One command through a secure channel (the link's SecureMessagingProcessor): the plain reply.
SecureTransmit = Callable[[bytes, Channel], Reply]


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
    secure_transmit: SecureTransmit | None = None
    _cancelled: threading.Event = field(default_factory=threading.Event)
    _channel: Channel | None = None

    def send(self, apdu: bytes, *, changes_card: bool = False) -> Answer:
        """One command; its answer kept. CardError when the card or reader fails; Cancelled once
        the user cancelled; NotAllowed for a command that changes the card when not allowed."""
        if self._cancelled.is_set():
            raise Cancelled
        if changes_card and not self.allow_changes:
            raise NotAllowed(apdu.hex(" ").upper())
        channel = self._channel
        try:
            if channel is None:
                reply = self.transmit(apdu)
            else:
                assert self.secure_transmit is not None  # secure() checked it
                reply = self.secure_transmit(apdu, channel)
        except SecureMessagingFailed:
            self._channel = None  # the card's side of the channel is gone too (9303-11 9.8.6)
            raise
        except CardError as exc:
            self.failure = exc
            raise
        self.replies.append(reply)
        return Answer(len(self.replies) - 1, reply)

    def secure(self, channel: Channel | None) -> None:
        """Commands from now on go through `channel` (None: plain again). NotImplementedError
        when this session's link cannot carry one (a transmit given without secure_transmit)."""
        if channel is not None and self.secure_transmit is None:
            raise NotImplementedError("this session cannot carry secure messaging")
        self._channel = channel

    @property
    def secured(self) -> bool:
        return self._channel is not None

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


__all__ = ["AnalysisSession", "Answer", "Cancelled", "CardError", "NotAllowed", "SecureTransmit", "Transmit"]
