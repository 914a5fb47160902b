"""The PC/SC backend of a connection: a context and a card handle, on the connection's worker.

`PcscConnection(reader)` is a CardConnection (explorer.link.connection) whose
Link makes the SCard calls. The link's state (context, handle) belongs to the
worker thread that calls it; the context is established on first connect, so
that it is owned by that thread, as pcsc-lite wants.
"""

from __future__ import annotations

from collections.abc import Callable

from smartcard import scard

from explorer.core import card_errors as ce
from explorer.core.exchange import Exchange, LinkEvent
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.link.connection import CardConnection
from explorer.pcsc import context
from explorer.pcsc.diagnosis import diagnose
from explorer.pcsc.errors import card_error

_PROTOCOL = {
    Protocol.T0: scard.SCARD_PROTOCOL_T0,
    Protocol.T1: scard.SCARD_PROTOCOL_T1,
    Protocol.ANY: scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
    Protocol.RAW: scard.SCARD_PROTOCOL_RAW,
    Protocol.UNDEFINED: 0,
}
_ACTIVE = {scard.SCARD_PROTOCOL_T0: Protocol.T0, scard.SCARD_PROTOCOL_T1: Protocol.T1,
           scard.SCARD_PROTOCOL_RAW: Protocol.RAW}
_SHARE = {ShareMode.SHARED: scard.SCARD_SHARE_SHARED, ShareMode.EXCLUSIVE: scard.SCARD_SHARE_EXCLUSIVE,
          ShareMode.DIRECT: scard.SCARD_SHARE_DIRECT}
_DISPOSITION = {Disposition.LEAVE: scard.SCARD_LEAVE_CARD, Disposition.RESET: scard.SCARD_RESET_CARD,
                Disposition.UNPOWER: scard.SCARD_UNPOWER_CARD, Disposition.EJECT: scard.SCARD_EJECT_CARD}
#: What a disconnect tells the trace when it resets a card it was asked to leave.
RAW_RESET = "reset instead: a raw-protocol connection fixes the card's protocol until the card is reset"


def ctl_code(function: int) -> int:
    """The platform's control code for a reader function number (SCARD_CTL_CODE)."""
    return int(scard.SCARD_CTL_CODE(function))


