"""Why a call on a card failed: the service went, the card went, or the call itself failed.

One result code does not say which. Measured on pcsc-lite 1.9.9 with vpcd:
pcscd killed during a stream of SCardTransmit calls makes the pending call
return SCARD_W_SECURITY_VIOLATION ("Access denied"), SCARD_F_COMM_ERROR or
SCARD_E_NO_SERVICE (2-3, 4 and 1-2 of 8 kills); a card pulled during one
returns SCARD_E_NOT_TRANSACTED ("Transaction failed") or success with no
bytes (about half each), and pcscd still shows the card present until its
next poll of the driver (~400 ms). So a failure is named only after asking
the service and the reader.
"""

from __future__ import annotations

import time

from smartcard import scard

from explorer.core import card_errors as ce
from explorer.pcsc import context
from explorer.pcsc.context import SERVICE_GONE, describe
from explorer.pcsc.errors import card_error

#: How long to wait for pcscd to notice a removal (it polls the vpcd driver every ~400 ms).
REMOVAL_GRACE = 0.9
#: Failures of the exchange with the card itself, which a card leaving mid-command also gives.
_CARD_LINK = frozenset({
    scard.SCARD_S_SUCCESS,  # with fewer than two bytes: vpcd answers a pulled card's command so
    scard.SCARD_E_NOT_TRANSACTED,
    scard.SCARD_E_COMM_DATA_LOST,
    scard.SCARD_F_COMM_ERROR,
    scard.SCARD_F_UNKNOWN_ERROR,
    scard.SCARD_W_UNRESPONSIVE_CARD,
    scard.SCARD_W_UNPOWERED_CARD,
})
_GONE_STATES = scard.SCARD_STATE_EMPTY | scard.SCARD_STATE_UNAVAILABLE | scard.SCARD_STATE_UNKNOWN
#: SCardStatus's card state (pcsc-lite: the low bits; the high ones count events).
_ABSENT = 0x0002

WENT_AWAY = "the PC/SC service went away (pcscd stopped or crashed)"
RESTARTED = "the PC/SC service restarted, which ended this connection: connect again"


def diagnose(hresult: int, *, reader: str, action: str, ctx: int | None, card: int | None,
             answered: int | None = None) -> ce.CardError:
    """The named error for a failed call on `card` (or a connect, with `card` None).

    `answered` is given for a transmit: the length of the response (a success
    with fewer than two bytes is a failure too). Only a transmit talks to the
    card, so only its failures wait for pcscd to notice a removal. `ctx` and
    `card` are the caller's; the check runs on the caller's thread, like every
    call on them.
    """
    if hresult == scard.SCARD_S_SUCCESS:
        first: ce.CardError = ce.UnresponsiveCard(
            reader, f"{action}: {answered or 0} byte(s), no status word",
            sentence=f"the card answered {answered or 0} byte(s), not even a status word")
    elif answered is not None and hresult == scard.SCARD_E_PROTO_MISMATCH:
        # This handle's protocol was fine when it connected: another connection changed the card's.
        first = ce.ProtocolMismatch(reader, f"{action}: {describe(hresult)}", sentence=(
            "another connection switched the card to another protocol (a raw connection does): "
            "reconnect with a reset to go on"))
    else:
        first = card_error(hresult, reader, action)
    if isinstance(first, ce.CardRemoved | ce.NoCard):
        return first  # pcscd says so itself
    probe, absent = _probe(ctx, card)
    if probe in SERVICE_GONE:
        return _service_gone(reader, f"{first.detail}; then {describe(probe)}")
    if probe in (scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD) or absent:
        return ce.CardRemoved(reader, f"{first.detail}; and the card is gone")
    if isinstance(first, ce.ServiceGone):
        # The code says the service is gone, but it has just answered on this very context.
        first = ce.CardError(reader, first.detail,
                             sentence=f"{action} failed ({scard.SCardGetErrorMessage(hresult).strip()})")
    if answered is not None and card is not None and ctx is not None and (hresult & 0xFFFFFFFF) in _CARD_LINK:
        gone = _card_leaves(ctx, reader, REMOVAL_GRACE)
        if gone is None:
            return _service_gone(reader, first.detail)
        if gone:
            return ce.CardRemoved(reader, f"{first.detail}; and the card is gone")
    return first


def _service_gone(reader: str, detail: str) -> ce.ServiceGone:
    """Our line to pcscd is dead; a new context tells a dead daemon from a restarted one."""
    return ce.ServiceGone(reader, detail, sentence=RESTARTED if context.service_answers() else WENT_AWAY)


def _probe(ctx: int | None, card: int | None) -> tuple[int, bool]:
    """(result of a call that needs pcscd, whether it shows the card absent)."""
    if card is not None:
        hresult, _, state, _, _ = scard.SCardStatus(card)
        return hresult & 0xFFFFFFFF, hresult == scard.SCARD_S_SUCCESS and bool(state & _ABSENT)
    if ctx is not None:
        hresult, _ = scard.SCardListReaders(ctx, [])
        return hresult & 0xFFFFFFFF, False
    return scard.SCARD_S_SUCCESS, False


def _card_leaves(ctx: int, reader: str, grace: float) -> bool | None:
    """Whether the reader shows its card gone within `grace` seconds; None if pcscd went away."""
    deadline = time.monotonic() + grace
    known = scard.SCARD_STATE_UNAWARE
    while True:
        wait = 0 if known == scard.SCARD_STATE_UNAWARE else max(0, int((deadline - time.monotonic()) * 1000))
        hresult, states = scard.SCardGetStatusChange(ctx, wait, [(reader, known)])
        if hresult in SERVICE_GONE:
            return None
        if hresult != scard.SCARD_S_SUCCESS:
            return False  # a timeout: the card stayed
        known = states[0][1] & ~scard.SCARD_STATE_CHANGED
        if known & _GONE_STATES or not known & scard.SCARD_STATE_PRESENT:
            return True
        if time.monotonic() >= deadline:
            return False
