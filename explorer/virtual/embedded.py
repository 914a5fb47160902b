"""The embedded virtual reader: readers that live in this process, no PC/SC service needed.

`EmbeddedReaders` holds the readers and the card in each; it reports what
happens to them as the same monitor events the PC/SC monitor posts (reader
added/removed, card inserted/removed, in use/exclusive), and hands out an
`EmbeddedLink` per connection, which the connection manager drives exactly
like a PC/SC link. So every panel, the trace and the scripts see an embedded
reader as they see a real one. Unlike vpcd, readers can come and go.

Thread rules: every method may be called from any thread. `sink` is called
with the hub's lock released, in the order things happened, on the calling
thread (the GUI thread for Insert/Remove, a connection's worker for a
connect or an eject); it must be quick and thread-safe (the event bridge's
`post` is). A card's commands are processed one at a time per reader, as a
reader's single contact would.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from explorer.core import card_errors as ce
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.core.reader_attributes import ATTRIBUTES
from explorer.core.reader_events import (
    CardInserted,
    CardRemoved,
    MonitorEvent,
    ReaderAdded,
    ReaderRemoved,
    ReaderStateChanged,
)
from explorer.core.reader_state import WATCHED_FLAGS, ReaderFlag
from explorer.virtual.card import VirtualCard

#: Reader names start so: unlike any PC/SC reader, and plain about what they are.
READER_PREFIX = "Card Explorer Virtual Reader"
VENDOR = b"Card Explorer"

_PROTOCOL_OF_T = {0: Protocol.T0, 1: Protocol.T1}
_NOTHING_WATCHED = ReaderFlag(0)


@dataclass(eq=False)
class _Slot:
    """One embedded reader. Guarded by the hub's lock, except `contact` (held while a card works)."""

    name: str
    card: VirtualCard | None = None
    label: str = ""
    #: Bumped when the card goes or comes: a handle from before sees CardRemoved.
    insertion: int = 0
    #: Bumped on every reset: other handles see CardReset once, as PC/SC says.
    resets: int = 0
    holders: set[EmbeddedLink] = field(default_factory=set)
    exclusive: EmbeddedLink | None = None
    transaction: EmbeddedLink | None = None
    contact: threading.Lock = field(default_factory=threading.Lock)
    #: The watched flags last reported, so `refresh` reports only a change.
    reported: ReaderFlag = _NOTHING_WATCHED

    def flags(self) -> ReaderFlag:
        flags = ReaderFlag.PRESENT if self.card is not None else ReaderFlag.EMPTY
        if self.exclusive is not None:
            flags |= ReaderFlag.EXCLUSIVE
        elif self.holders:
            flags |= ReaderFlag.INUSE
        return flags


class EmbeddedReaders:
    """The in-process readers. See the module docstring for thread rules."""

    def __init__(self, sink: Callable[[MonitorEvent], None]) -> None:
        self._sink = sink
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}
        self._numbers = itertools.count()
        self._changed = threading.Condition(self._lock)

    # -- readers ----------------------------------------------------------------

    def readers(self) -> list[str]:
        with self._lock:
            return list(self._slots)

    def owns(self, reader: str) -> bool:
        """True for a name of ours, present or removed: a removed one answers UnknownReader."""
        return reader.startswith(READER_PREFIX)

    def card_label(self, reader: str) -> str | None:
        """What is in the reader (the profile or trace it came from), None when empty."""
        with self._lock:
            slot = self._slots.get(reader)
            return None if slot is None or slot.card is None else slot.label

    def add_reader(self) -> str:
        with self._lock:
            while (name := f"{READER_PREFIX} {next(self._numbers)}") in self._slots:
                pass
            self._slots[name] = slot = _Slot(name)
            flags = slot.flags()
        self._sink(ReaderAdded(name, flags, time.time(), embedded=True))
        return name

    def remove_reader(self, reader: str) -> None:
        """Unplug the reader: its card goes with it; open handles see the card removed."""
        self.eject(reader)
        with self._lock:
            slot = self._slots.pop(reader, None)
            if slot is None:
                return
            slot.holders.clear()
            slot.exclusive = slot.transaction = None
            self._changed.notify_all()
        self._sink(ReaderRemoved(reader, time.time()))

    # -- cards -------------------------------------------------------------------

    def insert(self, reader: str, card: VirtualCard, label: str = "") -> None:
        """Put `card` in `reader`, taking out what was there first."""
        self.eject(reader)
        with self._lock:
            slot = self._slot(reader)
            slot.card, slot.label = card, label
            slot.insertion += 1
        card.power_off()  # a card comes in unpowered; the first connect powers it
        self._sink(CardInserted(reader, card.atr, time.time()))

    def eject(self, reader: str) -> bool:
        """Take the card out; False when the reader was empty (or is not ours)."""
        with self._lock:
            slot = self._slots.get(reader)
            if slot is None or slot.card is None:
                return False
            card, slot.card, slot.label = slot.card, None, ""
            slot.insertion += 1
            slot.holders.clear()
            slot.exclusive = slot.transaction = None
            self._changed.notify_all()
        card.power_off()
        self._sink(CardRemoved(reader, time.time()))
        self.refresh(reader)
        return True

    def _slot(self, reader: str) -> _Slot:
        """The reader's slot; the caller holds the lock."""
        slot = self._slots.get(reader)
        if slot is None:
            raise ce.UnknownReader(reader, sentence="this virtual reader has been removed")
        return slot

    def refresh(self, reader: str) -> None:
        """Report the reader's state if a watched flag (in use, exclusive) changed since last time.

        What the PC/SC monitor's refresh does: the connection manager calls it
        after a connection changed the reader (on_change), so the state event
        comes after the connection's own record of the change.
        """
        with self._lock:
            slot = self._slots.get(reader)
            if slot is None:
                return
            flags = slot.flags()
            if flags & WATCHED_FLAGS == slot.reported:
                return
            slot.reported = flags & WATCHED_FLAGS
        self._sink(ReaderStateChanged(reader, flags, time.time()))

    def link(self, reader: str) -> EmbeddedLink:
        return EmbeddedLink(self, reader)


