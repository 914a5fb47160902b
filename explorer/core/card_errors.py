"""What can go wrong talking to a card, as named exceptions with a human sentence.

Pure: `explorer.pcsc.errors` maps PC/SC result codes onto these, and any other
backend (the embedded virtual reader) raises the same ones, so the UI and the
scripts catch one family. `str(error)` is the sentence a user reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.core.exchange import Exchange, Reply


class CardError(Exception):
    """Base: `reader` names where, `detail` is the low-level code and text (may be empty).

    `exchanges` holds what did cross the wire before the failure (a GET RESPONSE
    chain broken half way), so nothing is lost from the trace.
    """

    sentence = "the card operation failed"

    def __init__(self, reader: str = "", detail: str = "", sentence: str | None = None) -> None:
        self.reader = reader
        self.detail = detail
        if sentence is not None:
            self.sentence = sentence
        self.exchanges: tuple[Exchange, ...] = ()
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.reader}: " if self.reader else ""
        return f"{where}{self.sentence}"

    def __str__(self) -> str:
        return self.message


class SharingViolation(CardError):
    sentence = "another application holds this card exclusively (or has it open while exclusive was asked)"


class NoCard(CardError):
    sentence = "there is no card in the reader"


class CardRemoved(CardError):
    sentence = "the card was removed"


class CardReset(CardError):
    sentence = "the card was reset by another application; reconnect to go on"


class ProtocolMismatch(CardError):
    sentence = "the card does not offer the requested protocol"


class ServiceGone(CardError):
    sentence = "the PC/SC service stopped or is not running"


class UnknownReader(CardError):
    sentence = "no reader by this name"


class NotConnected(CardError):
    sentence = "not connected to the card"


class NotSupported(CardError):
    sentence = "the reader or its driver does not support this operation"


class UnresponsiveCard(CardError):
    sentence = "the card did not answer"


class Timeout(CardError):
    sentence = "the operation timed out"


class Cancelled(CardError):
    sentence = "cancelled"


class StepLimit(CardError):
    """The card still asked for another automatic step (61xx, 6Cxx) at the limit: the answer is cut short.

    A failure, not a reply: data that looks complete but is not must not pass
    for a success. `exchanges` holds every step sent; `reply` the data joined
    so far and the last status word.
    """

    sentence = "stopped following the card's automatic steps at the limit: the response is incomplete"

    def __init__(self, reader: str = "", detail: str = "", sentence: str | None = None,
                 reply: Reply | None = None) -> None:
        super().__init__(reader, detail, sentence)
        self.reply = reply


class SecureMessagingFailed(CardError):
    """The card's protected answer did not check out (wrong MAC, a data object missing or
    malformed), or the card answered in plain: the secure channel is over, nothing of the
    answer is used. `detail` says which."""

    sentence = "secure messaging failed: the answer is not used and the secure channel is closed"


class InvalidCommand(CardError):
    """Refused before anything was sent: the message says what and where."""

    sentence = "the command is not a valid APDU"
