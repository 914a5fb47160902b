"""PC/SC contexts and the result codes that mean the service is gone.

One context per thread (pcsc-lite contexts are not shared across threads,
except for SCardCancel, which is meant to be called from another thread).
"""

from __future__ import annotations

from smartcard import scard

#: Result codes after which this context is useless: the daemon died or went away.
SERVICE_GONE = frozenset(
    {
        scard.SCARD_F_COMM_ERROR,
        scard.SCARD_E_NO_SERVICE,
        scard.SCARD_E_SERVICE_STOPPED,
        scard.SCARD_E_INVALID_HANDLE,
    }
)


class ServiceUnavailable(Exception):
    """The PC/SC service (pcscd) does not answer."""

    def __init__(self, hresult: int) -> None:
        self.hresult = hresult
        super().__init__(f"PC/SC service not available: {describe(hresult)}")


def describe(hresult: int) -> str:
    """Name and text of a PC/SC result code, e.g. 'SCARD_E_NO_SERVICE (0x8010001D): ...'."""
    text = scard.SCardGetErrorMessage(hresult).strip().rstrip(".")
    name = next(
        (k for k, v in vars(scard).items() if k.startswith(("SCARD_E_", "SCARD_F_", "SCARD_W_"))
         and v == hresult),
        "PC/SC error",
    )
    return f"{name} (0x{hresult & 0xFFFFFFFF:08X}): {text}"


def establish() -> int:
    """A new context, or ServiceUnavailable."""
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise ServiceUnavailable(hresult)
    return int(ctx)


def release(ctx: int) -> None:
    scard.SCardReleaseContext(ctx)


def list_readers(ctx: int) -> list[str]:
    hresult, readers = scard.SCardListReaders(ctx, [])
    if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
        return []
    if hresult != scard.SCARD_S_SUCCESS:
        raise ServiceUnavailable(hresult)
    return list(readers)


def service_answers() -> bool:
    """Whether pcscd answers a new context now.

    An old context cannot tell: SCardIsValidContext on it still says yes after
    pcscd died. A new one has to reach the daemon and get the reader list back.
    """
    try:
        ctx = establish()
    except ServiceUnavailable:
        return False
    try:
        list_readers(ctx)
    except ServiceUnavailable:
        return False
    finally:
        release(ctx)
    return True
