"""Secure messaging (explorer.core.secure_messaging) beyond the worked example: what the terminal
protects the card opens, what the card protects the terminal opens, for any short command and
any answer; garbage answers raise a SecureMessagingError and nothing else; the retail MAC against
ISO/IEC 9797-1's own definition spelt out with single DES."""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.apdu import CommandApdu
from explorer.core.secure_messaging import (
    CardChannel,
    MacError,
    SecureChannel,
    SecureMessagingError,
    SmFormatError,
    pad,
    retail_mac,
    unpad,
)

H = bytes.fromhex
KS_ENC = H("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = H("F1CB1F1FB5ADF208806B89DC579DC1F8")


def pair(ssc: bytes) -> tuple[SecureChannel, CardChannel]:
    return SecureChannel(KS_ENC, KS_MAC, ssc), CardChannel(KS_ENC, KS_MAC, ssc)


@st.composite
def short_commands(draw: st.DrawFn) -> bytes:
    # Plain classes have no secure messaging bits (b4-b3) of their own: wrap sets them.
    cla = draw(st.integers(0, 255).filter(lambda c: not c & 0x0C))
    ins = draw(st.integers(0, 255).filter(lambda i: i & 0xF0 not in (0x60, 0x90)))
    p1, p2 = draw(st.integers(0, 255)), draw(st.integers(0, 255))
    data = draw(st.binary(max_size=255))
    le = draw(st.none() | st.integers(1, 256))
    return CommandApdu(cla, ins, p1, p2, data, le).to_bytes()


ssc_values = st.binary(min_size=8, max_size=8)


@settings(max_examples=300, deadline=None)
@given(ssc_values, st.lists(short_commands(), min_size=1, max_size=3))
def test_the_card_opens_what_the_terminal_protects(ssc: bytes, commands: list[bytes]) -> None:
    terminal, card = pair(ssc)
    for command in commands:
        protected = terminal.wrap(command)
        assert protected[0] & 0x0C == 0x0C
        assert card.unwrap_command(protected) == command
        assert card.ssc == terminal.ssc


answers = st.tuples(st.binary(max_size=1000), st.binary(min_size=2, max_size=2)).map(lambda t: t[0] + t[1])


@settings(max_examples=300, deadline=None)
@given(ssc_values, st.lists(answers, min_size=1, max_size=3))
def test_the_terminal_opens_what_the_card_protects(ssc: bytes, plains: list[bytes]) -> None:
    terminal, card = pair(ssc)
    for plain in plains:
        card.unwrap_command(terminal.wrap(b"\x00\xb0\x00\x00\x00"))
        assert terminal.unwrap(card.wrap_response(plain)) == plain


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_answers_raise_only_secure_messaging_errors(garbage: bytes) -> None:
    terminal, _ = pair(bytes(8))
    terminal.wrap(b"\x00\xb0\x00\x00\x10")
    try:
        result = terminal.unwrap(garbage)
    except SecureMessagingError:
        return
    # Only an error status word alone comes back, as the card sent it.
    assert len(garbage) == 2 and 0x63 <= garbage[0] <= 0x6F and result == garbage


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_commands_raise_only_secure_messaging_errors(garbage: bytes) -> None:
    _, card = pair(bytes(8))
    with pytest.raises(SecureMessagingError):
        card.unwrap_command(bytes([garbage[0] | 0x0C]) + garbage[1:] if garbage else garbage)


@settings(max_examples=300, deadline=None)
@given(answers, st.data())
def test_any_change_to_a_protected_answer_body_is_refused(plain: bytes, data: st.DataObject) -> None:
    terminal, card = pair(bytes(8))
    card.unwrap_command(terminal.wrap(b"\x00\xb0\x00\x00\x00"))
    protected = card.wrap_response(plain)
    body = protected[:-2]
    at = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = body[:at] + bytes([body[at] ^ flip]) + body[at + 1 :] + protected[-2:]
    with pytest.raises(SecureMessagingError):
        terminal.unwrap(tampered)


def test_a_bare_success_is_not_trusted() -> None:
    terminal, _ = pair(bytes(8))
    terminal.wrap(b"\x00\xb0\x00\x00\x10")
    with pytest.raises(MacError, match="9000 came without DO 99 and DO 8E"):
        terminal.unwrap(H("9000"))


def test_an_error_alone_ends_secure_messaging_and_is_returned() -> None:
    terminal, _ = pair(bytes(8))
    terminal.wrap(b"\x00\xb0\x00\x00\x10")
    assert terminal.unwrap(H("6988")) == H("6988")


def test_a_missing_mac_and_a_missing_status_are_named() -> None:
    terminal, _ = pair(bytes(8))
    terminal.wrap(b"\x00\xa4\x02\x0c\x02\x01\x1e")
    with pytest.raises(MacError, match="DO 8E missing"):
        terminal.unwrap(H("990290009000"))
    terminal, _ = pair(bytes(8))
    terminal.wrap(b"\x00\xa4\x02\x0c\x02\x01\x1e")
    # A well-formed answer with a right MAC (over the SSC alone, now 2) but no DO 99.
    mac = retail_mac(KS_MAC, bytes(7) + b"\x02")
    with pytest.raises(SmFormatError, match="DO 99 missing"):
        terminal.unwrap(b"\x8e\x08" + mac + b"\x90\x00")


def test_a_collected_answer_is_expected() -> None:
    terminal, _ = pair(bytes(8))
    terminal.wrap(b"\x00\xb0\x00\x00\x00")
    with pytest.raises(SmFormatError, match="GET RESPONSE"):
        terminal.unwrap(H("6110"))


def test_long_commands_and_answers_use_extended_lengths() -> None:
    terminal, card = pair(bytes(8))
    command = CommandApdu(0x00, 0xD6, 0x00, 0x00, bytes(range(255))).to_bytes()
    protected = terminal.wrap(command)
    assert protected[4] == 0 and protected[-2:] == b"\x00\x00"  # Lc 00 xx xx, Le 00 00
    assert card.unwrap_command(protected) == command


def _des_ecb(key8: bytes, block: bytes, *, decrypt: bool = False) -> bytes:
    cipher = Cipher(TripleDES(key8 * 3), modes.ECB())
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(block) + op.finalize()


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.binary(max_size=64))
def test_the_retail_mac_is_mac_algorithm_3(key: bytes, message: bytes) -> None:
    # ISO/IEC 9797-1 7.3: H_i = e_K(H_{i-1} xor D_i), then G = e_K(d_K'(H_q)), step by step.
    ka, kb = key[:8], key[8:]
    h = bytes(8)
    data = pad(message)
    for i in range(0, len(data), 8):
        h = _des_ecb(ka, bytes(a ^ b for a, b in zip(h, data[i : i + 8], strict=True)))
    assert retail_mac(key, message) == _des_ecb(ka, _des_ecb(kb, h, decrypt=True))


def test_padding_method_2() -> None:
    assert pad(b"") == H("8000000000000000")
    assert pad(bytes(7)) == bytes(7) + b"\x80"
    assert pad(bytes(8)) == bytes(8) + H("8000000000000000")
    assert unpad(pad(b"\x80\x00")) == b"\x80\x00"
    with pytest.raises(ValueError):
        unpad(bytes(8))
