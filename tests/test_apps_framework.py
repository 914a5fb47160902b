"""The analyzer framework (pure): findings traced to their bytes, the session (replies kept,
cancel, changes only when allowed), an analysis that survives a failing analyzer, and the
reports with sensitive values masked in every format."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from explorer.apps.analysis import run_analyzers
from explorer.apps.findings import Finding, Source, mask_value
from explorer.apps.report import analysis_html, analysis_json, analysis_text
from explorer.apps.session import AnalysisSession, Cancelled, NotAllowed
from explorer.core import card_errors as ce
from explorer.core.exchange import Exchange, Origin, Reply

PAN = "5413330089020011"


def reply(command: bytes, response: bytes) -> Reply:
    exchange = Exchange("R", command, response, 0.0, 0.0, Origin.ANALYZER)
    return Reply((exchange,), response[:-2], response[-2] << 8 | response[-1])


def card(apdu: bytes) -> Reply:
    if apdu[1] == 0xB2:  # a record with a PAN in tag 5A
        return reply(apdu, bytes.fromhex("70 0A 5A 08") + bytes.fromhex(PAN) + b"\x90\x00")
    if apdu[1] == 0xA8:
        return reply(apdu, b"\x80\x02\x00\x00\x90\x00")
    return reply(apdu, b"\x6a\x82")


class Payment:
    key, title = "pay", "A payment card"

    def likely(self, atr: bytes) -> bool:
        return False

    def analyze(self, session: AnalysisSession) -> Finding:
        record = session.send(bytes.fromhex("00 B2 01 0C 00"))
        pan = Finding("PAN", PAN, "the card number", Source(record.index, 4, 12), record.data[4:12],
                      sensitive=True)
        children = [pan]
        try:
            session.send(bytes.fromhex("80 A8 00 00 02 83 00 00"), changes_card=True)
        except NotAllowed:
            children.append(Finding("GET PROCESSING OPTIONS", "not sent", "needs --allow-gpo"))
        return Finding(self.title, children=tuple(children))


class Broken:
    key, title = "broken", "A card that goes away"

    def likely(self, atr: bytes) -> bool:
        return False

    def analyze(self, session: AnalysisSession) -> Finding:
        raise ce.CardRemoved("R")


def test_a_finding_points_at_the_bytes_it_came_from_and_a_sensitive_one_is_masked() -> None:
    session = AnalysisSession(card)
    analysis = run_analyzers(session, [Payment()], "R", b"\x3b\x00")
    pan = analysis.results[0].finding.find("PAN")
    assert pan is not None and pan.source is not None
    assert analysis.replies[pan.source.exchange].data[pan.source.start:pan.source.end] == pan.raw
    assert pan.shown() == "••••••••••••0011" and pan.shown(reveal=True) == PAN
    assert mask_value("1234") == "••••"  # too short to keep any of it


def test_a_command_that_changes_the_card_is_not_sent_unless_allowed() -> None:
    sent: list[bytes] = []

    def counting(apdu: bytes) -> Reply:
        sent.append(apdu)
        return card(apdu)

    analysis = run_analyzers(AnalysisSession(counting), [Payment()], "R", b"")
    assert [a[1] for a in sent] == [0xB2]  # no A8 reached the card
    assert analysis.results[0].finding.find("GET PROCESSING OPTIONS") is not None
    sent.clear()
    run_analyzers(AnalysisSession(counting, allow_changes=True), [Payment()], "R", b"")
    assert [a[1] for a in sent] == [0xB2, 0xA8]


def test_a_card_removed_ends_the_analysis_with_what_was_found() -> None:
    analysis = run_analyzers(AnalysisSession(card), [Payment(), Broken(), Payment()], "R", b"")
    assert [r.key for r in analysis.results] == ["pay", "broken"]
    assert "removed" in analysis.results[1].error


def test_cancel_stops_at_the_next_command() -> None:
    session = AnalysisSession(card)
    session.cancel()
    with pytest.raises(Cancelled):
        session.send(b"\x00\xa4\x00\x00")
    analysis = run_analyzers(session, [Payment()], "R", b"")
    assert analysis.cancelled and analysis.results[0].error == "cancelled"


class Keeping:
    """An analyzer that catches a cancel or a card error itself to return what it read before
    (as the file-system analyzer does)."""

    key, title = "keep", "Keeps what it read"

    def likely(self, atr: bytes) -> bool:
        return False

    def analyze(self, session: AnalysisSession) -> Finding:
        found = [Finding("First", "read")]
        try:
            session.send(b"\x00\xb0\x00\x00\x00")
            session.send(b"\x00\xb0\x00\x00\x00")
        except (Cancelled, ce.CardError) as exc:
            found.append(Finding("Stopped", type(exc).__name__))
        return Finding(self.title, children=tuple(found))


def test_an_analyzer_that_keeps_its_findings_on_a_cancel_still_ends_the_analysis_as_cancelled() -> None:
    session = AnalysisSession(lambda apdu: (session.cancel(), card(apdu))[1])
    analysis = run_analyzers(session, [Keeping(), Payment()], "R", b"")
    assert analysis.cancelled and [r.key for r in analysis.results] == ["keep"]
    assert analysis.results[0].error == "cancelled"
    assert analysis.results[0].finding.find("First") is not None  # what it read is kept


def test_an_analyzer_that_keeps_its_findings_when_the_card_goes_still_ends_the_analysis() -> None:
    sent: list[bytes] = []

    def pulled(apdu: bytes) -> Reply:
        sent.append(apdu)
        if len(sent) == 2:
            raise ce.CardRemoved("R")
        return card(apdu)

    analysis = run_analyzers(AnalysisSession(pulled), [Keeping(), Payment()], "R", b"")
    assert [r.key for r in analysis.results] == ["keep"] and len(sent) == 2  # nothing sent after
    assert analysis.results[0].error == "R: the card was removed"
    assert isinstance(analysis.lost, ce.CardRemoved) and not analysis.cancelled
    assert analysis.results[0].finding.find("Stopped") is not None
    # A card error that leaves the card there (one failed command) is the analyzer's to report.
    sent.clear()

    def failing(apdu: bytes) -> Reply:
        sent.append(apdu)
        if len(sent) == 2:
            raise ce.UnresponsiveCard("R")
        return card(apdu)

    analysis = run_analyzers(AnalysisSession(failing), [Keeping(), Payment()], "R", b"")
    assert [r.key for r in analysis.results] == ["keep", "pay"] and analysis.lost is None


def test_reports_mask_the_pan_in_the_findings_and_in_the_exchanges_unless_revealed() -> None:
    analysis = run_analyzers(AnalysisSession(card), [Payment()], "R <b>", b"\x3b\x00")
    spaced = " ".join(PAN[i:i + 2] for i in range(0, 16, 2))
    masked = json.dumps(analysis_json(analysis))
    assert PAN not in masked and spaced not in masked and "0011" in masked
    assert PAN in json.dumps(analysis_json(analysis, reveal=True))
    text = analysis_text(analysis)
    assert PAN not in text and "PAN: ••••••••••••0011  (the card number)" in text
    page = analysis_html(analysis, made_at=0)
    assert PAN not in page and spaced not in page and "R &lt;b&gt;" in page

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen.append(tag)
            assert not any(name.startswith("on") or name in ("src", "href") for name, _ in attrs)

    parser = Tags()
    parser.feed(page)
    assert "script" not in parser.seen and "b" not in parser.seen


def test_a_secure_channel_an_analyzer_opened_ends_with_it() -> None:
    """A passport's BAC channel is that analyzer's: the next analyzer sends in plain."""
    sent: list[tuple[bytes, object]] = []

    def plain(apdu: bytes) -> Reply:
        sent.append((apdu, None))
        return reply(apdu, b"\x90\x00")

    def secure(apdu: bytes, channel: object) -> Reply:
        sent.append((apdu, channel))
        return reply(apdu, b"\x90\x00")

    class Opens:
        key, title = "opens", "Opens a channel"

        def likely(self, atr: bytes) -> bool:
            return False

        def analyze(self, session: AnalysisSession) -> Finding:
            session.secure(channel)  # type: ignore[arg-type]
            session.send(b"\x00\xb0\x00\x00\x04")
            return Finding(self.title)

    class After:
        key, title = "after", "Comes after"

        def likely(self, atr: bytes) -> bool:
            return False

        def analyze(self, session: AnalysisSession) -> Finding:
            session.send(b"\x00\xa4\x04\x00\x00")
            return Finding(self.title)

    channel = object()
    session = AnalysisSession(plain, secure_transmit=secure)
    run_analyzers(session, [Opens(), After()], "R", b"")
    assert sent == [(b"\x00\xb0\x00\x00\x04", channel), (b"\x00\xa4\x04\x00\x00", None)]
