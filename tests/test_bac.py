"""Basic Access Control and the secure messaging after it, against ICAO Doc 9303 Part 11,
Appendix D (the worked example: document L898902C<, born 690806, expiring 940623).

Every expected value below is the specification's, not this code's output: key seed and keys
(D.2), the mutual authentication (D.3) and the protected SELECT EF.COM and READ BINARYs with the
SSC after each (D.4)."""

from __future__ import annotations

import pytest

from explorer.core.bac import (
    ACCESS_DENIED,
    BacCard,
    BacError,
    BacTerminal,
    basic_access_keys,
    derive_key,
    seed_from_mrz,
)
from explorer.core.mrz_digits import mrz_information
from explorer.core.secure_messaging import CardChannel, MacError, SecureChannel, SmFormatError, retail_mac

H = bytes.fromhex

# D.2
MRZ_INFORMATION = "L898902C<369080619406236"
K_SEED = H("239AB9CB282DAF66231DC5A4DF6BFBAE")
K_ENC = H("AB94FDECF2674FDFB9B391F85D7F76F2")
K_MAC = H("7962D9ECE03D1ACD4C76089DCE131543")
# D.3
RND_ICC = H("4608F91988702212")
RND_IFD = H("781723860C06C226")
K_IFD = H("0B795240CB7049B01C19B33E32804F0B")
E_IFD = H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
M_IFD = H("5F1448EEA8AD90A7")
K_ICC = H("0B4F80323EB3191CB04970CB4052790B")
CARD_ANSWER = H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449")
SESSION_SEED = H("0036D272F5C350ACAC50C3F572D23600")  # K.IFD xor K.ICC
KS_ENC = H("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = H("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = H("887022120C06C226")
# D.4: (plain command, protected command, SSC after it, protected answer, SSC after it, plain answer)
EXCHANGES = [
    (H("00A4020C02011E"), H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"), "887022120C06C227",
     H("990290008E08FA855A5D4C50A8ED9000"), "887022120C06C228", H("9000")),
    (H("00B0000004"), H("0CB000000D9701048E08ED6705417E96BA5500"), "887022120C06C229",
     H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"), "887022120C06C22A", H("60145F019000")),
    (H("00B0000412"), H("0CB000040D9701128E082EA28A70F3C7B53500"), "887022120C06C22B",
     H("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"),
     "887022120C06C22C", H("04303130365F36063034303030305C0261759000")),
]


def test_the_keys_come_from_the_mrz_information_as_in_d2() -> None:
    info = mrz_information("L898902C<", "690806", "940623")
    assert info == MRZ_INFORMATION
    assert seed_from_mrz(info) == K_SEED
    assert derive_key(K_SEED, 1) == K_ENC
    assert derive_key(K_SEED, 2) == K_MAC
    assert basic_access_keys(info) == (K_ENC, K_MAC)


def test_the_terminal_authenticates_as_in_d3() -> None:
    terminal = BacTerminal(MRZ_INFORMATION, RND_IFD, K_IFD)
    assert terminal.authenticate_data(RND_ICC) == E_IFD + M_IFD
    assert retail_mac(K_MAC, E_IFD) == M_IFD
    channel = terminal.channel(CARD_ANSWER)
    assert channel.ssc == SSC
    # The session keys are D.3's: the protected SELECT they make is D.4's, byte for byte.
    assert channel.wrap(EXCHANGES[0][0]) == EXCHANGES[0][1]


def test_the_session_keys_of_d3() -> None:
    assert derive_key(SESSION_SEED, 1) == KS_ENC
    assert derive_key(SESSION_SEED, 2) == KS_MAC


def test_the_card_answers_as_in_d3() -> None:
    result = BacCard(MRZ_INFORMATION, RND_ICC, K_ICC).authenticate(E_IFD + M_IFD)
    assert result is not None
    answer, channel = result
    assert answer == CARD_ANSWER
    assert channel.ssc == SSC
    assert channel.unwrap_command(EXCHANGES[0][1]) == EXCHANGES[0][0]


def test_the_terminal_side_of_d4_byte_for_byte() -> None:
    channel = SecureChannel(KS_ENC, KS_MAC, SSC)
    for plain, protected, ssc_sent, answer, ssc_answered, plain_answer in EXCHANGES:
        assert channel.wrap(plain) == protected
        assert channel.ssc.hex().upper() == ssc_sent
        assert channel.unwrap(answer) == plain_answer
        assert channel.ssc.hex().upper() == ssc_answered


def test_the_card_side_of_d4_byte_for_byte() -> None:
    channel = CardChannel(KS_ENC, KS_MAC, SSC)
    for plain, protected, ssc_sent, answer, ssc_answered, plain_answer in EXCHANGES:
        assert channel.unwrap_command(protected) == plain
        assert channel.ssc.hex().upper() == ssc_sent
        assert channel.wrap_response(plain_answer) == answer
        assert channel.ssc.hex().upper() == ssc_answered


# Bits in the cryptogram (byte 3), the status word in DO 99 (byte 13) and the MAC (byte 20).
@pytest.mark.parametrize("bit", [8 * 3, 8 * 3 + 7, 8 * 13 + 4, 8 * 20 + 1])
def test_one_flipped_bit_in_a_protected_answer_is_a_mac_error(bit: int) -> None:
    channel = SecureChannel(KS_ENC, KS_MAC, SSC)
    channel.wrap(EXCHANGES[0][0])
    channel.unwrap(EXCHANGES[0][3])
    channel.wrap(EXCHANGES[1][0])
    answer = bytearray(EXCHANGES[1][3])
    answer[bit // 8] ^= 1 << bit % 8
    with pytest.raises(MacError, match="the card's answer failed its MAC check"):
        channel.unwrap(bytes(answer))


def test_a_broken_structure_is_named_with_its_byte() -> None:
    channel = SecureChannel(KS_ENC, KS_MAC, SSC)
    channel.wrap(EXCHANGES[0][0])
    with pytest.raises(SmFormatError, match="DO 99 at byte 0: length runs past the end"):
        channel.unwrap(H("9905900090009000"))


def test_a_wrong_mrz_is_access_denied_on_both_sides() -> None:
    wrong = mrz_information("L898902C<", "690806", "940624")
    terminal = BacTerminal(wrong, RND_IFD, K_IFD)
    data = terminal.authenticate_data(RND_ICC)
    # The card refuses the terminal's data: the virtual card answers 6300 ...
    assert BacCard(MRZ_INFORMATION, RND_ICC, K_ICC).authenticate(data) is None
    with pytest.raises(BacError, match=f"^{ACCESS_DENIED} \\(the card answered 63 00\\)$"):
        terminal.channel(H("6300"))
    # ... and a card's genuine answer fails the MAC under the wrong keys.
    with pytest.raises(BacError, match=f"^{ACCESS_DENIED}"):
        terminal.channel(CARD_ANSWER)


def test_an_answer_that_does_not_return_rnd_ifd_is_access_denied() -> None:
    # A replayed answer to another terminal's challenge: right keys, other RND.IFD.
    terminal = BacTerminal(MRZ_INFORMATION, H("0000000000000001"), K_IFD)
    terminal.authenticate_data(RND_ICC)
    with pytest.raises(BacError, match=r"RND\.IFD"):
        terminal.channel(CARD_ANSWER)


def test_the_answer_may_come_with_its_status_word() -> None:
    terminal = BacTerminal(MRZ_INFORMATION, RND_IFD, K_IFD)
    terminal.authenticate_data(RND_ICC)
    assert terminal.channel(CARD_ANSWER + H("9000")).ssc == SSC


def test_the_card_refuses_data_for_another_challenge() -> None:
    card = BacCard(MRZ_INFORMATION, H("0102030405060708"), K_ICC)
    assert card.authenticate(E_IFD + M_IFD) is None
    assert card.authenticate(E_IFD) is None
