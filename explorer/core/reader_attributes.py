"""PC/SC reader attributes (SCardGetAttrib): standard ids by name.

The values are the PC/SC specification's (part 3), the same in pcsc-lite and
WinSCard, restated so that any backend, and `core`, can name them without pyscard.
"""

from __future__ import annotations

import contextlib

#: Standard attribute names (as in the PC/SC spec, without the SCARD_ATTR_ prefix) to their ids.
ATTRIBUTES: dict[str, int] = {
    "VENDOR_NAME": 0x00010100,
    "VENDOR_IFD_TYPE": 0x00010101,
    "VENDOR_IFD_VERSION": 0x00010102,
    "VENDOR_IFD_SERIAL_NO": 0x00010103,
    "CHANNEL_ID": 0x00020110,
    "ASYNC_PROTOCOL_TYPES": 0x00030120,
    "DEFAULT_CLK": 0x00030121,
    "MAX_CLK": 0x00030122,
    "DEFAULT_DATA_RATE": 0x00030123,
    "MAX_DATA_RATE": 0x00030124,
    "MAX_IFSD": 0x00030125,
    "SYNC_PROTOCOL_TYPES": 0x00030126,
    "POWER_MGMT_SUPPORT": 0x00040131,
    "USER_TO_CARD_AUTH_DEVICE": 0x00050140,
    "USER_AUTH_INPUT_DEVICE": 0x00050142,
    "CHARACTERISTICS": 0x00060150,
    "ESC_RESET": 0x0007A000,
    "ESC_CANCEL": 0x0007A003,
    "ESC_AUTHREQUEST": 0x0007A005,
    "MAXINPUT": 0x0007A007,
    "CURRENT_PROTOCOL_TYPE": 0x00080201,
    "CURRENT_CLK": 0x00080202,
    "CURRENT_F": 0x00080203,
    "CURRENT_D": 0x00080204,
    "CURRENT_N": 0x00080205,
    "CURRENT_W": 0x00080206,
    "CURRENT_IFSC": 0x00080207,
    "CURRENT_IFSD": 0x00080208,
    "CURRENT_BWT": 0x00080209,
    "CURRENT_CWT": 0x0008020A,
    "CURRENT_EBC_ENCODING": 0x0008020B,
    "EXTENDED_BWT": 0x0008020C,
    "ICC_PRESENCE": 0x00090300,
    "ICC_INTERFACE_STATUS": 0x00090301,
    "CURRENT_IO_STATE": 0x00090302,
    "ATR_STRING": 0x00090303,
    "ICC_TYPE_PER_ATR": 0x00090304,
    "DEVICE_UNIT": 0x7FFF0001,
    "DEVICE_IN_USE": 0x7FFF0002,
    "DEVICE_FRIENDLY_NAME": 0x7FFF0003,
    "DEVICE_FRIENDLY_NAME_A": 0x7FFF0003,
    "DEVICE_SYSTEM_NAME": 0x7FFF0004,
    "DEVICE_SYSTEM_NAME_A": 0x7FFF0004,
    "DEVICE_FRIENDLY_NAME_W": 0x7FFF0005,
    "DEVICE_SYSTEM_NAME_W": 0x7FFF0006,
    "SUPRESS_T1_IFS_REQUEST": 0x7FFF0007,
}


def attribute_id(name: str | int) -> int:
    """An attribute id from a name ("ATR_STRING", "SCARD_ATTR_VENDOR_NAME", "vendor name") or a number."""
    if isinstance(name, int):
        return name
    key = name.strip().upper().replace(" ", "_").removeprefix("SCARD_ATTR_")
    if key in ATTRIBUTES:
        return ATTRIBUTES[key]
    with contextlib.suppress(ValueError):
        return int(name, 0)
    raise ValueError(f"unknown attribute {name!r}; known: {', '.join(sorted(ATTRIBUTES))}")
