"""A card behaviour built from a CardProfile: an ISO/IEC 7816-4 file system
with SELECT, READ/UPDATE BINARY, READ RECORD, VERIFY, GET CHALLENGE, GET DATA
and GET RESPONSE (and an OpenPGP application's commands: openpgp_commands.py),
answering like a T=0 card or directly.

    card = FileSystemCard(load_profile(path))
    VirtualCard(card.atr, card)   # the card is the handler: bytes in, bytes out

Transport rules, applied here for every command:

* T=0 (`profile.t0`): data produced by a case-3/4 command (SELECT) is
  announced with 61xx and fetched with GET RESPONSE, in chunks of at most
  Le bytes (61xx again for the rest). A case-2 command whose Le is neither
  00 nor the exact length answers 6Cxx with that length.
* Direct: data goes out with the status word, cut to Ne (61xx for the rest);
  a case-3 command (no Le) gets none. A case-2 command asking for fewer bytes
  than an object has answers 6Cxx; asking for more gets what there is (6282
  for files and records, whose end came first).

Le 00 means "up to 256" in both. Extended lengths, secure messaging, logical
channels and command chaining are refused with the status words 7816-4 has
for them, as the demo ATR's card capabilities say.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from explorer.core.apdu import ApduError, CommandApdu, parse_apdu
from explorer.virtual import fs_commands as fs
from explorer.virtual import openpgp_commands as openpgp
from explorer.virtual import piv_commands
from explorer.virtual.fs_commands import CardState, Kind, Reply
from explorer.virtual.profile import CardProfile, FileSpec

SW_CHANNEL = 0x6881
SW_SECURE_MESSAGING = 0x6882
SW_CHAINING = 0x6884
SW_INS = 0x6D00
SW_CLA = 0x6E00

_GET_RESPONSE = 0xC0
_GET_DATA = 0xCA
_GPO = 0xA8
_PROPRIETARY_CLA = 0x80
_SHORT_NE = 256


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


def _class_error(cla: int, ins: int) -> int | None:
    """The status word for a class byte this card does not take, or None."""
    if cla & 0x80:
        # GET DATA is often sent as 80 CA (EMV, GlobalPlatform), and GET
        # RESPONSE keeps a proprietary class (see explorer.core.apdu.get_response).
        return None if cla == _PROPRIETARY_CLA and ins in (_GET_DATA, _GET_RESPONSE, _GPO) else SW_CLA
    if cla & 0x40:
        return SW_CHANNEL  # further interindustry class: logical channels 4-19
    if cla & 0x20:
        return SW_CLA  # RFU
    if cla & 0x10:
        return SW_CHAINING
    if cla & 0x0C:
        return SW_SECURE_MESSAGING
    if cla & 0x03:
        return SW_CHANNEL
    return None


class FileSystemCard:
    """A stateful handler: call it with a C-APDU, get the R-APDU.

    Thread rules: the serving transport calls it and `reset` from its thread;
    a lock keeps a reset from another thread (a UI's "power cycle") from
    landing in the middle of a command.
    """

    def __init__(self, profile: CardProfile, *, random: Callable[[int], bytes] = os.urandom) -> None:
        self.profile = profile
        self._lock = threading.Lock()
        self._state = CardState(profile, random)
        self._pending = b""

    @property
    def atr(self) -> bytes:
        return self.profile.atr

    def reset(self) -> None:
        """Power cycle: MF current, security state and pending data gone;
        file contents and retry counters stay, as in a card's EEPROM."""
        with self._lock:
            self._state.reset()
            self._pending = b""

    @property
    def current_df(self) -> FileSpec:
        """The DF commands address now: a wrapper's access rule (BAC's) depends on it."""
        with self._lock:
            return self._state.current_df.spec

    def tries_left(self, reference: int) -> int | None:
        with self._lock:
            return self._state.tries.get(reference)

    def __call__(self, raw: bytes) -> bytes:
        with self._lock:
            # Only a GET RESPONSE may collect what the previous command left.
            pending, self._pending = self._pending, b""
            try:
                apdu = parse_apdu(raw, max_short_only=True)
            except ApduError:
                invalid_ins = len(raw) >= 2 and raw[1] & 0xF0 in (0x60, 0x90)
                return _sw(SW_INS if invalid_ins else fs.SW_WRONG_LENGTH)
            error = _class_error(apdu.cla, apdu.ins)
            if error is not None:
                return _sw(error)
            if apdu.ins == _GET_RESPONSE:
                return self._get_response(apdu, pending)
            command = _COMMANDS.get(apdu.ins)
            if command is None:
                return _sw(SW_INS)
            return self._send(command(self._state, apdu), apdu)

    # -- transport rules ------------------------------------------------------------

    def _send(self, reply: Reply, apdu: CommandApdu) -> bytes:
        if reply.kind is Kind.FIXED:
            return self._fixed(reply, apdu.ne)
        if reply.kind is Kind.OUTGOING and reply.data:
            if self._state.t0:
                self._pending = reply.data
                return _sw(0x6100 | min(len(reply.data), _SHORT_NE) & 0xFF)
            if apdu.le is None:
                return _sw(reply.sw)
            return self._chunk(reply.data, apdu.ne, reply.sw)
        return reply.data + _sw(reply.sw)

    def _chunk(self, data: bytes, ne: int, sw: int = fs.SW_OK) -> bytes:
        """The first `ne` bytes; 61xx keeps the rest for GET RESPONSE."""
        rest = data[ne:]
        if not rest:
            return data + _sw(sw)
        self._pending = rest
        return data[:ne] + _sw(0x6100 | min(len(rest), _SHORT_NE) & 0xFF)

    def _fixed(self, reply: Reply, ne: int) -> bytes:
        n = len(reply.data)
        if ne in (n, _SHORT_NE):
            return self._chunk(reply.data, ne, reply.sw)
        if ne < n or self._state.t0:
            return _sw(0x6C00 | n & 0xFF)
        return reply.data + _sw(reply.short_sw)

    def _get_response(self, apdu: CommandApdu, pending: bytes) -> bytes:
        self._pending = pending  # an error here must not lose the data
        if apdu.p1 or apdu.p2:
            return _sw(fs.SW_WRONG_P1P2)
        if apdu.data or apdu.le is None:
            return _sw(fs.SW_WRONG_LENGTH)
        if not pending:
            return _sw(fs.SW_CONDITIONS)
        if apdu.ne > len(pending) and apdu.ne != _SHORT_NE and self._state.t0:
            return _sw(0x6C00 | len(pending) & 0xFF)
        self._pending = b""
        return self._chunk(pending, apdu.ne)


# -- commands that are not about files --------------------------------------------------

def _verify(state: CardState, apdu: CommandApdu) -> Reply:
    if apdu.p1:
        return Reply(fs.SW_WRONG_P1P2)
    ref = apdu.p2
    pin = state.pins.get(ref)
    if pin is None:
        return Reply(fs.SW_DATA_NOT_FOUND)
    left = state.tries[ref]
    if not apdu.data:  # a query: is it verified, and how many tries remain
        if ref in state.verified:
            return Reply(fs.SW_OK)
        return Reply(0x63C0 | left if left else fs.SW_BLOCKED)
    if not left:
        return Reply(fs.SW_BLOCKED)
    if apdu.data == pin.value:
        state.tries[ref] = pin.tries
        state.verified.add(ref)
        return Reply(fs.SW_OK)
    state.tries[ref] = left - 1
    state.verified.discard(ref)
    return Reply(0x63C0 | left - 1)


def _get_challenge(state: CardState, apdu: CommandApdu) -> Reply:
    if apdu.p1 or apdu.p2:
        return Reply(fs.SW_WRONG_P1P2)
    if apdu.data or apdu.le is None:
        return Reply(fs.SW_WRONG_LENGTH)
    return Reply(fs.SW_OK, state.random(apdu.ne))


def _get_data(state: CardState, apdu: CommandApdu) -> Reply:
    if apdu.data or apdu.le is None:
        return Reply(fs.SW_WRONG_LENGTH)
    tag = apdu.p1 << 8 | apdu.p2
    answer = openpgp.get_data(state, tag) if state.openpgp is not None else None
    if answer is not None:
        return answer
    value = state.objects.get(tag)
    if value is None:
        return Reply(fs.SW_DATA_NOT_FOUND)
    # The whole data object, tag and length included, as EMV and GlobalPlatform cards answer.
    return Reply(fs.SW_OK, fs.tlv(tag, value), Kind.FIXED)


#: The application transaction counter GET PROCESSING OPTIONS increments (EMV Book 3 Annex A).
_ATC = 0x9F36


def _get_processing_options(state: CardState, apdu: CommandApdu) -> Reply:
    """EMV's GPO (Book 3 6.5.8) as a profile declares it: the current DF's `gpo` answer, whatever
    the PDOL data, and the card's ATC (GET DATA 9F36, when the profile has one) one higher. A
    profile without any `gpo` answers 6E00 as it did before GPO was emulated."""
    if apdu.cla != _PROPRIETARY_CLA:
        return Reply(SW_INS)  # GPO is only defined with CLA 80
    if not state.emv:
        return Reply(SW_CLA)
    if apdu.p1 or apdu.p2:
        return Reply(fs.SW_WRONG_P1P2)
    if not apdu.data or apdu.data[0] != _COMMAND_TEMPLATE:
        return Reply(fs.SW_WRONG_DATA)
    answer = state.current_df.spec.gpo
    if answer is None:
        return Reply(fs.SW_CONDITIONS)  # no EMV application selected
    atc = state.objects.get(_ATC)
    if atc is not None:
        value = int.from_bytes(atc, "big") + 1
        if value >> 8 * len(atc):
            return Reply(fs.SW_CONDITIONS)  # the ATC at its limit: the application is blocked
        state.objects[_ATC] = value.to_bytes(len(atc), "big")
    return Reply(fs.SW_OK, answer, Kind.OUTGOING)


_COMMAND_TEMPLATE = 0x83

_COMMANDS: dict[int, Callable[[CardState, CommandApdu], Reply]] = {
    0xA4: fs.select, 0xB0: fs.read_binary, 0xD6: fs.update_binary, 0xB2: fs.read_record,
    0x20: _verify, 0x84: _get_challenge, _GET_DATA: _get_data, _GPO: _get_processing_options,
    0xCB: piv_commands.get_data_by_list,
    0x47: openpgp.generate_asymmetric_key_pair, 0xA5: openpgp.select_data,
}


def profile_card(profile: CardProfile, *, random: Callable[[int], bytes] = os.urandom
                 ) -> Callable[[bytes], bytes]:
    """The handler a profile describes: its file-system card, behind BAC when it has `bac`.
    Every place that makes a card from a profile goes through here. The passport's module (and
    the cipher library under it) is imported only for a passport: not at every start."""
    card = FileSystemCard(profile, random=random)
    if profile.bac is None:
        return card
    from explorer.virtual.bac_card import BacPassport

    return BacPassport(card, profile.bac.mrz_information, random=random)
