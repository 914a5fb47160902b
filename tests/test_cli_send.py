"""`card-explorer send`, run as a user would (a subprocess) against pcscd + vpcd + the virtual card.

Exit codes under test: 0 success/warning SWs, 1 an error SW, 2 bad usage, bad
APDU or unknown reader (a reader name is input the user typed, like an APDU),
3 no PC/SC service, 4 card error (no card, sharing violation, timeout...).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from explorer.core.link_modes import ShareMode
from explorer.pcsc.session import Session
from explorer.virtual.card import DEFAULT_ATR
from tests.conftest import CardFactory

pytestmark = pytest.mark.pcsc
CLI = [sys.executable, "-m", "explorer"]
SELECT_VISA = "00 A4 04 00 07 A0 00 00 00 04 10 10"


def send(*args: str, stdin: str | None = None, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "send", *args], capture_output=True, text=True, timeout=60,
                          input=stdin, env=env or dict(os.environ))


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def card(apdu: bytes) -> bytes:
    """A small scripted card.

    SELECT -> 9000; 80 CA (GET DATA) -> 4 bytes + 61 04, GET RESPONSE Le 04 -> 4 bytes + 61 02,
    Le 02 -> 2 bytes + 9000 (the proprietary CLA 80 is kept in GET RESPONSE); READ BINARY -> 6C 05
    unless Le = 05; READ RECORD -> 6A 83 (an error); 80 E2 -> 62 83 (a warning); else 6D 00.
    """
    ins = apdu[1]
    if ins == 0xA4:
        return h("9000")
    if apdu[:2] == h("80CA"):
        return h("0102030461 04")
    if ins == 0xC0:
        return {4: h("05060708 6102"), 2: h("090A 9000")}.get(apdu[4], h("6700"))
    if ins == 0xB0:
        return h("1122334455 9000") if apdu[4:] == h("05") else h("6C05")
    if ins == 0xB2:
        return h("6A83")
    if apdu[:2] == h("80E2"):
        return h("6283")
    return h("6D00")


def lines_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.splitlines()


def test_select_answered_9000(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], SELECT_VISA)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = lines_of(result)
    assert out[0].startswith(f"# {readers[0]}  T=") and out[0].endswith(
        "ATR " + " ".join(f"{b:02X}" for b in DEFAULT_ATR))
    assert out[1] == f"> {SELECT_VISA}  [SELECT]"
    assert re.fullmatch(r"< 90 00  \(\d+\.\d\d ms\)", out[2]), out[2]
    assert re.fullmatch(r"  SW 90 00: .+ \[success\]", out[3]), out[3]
    assert len(out) == 4
    assert link.card.received == [h(SELECT_VISA.replace(" ", ""))]


def test_61xx_chain_shown_as_separate_steps(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], "80 CA 9F 7F 00")
    assert result.returncode == 0, result.stderr
    out = lines_of(result)[1:]
    assert out[0] == "> 80 CA 9F 7F 00  [GET DATA]"
    assert out[1].startswith("< 01 02 03 04 61 04  (")
    assert out[2].startswith("  SW 61 04: ") and out[2].endswith("[success]")
    assert out[3] == "  > 80 C0 00 00 04  [get response]"
    assert out[4].startswith("  < 05 06 07 08 61 02  (")
    assert out[5].startswith("    SW 61 02: ")
    assert out[6] == "  > 80 C0 00 00 02  [get response]"
    assert out[7].startswith("  < 09 0A 90 00  (")
    assert out[8].startswith("    SW 90 00: ") and out[8].endswith("[success]")
    assert out[9] == "  data: 10 bytes joined from 3 responses"
    assert out[10].startswith("  final SW 90 00: ")
    assert link.card.received == [h("80CA9F7F00"), h("80C0000004"), h("80C0000002")]


def test_no_get_response_stops_at_61xx(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], "--no-get-response", "80 CA 9F 7F 00")
    assert result.returncode == 0, result.stderr
    assert "[get response]" not in result.stdout
    assert link.card.received == [h("80CA9F7F00")]


def test_6cxx_resent_with_the_right_le(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], "00B0000000")
    assert result.returncode == 0, result.stderr
    out = lines_of(result)[1:]
    assert out[0] == "> 00 B0 00 00 00  [READ BINARY]"
    assert out[1].startswith("< 6C 05  (")
    assert out[2].startswith("  SW 6C 05: ") and out[2].endswith("[warning]")
    assert out[3] == "  > 00 B0 00 00 05  [6Cxx re-send]"
    assert out[4].startswith("  < 11 22 33 44 55 90 00  (")
    assert link.card.received == [h("00B0000000"), h("00B0000005")]

    no_resend = send("--reader", readers[0], "--no-resend", "00B0000000")
    assert no_resend.returncode == 0  # 6C05 is a warning: nothing failed
    assert "[6Cxx re-send]" not in no_resend.stdout
    assert link.card.received[2:] == [h("00B0000000")]


def test_json_output(readers: list[str], insert_card: CardFactory) -> None:
    insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], "--json", "80CA9F7F00", "00 b0 00 00 00")
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in lines_of(result))
    assert first["command"] == "80 CA 9F 7F 00"
    assert [(e["command"], e["response"], e["sw"], e["origin"]) for e in first["exchanges"]] == [
        ("80 CA 9F 7F 00", "01 02 03 04 61 04", "61 04", "cli"),
        ("80 C0 00 00 04", "05 06 07 08 61 02", "61 02", "get response"),
        ("80 C0 00 00 02", "09 0A 90 00", "90 00", "get response"),
    ]
    for e in first["exchanges"]:
        assert isinstance(e["duration_ms"], float) and 0 < e["duration_ms"] < 5000
        assert e["error"] is None
    assert first["data"] == "01 02 03 04 05 06 07 08 09 0A"
    assert (first["sw"], first["severity"]) == ("90 00", "success")
    assert first["explanation"]
    assert second["command"] == "00 B0 00 00 00"
    assert [e["origin"] for e in second["exchanges"]] == ["cli", "6Cxx re-send"]
    assert (second["data"], second["sw"]) == ("11 22 33 44 55", "90 00")


@pytest.mark.parametrize(("bad", "where"), [
    ("00 A4 04 0", "odd number of hex digits: '0' at column 10 has no partner"),  # odd nibble
    ("00 A4 G4 00", "'G' at column 7 is not a hex digit"),
    ("00 A4 04 00 07 A0 00 00 00 04 10", "byte 4 (Lc = 07) announces 7 data bytes but 6 follow"),
])
def test_bad_apdu_sends_nothing(readers: list[str], insert_card: CardFactory, bad: str, where: str) -> None:
    link = insert_card(readers[0], handler=card)
    # The first APDU is fine: it must not be sent either.
    result = send("--reader", readers[0], SELECT_VISA, bad)
    assert result.returncode == 2
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first == f"card-explorer: APDU 2: {where}"
    assert "Traceback" not in result.stderr
    assert link.card.received == []


def test_bad_apdu_points_at_the_fault(readers: list[str], insert_card: CardFactory) -> None:
    insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], "00 A4 G4 00")
    assert result.stderr.splitlines()[1:] == ["  00 A4 G4 00", "        ^"]


def test_no_card_is_a_card_error(readers: list[str]) -> None:
    result = send("--reader", readers[1], SELECT_VISA)
    assert result.returncode == 4
    assert result.stderr.strip() == f"card-explorer: {readers[1]}: there is no card in the reader"


def test_unknown_reader_is_a_usage_error(readers: list[str]) -> None:
    result = send("--reader", "No Such Reader 00 00", SELECT_VISA)
    assert result.returncode == 2
    assert result.stderr.startswith("card-explorer: No Such Reader 00 00: no reader by this name")
    assert readers[0] in result.stderr  # says which readers there are
    assert "Traceback" not in result.stderr


def test_reader_by_unique_part_of_its_name(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[2], handler=card)
    result = send("--reader", "pcd b 00 00", SELECT_VISA)
    assert (readers[2], result.returncode) == ("Virtual PCD B 00 00", 0), result.stderr
    assert len(link.card.received) == 1
    ambiguous = send("--reader", "00 00", SELECT_VISA)
    assert ambiguous.returncode == 2 and "several readers match" in ambiguous.stderr


def test_reader_chosen_when_only_one_has_a_card(readers: list[str], insert_card: CardFactory) -> None:
    nothing = send(SELECT_VISA)
    assert nothing.returncode == 2 and "no reader has a card" in nothing.stderr
    link = insert_card(readers[1], handler=card)
    result = send(SELECT_VISA)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"# {readers[1]}  ")
    assert len(link.card.received) == 1
    other = insert_card(readers[3], handler=card)
    two = send(SELECT_VISA)
    assert two.returncode == 2
    assert two.stderr.strip() == (f"card-explorer: cards are in 2 readers ({readers[1]}, {readers[3]}); "
                                  "choose one with --reader")
    assert len(link.card.received) == 1 and other.card.received == []


def test_stops_at_the_first_error_sw(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], SELECT_VISA, "00 B2 01 0C 00", SELECT_VISA)
    assert result.returncode == 1
    assert "SW 6A 83: " in result.stdout and "[error]" in result.stdout
    assert ("stopped at APDU 2: 6A 83 stops: error at or above the stop level (error); "
            "1 more not sent") in result.stderr
    assert link.card.received == [h(SELECT_VISA.replace(" ", "")), h("00B2010C00")]


def test_keep_going_sends_the_rest_and_still_fails(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], "--keep-going", "--json", SELECT_VISA, "00 B2 01 0C 00",
                  SELECT_VISA)
    assert result.returncode == 1
    assert [json.loads(x)["severity"] for x in lines_of(result)] == ["success", "error", "success"]
    assert len(link.card.received) == 3


def test_warning_sw_is_not_a_failure(readers: list[str], insert_card: CardFactory) -> None:
    insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], "80 E2 00 00 00", SELECT_VISA)
    assert result.returncode == 0, result.stderr
    assert "SW 62 83: " in result.stdout and "[warning]" in result.stdout


def test_apdus_from_stdin(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0], handler=card)
    script = f"# select, then read\n\n{SELECT_VISA}\n   # indented comment\n00B0000005  # exact Le\n"
    result = send("--reader", readers[0], "--json", "-", stdin=script)
    assert result.returncode == 0, result.stderr
    assert [json.loads(x)["command"] for x in lines_of(result)] == [SELECT_VISA, "00 B0 00 00 05"]
    assert link.card.received == [h(SELECT_VISA.replace(" ", "")), h("00B0000005")]


def test_bad_stdin_line_named_by_its_line(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0], handler=card)
    result = send("--reader", readers[0], "-", stdin=f"{SELECT_VISA}\n# comment\n\n00 A4 04\n")
    assert result.returncode == 2
    assert result.stderr.startswith("card-explorer: APDU 2 (stdin line 4): a command APDU needs at least 4")
    assert link.card.received == []


def test_exclusive_holder_gives_sharing_violation(readers: list[str], insert_card: CardFactory) -> None:
    link = insert_card(readers[0], handler=card)
    with Session(readers[0], share=ShareMode.EXCLUSIVE):
        result = send("--reader", readers[0], SELECT_VISA)
    assert result.returncode == 4
    assert result.stderr.startswith(f"card-explorer: {readers[0]}: another application holds this card")
    assert link.card.received == []


def test_silent_card_times_out(readers: list[str], insert_card: CardFactory) -> None:
    answer = threading.Event()

    def silent(apdu: bytes) -> bytes:
        answer.wait(30)
        return h("9000")

    insert_card(readers[0], handler=silent)
    try:
        result = send("--reader", readers[0], "--timeout", "0.5", SELECT_VISA, SELECT_VISA)
    finally:
        answer.set()  # let the card answer, so it can be removed
    assert result.returncode == 4
    assert result.stderr.strip() == f"card-explorer: {readers[0]}: no answer within 0.5 s"
    assert "Traceback" not in result.stderr


def test_without_service(tmp_path: Path) -> None:
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "nothing.comm")}
    result = send("--reader", "Virtual PCD 00 00", SELECT_VISA, env=env)
    assert result.returncode == 3
    assert "PC/SC service not available" in result.stderr
    assert "Traceback" not in result.stderr