class PcscLink:
    """SCard calls for one reader. Thread rules: only the owning connection's worker calls it."""

    embedded = False

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self._ctx: int | None = None
        self._card: int | None = None
        self._active = 0  # the protocol pcscd gave the handle (SCARD_PROTOCOL_*)

    def _check(self, hresult: int, action: str) -> None:
        if hresult != scard.SCARD_S_SUCCESS:
            raise self._failed(hresult, action)

    def _failed(self, hresult: int, action: str, answered: int | None = None) -> ce.CardError:
        error = diagnose(hresult, reader=self.reader, action=action, ctx=self._ctx, card=self._card,
                         answered=answered)
        return self._forget_if_gone(error)

    def _forget_if_gone(self, error: ce.CardError) -> ce.CardError:
        """`error`, after dropping the handle when it means the card or the service is gone."""
        if isinstance(error, ce.ServiceGone | ce.CardRemoved | ce.NoCard):
            self._card = None
        return error

    def _need_card(self) -> int:
        if self._card is None:
            raise ce.NotConnected(self.reader)
        return self._card

    def connect(self, protocol: Protocol, share: ShareMode) -> tuple[Protocol, bytes]:
        if self._ctx is None:
            try:
                self._ctx = context.establish()
            except context.ServiceUnavailable as exc:
                raise card_error(exc.hresult, self.reader, "connect") from None
        wanted = _PROTOCOL[protocol]
        if share is ShareMode.DIRECT and protocol is Protocol.ANY:
            wanted = 0  # direct to a reader: no card protocol to negotiate
        hresult, card, active = scard.SCardConnect(self._ctx, self.reader, _SHARE[share], wanted)
        if hresult == scard.SCARD_E_PROTO_MISMATCH and protocol is not Protocol.RAW:
            raise self._protocol_held(protocol)
        self._check(hresult, "connect")
        self._card, self._active = card, active
        return _ACTIVE.get(active, Protocol.UNDEFINED), self._read_atr()

    def _protocol_held(self, protocol: Protocol) -> ce.ProtocolMismatch:
        """A protocol mismatch, said as what it is.

        pcsc-lite fixes a card's protocol at its first connection until the card
        is reset, and a raw connection fixes raw: a card whose ATR offers the
        protocol gets a mismatch all the same, and needs a reset, not another card.
        """
        from explorer.core.atr import decode_atr

        assert self._ctx is not None
        detail = f"connect: {context.describe(scard.SCARD_E_PROTO_MISMATCH)}"
        hresult, states = scard.SCardGetStatusChange(self._ctx, 0, [(self.reader, scard.SCARD_STATE_UNAWARE)])
        atr = bytes(states[0][2]) if hresult == scard.SCARD_S_SUCCESS else b""
        offered = {f"T={t}" for t in decode_atr(atr).protocols if t in (0, 1)} if atr else set()
        both = offered & ({"T=0", "T=1"} if protocol is Protocol.ANY else {protocol.value})
        if not both:
            its = f" (its ATR offers {' and '.join(sorted(offered))})" if offered else ""
            return ce.ProtocolMismatch(self.reader, detail, f"the card does not offer {protocol.value}{its}")
        return ce.ProtocolMismatch(self.reader, detail, (
            f"the card offers {' and '.join(sorted(both))} but an earlier connection fixed its protocol "
            "(raw does, until the card is reset): reset the card (connect with raw, disconnect with reset) "
            "or remove and reinsert it"))

    def _read_atr(self) -> bytes:
        hresult, _, _, _, atr = scard.SCardStatus(self._need_card())
        return bytes(atr) if hresult == scard.SCARD_S_SUCCESS else b""

    def disconnect(self, disposition: Disposition) -> str | None:
        if self._card is None:
            return None
        instead = None
        if disposition is Disposition.LEAVE and self._active == scard.SCARD_PROTOCOL_RAW:
            # Left in raw, the card would refuse every later T=0/T=1 connection, whoever makes it,
            # until someone resets it or it is reinserted.
            disposition, instead = Disposition.RESET, RAW_RESET
        card, self._card = self._card, None
        hresult = scard.SCardDisconnect(card, _DISPOSITION[disposition])
        # The handle is gone either way; a dead service or card only matters for the record.
        if hresult not in (scard.SCARD_S_SUCCESS, scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD):
            raise self._forget_if_gone(card_error(hresult, self.reader, "disconnect"))
        return instead

    def reconnect(self, cold: bool, protocol: Protocol, share: ShareMode) -> tuple[Protocol, bytes]:
        init = scard.SCARD_UNPOWER_CARD if cold else scard.SCARD_RESET_CARD
        hresult, active = scard.SCardReconnect(self._need_card(), _SHARE[share], _PROTOCOL[protocol], init)
        self._check(hresult, "reconnect")
        self._active = active
        return _ACTIVE.get(active, Protocol.UNDEFINED), self._read_atr()

    def begin_transaction(self) -> None:
        self._check(scard.SCardBeginTransaction(self._need_card()), "begin transaction")

    def end_transaction(self, disposition: Disposition) -> None:
        self._check(scard.SCardEndTransaction(self._need_card(), _DISPOSITION[disposition]),
                    "end transaction")

    def control(self, code: int, data: bytes) -> bytes:
        hresult, response = scard.SCardControl(self._need_card(), code, list(data))
        self._check(hresult, f"control code 0x{code:08X}")
        return bytes(response)

    def get_attribute(self, attribute: int) -> bytes:
        hresult, value = scard.SCardGetAttrib(self._need_card(), attribute)
        self._check(hresult, f"get attribute 0x{attribute:08X}")
        return bytes(value)

    def transmit(self, apdu: bytes, protocol: Protocol | None) -> bytes:
        proto = _PROTOCOL[protocol] if protocol in (Protocol.T0, Protocol.T1, Protocol.RAW) \
            else scard.SCARD_PROTOCOL_T1
        hresult, response = scard.SCardTransmit(self._need_card(), proto, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS or len(response) < 2:
            # vpcd (and some drivers) answer a card pulled mid-command with success and nothing.
            raise self._failed(hresult, "transmit", answered=len(response))
        return bytes(response)

    def release(self) -> None:
        self._card = None
        if self._ctx is not None:
            context.release(self._ctx)
            self._ctx = None


class PcscConnection(CardConnection):
    """A CardConnection to a PC/SC reader (see explorer.link.connection for the thread rules)."""

    def __init__(self, reader: str, sink: Callable[[Exchange | LinkEvent], None] | None = None,
                 on_change: Callable[[], None] | None = None, *, inline: bool = False) -> None:
        super().__init__(reader, PcscLink(reader), sink, on_change, inline=inline)