class EmbeddedLink:
    """One handle on an embedded reader: the connection's backend (explorer.link.connection.Link).

    Thread rules: called by one connection worker at a time; shares the
    reader's state with other links under the hub's lock.
    """

    embedded = True

    def __init__(self, hub: EmbeddedReaders, reader: str) -> None:
        self._hub = hub
        self.reader = reader
        self._share: ShareMode | None = None
        self._protocol = Protocol.UNDEFINED
        self._insertion = -1
        self._resets = 0

    # -- the handle's view of its slot (hub lock held) ------------------------------

    def _live_slot(self) -> tuple[_Slot, VirtualCard | None]:
        if self._share is None:
            raise ce.NotConnected(self.reader)
        slot = self._hub._slots.get(self.reader)
        if slot is None or self not in slot.holders:
            self._share = None
            raise ce.CardRemoved(self.reader, "the reader or its card is gone")
        if self._share is not ShareMode.DIRECT:
            if slot.card is None or slot.insertion != self._insertion:
                self._forget(slot)
                raise ce.CardRemoved(self.reader)
            if slot.resets != self._resets:
                self._resets = slot.resets
                raise ce.CardReset(self.reader)
        return slot, slot.card

    def _forget(self, slot: _Slot) -> None:
        slot.holders.discard(self)
        if slot.exclusive is self:
            slot.exclusive = None
        if slot.transaction is self:
            slot.transaction = None
            self._hub._changed.notify_all()
        self._share = None

    # -- Link ---------------------------------------------------------------------

    def connect(self, protocol: Protocol, share: ShareMode) -> tuple[Protocol, bytes]:
        hub = self._hub
        with hub._lock:
            slot = hub._slot(self.reader)
            card = slot.card
            if share is not ShareMode.DIRECT and card is None:
                raise ce.NoCard(self.reader)
            others = slot.holders - {self}
            if slot.exclusive not in (None, self) or (share is ShareMode.EXCLUSIVE and others):
                raise ce.SharingViolation(self.reader)
            active = Protocol.UNDEFINED if card is None else self._negotiate(card.atr, protocol)
            slot.holders.add(self)
            slot.exclusive = self if share is ShareMode.EXCLUSIVE else None
            self._share, self._protocol = share, active
            self._insertion, self._resets = slot.insertion, slot.resets
            if card is not None and not card.powered:
                card.power_on()
        return active, b"" if card is None else card.atr

    def _negotiate(self, atr: bytes, wanted: Protocol) -> Protocol:
        from explorer.core.atr import decode_atr  # on a connect: the window does not need it to start

        decoded = decode_atr(atr)
        offered = [_PROTOCOL_OF_T[t] for t in decoded.protocols if t in _PROTOCOL_OF_T]
        if wanted is Protocol.ANY:
            default = _PROTOCOL_OF_T.get(decoded.default_protocol)
            if default is None and not offered:
                raise ce.ProtocolMismatch(self.reader, sentence="the card offers neither T=0 nor T=1")
            return default or offered[0]
        if wanted is Protocol.RAW:
            return Protocol.RAW
        if wanted not in offered:
            raise ce.ProtocolMismatch(self.reader)
        return wanted

    def disconnect(self, disposition: Disposition) -> None:
        hub = self._hub
        with hub._lock:
            slot = hub._slots.get(self.reader)
            if slot is None or self._share is None:
                self._share = None
                return
            card = slot.card if slot.insertion == self._insertion else None
            self._forget(slot)
        if disposition is Disposition.EJECT and card is not None:
            hub.eject(self.reader)  # an embedded reader can eject, like a motorised one
        elif card is not None:
            self._dispose(slot, card, disposition)

    def _dispose(self, slot: _Slot, card: VirtualCard, disposition: Disposition) -> None:
        if disposition is Disposition.LEAVE:
            return
        with slot.contact:
            if disposition is Disposition.UNPOWER:
                card.power_off()
            else:
                card.reset()
        with self._hub._lock:
            slot.resets += 1

    def reconnect(self, cold: bool, protocol: Protocol, share: ShareMode) -> tuple[Protocol, bytes]:
        hub = self._hub
        with hub._lock:
            slot = hub._slots.get(self.reader)
            if slot is None or self._share is None or slot.card is None \
                    or slot.insertion != self._insertion:
                if slot is not None:
                    self._forget(slot)
                raise ce.CardRemoved(self.reader)
            card = slot.card
            active = self._negotiate(card.atr, protocol)
            if share is ShareMode.EXCLUSIVE and slot.holders - {self}:
                raise ce.SharingViolation(self.reader)
            slot.exclusive = self if share is ShareMode.EXCLUSIVE else None
            self._share, self._protocol = share, active
            slot.resets += 1
            self._resets = slot.resets
        with slot.contact:
            if cold:
                card.power_off()
                card.power_on()
            else:
                card.reset()
        return active, card.atr

    def begin_transaction(self) -> None:
        hub = self._hub
        with hub._lock:
            while True:
                slot, _ = self._live_slot()
                if slot.transaction in (None, self):
                    slot.transaction = self
                    return
                # PC/SC blocks until the other handle ends its transaction: so do we.
                hub._changed.wait()

    def end_transaction(self, disposition: Disposition) -> None:
        with self._hub._lock:
            slot, card = self._live_slot()
            if slot.transaction is not self:
                raise ce.CardError(self.reader, sentence="no transaction of ours to end")
            slot.transaction = None
            self._hub._changed.notify_all()
        if card is not None and disposition is not Disposition.EJECT:
            self._dispose(slot, card, disposition)
        elif disposition is Disposition.EJECT:
            self._hub.eject(self.reader)

    def control(self, code: int, data: bytes) -> bytes:
        with self._hub._lock:
            self._live_slot()
        raise ce.NotSupported(self.reader, sentence=(
            f"the embedded virtual reader has no control code 0x{code:08X} (it has none at all)"))

    def get_attribute(self, attribute: int) -> bytes:
        with self._hub._lock:
            _, card = self._live_slot()
            protocol = self._protocol
        values = {
            ATTRIBUTES["VENDOR_NAME"]: VENDOR,
            ATTRIBUTES["VENDOR_IFD_TYPE"]: b"embedded virtual reader",
            ATTRIBUTES["DEVICE_FRIENDLY_NAME"]: self.reader.encode() + b"\0",
            ATTRIBUTES["ICC_PRESENCE"]: bytes([2 if card is not None else 0]),
            ATTRIBUTES["CURRENT_PROTOCOL_TYPE"]: {Protocol.T0: 1, Protocol.T1: 2}.get(
                protocol, 0).to_bytes(4, "little"),
        }
        if card is not None:
            values[ATTRIBUTES["ATR_STRING"]] = card.atr
        if attribute not in values:
            raise ce.NotSupported(self.reader, sentence=f"the embedded virtual reader has no attribute "
                                                        f"0x{attribute:08X}")
        return values[attribute]

    def transmit(self, apdu: bytes, protocol: Protocol | None) -> bytes:
        with self._hub._lock:
            slot, card = self._live_slot()
            if card is None:  # a DIRECT handle on an empty reader
                raise ce.NoCard(self.reader)
            if slot.transaction not in (None, self):
                raise ce.SharingViolation(self.reader, sentence="another handle holds a transaction")
        with slot.contact:
            response = card.process(apdu)
        with self._hub._lock:
            if slot.card is not card or slot.insertion != self._insertion:
                # Pulled out while it worked: the answer never reached the reader.
                self._share = None
                raise ce.CardRemoved(self.reader, "transmit: the card was removed mid-command")
        return response

    def release(self) -> None:
        with self._hub._lock:
            slot = self._hub._slots.get(self.reader)
            if slot is None or self not in slot.holders:
                self._share = None
                return
            self._forget(slot)
