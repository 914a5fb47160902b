"""How a connection to a card is made and left: protocol, share mode, disposition.

Named here, in plain enums, so the UI, the CLI and the trace can speak of them
without pyscard; `explorer.pcsc` maps them to PC/SC constants.
"""

from __future__ import annotations

import enum


class Protocol(enum.Enum):
    T0 = "T=0"
    T1 = "T=1"
    ANY = "T=0|T=1"  # let the reader choose from the ATR
    RAW = "raw"
    UNDEFINED = "none"  # direct connections to a reader with no card

    @classmethod
    def parse(cls, text: str) -> Protocol:
        key = text.strip().upper().replace(" ", "")
        for p in cls:
            if key in {p.value.upper(), p.name}:
                return p
        aliases = {"0": cls.T0, "1": cls.T1, "T0": cls.T0, "T1": cls.T1, "AUTO": cls.ANY, "T0|T1": cls.ANY}
        if key in aliases:
            return aliases[key]
        raise ValueError(f"unknown protocol {text!r}: use T=0, T=1, T=0|T=1 or raw")


class ShareMode(enum.Enum):
    SHARED = "shared"
    EXCLUSIVE = "exclusive"
    DIRECT = "direct"  # talk to the reader (control codes) even without a card

    @classmethod
    def parse(cls, text: str) -> ShareMode:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"unknown share mode {text!r}: use shared, exclusive or direct") from None


class Disposition(enum.Enum):
    """What happens to the card when a connection ends or is re-established."""

    LEAVE = "leave"
    RESET = "reset"  # warm reset
    UNPOWER = "unpower"  # power cycle: a cold reset on reconnect
    EJECT = "eject"

    @classmethod
    def parse(cls, text: str) -> Disposition:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"unknown disposition {text!r}: use leave, reset, unpower or eject") from None
