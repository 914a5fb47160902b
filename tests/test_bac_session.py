"""BAC and secure messaging end to end through a connection: the analysis session's commands go
through the link's SecureMessagingProcessor to the virtual passport, the analyzer sees plain
answers, and the trace holds each protected exchange with the plain one under it."""

from __future__ import annotations

from explorer.apps.session import AnalysisSession
from explorer.core.bac import BacTerminal
from explorer.core.exchange import Origin, TransmitOptions
from explorer.core.link_modes import Protocol, ShareMode
from explorer.core.sensitive import AUTHENTICATION
from explorer.services.card_access import CardAccess
from explorer.trace.export import jsonl_line, text_lines
from explorer.trace.records import Kind
from explorer.trace.store import TraceStore
from explorer.virtual.card import VirtualCard
from tests.test_bac_card import DG2, EF_COM, EMRTD_AID, MRZ, H, passport


def test_an_analysis_reads_a_passport_through_bac_and_the_trace_shows_both_layers() -> None:
    store = TraceStore()
    access = CardAccess(lambda reader: None, sink=store)  # type: ignore[arg-type,return-value]
    card = passport()
    reader = access.add_card(VirtualCard(card.atr, card))
    conn = access.manager.open(reader)
    conn.connect(Protocol.ANY, ShareMode.SHARED).result(5)
    options = TransmitOptions()
    cryptograms: list[bytes] = []  # E.IFD||M.IFD, then E.IC||M.IC

    def job(worker):
        session = AnalysisSession(lambda apdu: worker.send(apdu, options, False, "analyze emrtd"),
                                  secure_transmit=lambda apdu, ch: worker.send(apdu, options, False,
                                                                               "analyze emrtd", channel=ch))
        assert session.send(b"\x00\xa4\x04\x0c\x07" + EMRTD_AID).ok
        challenge = session.send(H("0084000008")).data
        terminal = BacTerminal(MRZ, H("781723860C06C226"), H("0B795240CB7049B01C19B33E32804F0B"))
        cryptograms.append(terminal.authenticate_data(challenge))
        answer = session.send(H("0082000028") + cryptograms[0] + H("28"))
        cryptograms.append(answer.data)
        session.secure(terminal.channel(answer.reply.data))
        assert session.send(H("00A4020C02011E")).ok
        com = session.send(H("00B0000000"))
        assert session.send(H("00A4020C020102")).ok
        dg2 = b"".join(session.send(bytes([0, 0xB0, at >> 8, at & 0xFF, 0xDF])).data
                       for at in range(0, len(DG2), 0xDF))
        return com, dg2

    try:
        com, dg2 = conn.run_job(job, Origin.ANALYZER).result(10)
    finally:
        assert access.close(1.0)
    assert com.data == EF_COM and com.sw == 0x9000 and dg2 == DG2
    exchanges = [r for r in store.records() if r.kind is Kind.EXCHANGE]
    plain = [r for r in exchanges if r.unwrapped]
    wire = [r for r in exchanges if not r.unwrapped]
    assert len(plain) == 3 + (len(DG2) + 0xDE) // 0xDF  # every protected command has its plain record
    read_com = next(r for r in plain if r.command == H("00B0000000"))
    protected = next(r for r in wire if r.seq == read_com.parent)
    assert protected.command[0] == 0x0C and protected.command[1] == 0xB0  # CLA with SM bits on the wire
    assert EF_COM not in protected.response and read_com.response == EF_COM + H("9000")
    # The mutual authentication gives the MRZ away to an offline search: hidden both ways at rest.
    authentication = [r for r in exchanges if AUTHENTICATION in r.detail]
    assert authentication[0].command[:2] == H("0082") and len(cryptograms[1]) == 40
    assert all(r.detail == "analyze emrtd" for r in exchanges if r not in authentication)
    def saved(reveal: bool) -> str:
        return "".join(jsonl_line(r, reveal) + text_lines(r, reveal) for r in authentication).replace(" ", "")

    assert all(c.hex().upper() in saved(True) and c.hex().upper() not in saved(False) for c in cryptograms)
