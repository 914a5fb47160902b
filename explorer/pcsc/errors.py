"""PC/SC result codes as the named errors of `explorer.core.card_errors`."""

from __future__ import annotations

from smartcard import scard

from explorer.core import card_errors as ce
from explorer.pcsc.context import SERVICE_GONE, describe

_BY_CODE: dict[int, type[ce.CardError]] = {
    scard.SCARD_E_SHARING_VIOLATION: ce.SharingViolation,
    scard.SCARD_E_NO_SMARTCARD: ce.NoCard,
    scard.SCARD_W_REMOVED_CARD: ce.CardRemoved,
    scard.SCARD_W_RESET_CARD: ce.CardReset,
    scard.SCARD_E_PROTO_MISMATCH: ce.ProtocolMismatch,
    scard.SCARD_E_UNKNOWN_READER: ce.UnknownReader,
    scard.SCARD_E_READER_UNAVAILABLE: ce.UnknownReader,
    scard.SCARD_E_UNSUPPORTED_FEATURE: ce.NotSupported,
    scard.SCARD_W_UNRESPONSIVE_CARD: ce.UnresponsiveCard,
    scard.SCARD_W_UNPOWERED_CARD: ce.UnresponsiveCard,
    scard.SCARD_E_TIMEOUT: ce.Timeout,
    scard.SCARD_E_CANCELLED: ce.Cancelled,
    scard.SCARD_E_NOT_TRANSACTED: ce.CardError,
}
# pcsc-lite says 0x8010001F for "unsupported feature", Windows 0x80100022: accept both.
_BY_CODE[0x80100022] = ce.NotSupported

for _code in SERVICE_GONE - {scard.SCARD_E_INVALID_HANDLE}:
    _BY_CODE[_code] = ce.ServiceGone


def card_error(hresult: int, reader: str = "", action: str = "") -> ce.CardError:
    """The named error for `hresult`; `action` ("connect", "transmit"...) goes into the detail."""
    cls = _BY_CODE.get(hresult & 0xFFFFFFFF, ce.CardError)
    detail = describe(hresult)
    if action:
        detail = f"{action}: {detail}"
    if cls is ce.CardError:
        return ce.CardError(reader, detail, sentence=f"{action or 'the operation'} failed "
                                                     f"({scard.SCardGetErrorMessage(hresult).strip()})")
    return cls(reader, detail)
