"""`card-explorer run` on the real stack (pcscd + vpcd + virtual cards), run as a user would:
against pcsc-tools' scriptor on the same card, a card pulled mid-script, every card of a
stack, four readers at once."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from junitparser import JUnitXml

from explorer.core.exchange import Origin
from explorer.trace.journal import read_journal
from explorer.trace.records import Kind
from explorer.virtual.card import DEFAULT_ATR, Handler, with_tck
from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import demo_profile
from tests.conftest import CardFactory, running, wait_reader

pytestmark = pytest.mark.pcsc
ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "explorer", "run"]
SCRIPTOR_STYLE = ROOT / "resources" / "scripts" / "scriptor-style.apdu"


def counting(n: int) -> bytes:
    """The card's "random" bytes, the same in every run: the two clients must get the same answers."""
    return bytes(range(n))


def demo_card() -> FileSystemCard:
    return FileSystemCard(demo_profile(), random=counting)


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def scriptor_exchanges(output: str) -> list[tuple[bytes, bytes]]:
    """(command, response) pairs from scriptor's "> command" / "< response : meaning" lines
    (a response over 16 bytes goes on over several lines, the meaning after the last)."""
    pairs: list[tuple[bytes, bytes]] = []
    command: bytes | None = None
    answer: str | None = None
    for line in output.splitlines():
        if answer is not None:
            answer += " " + line
        elif line.startswith("> ") and line != "> RESET":
            command = bytes.fromhex(line[2:])
        elif line.startswith("< ") and command is not None:
            answer = line[2:]
        if answer is not None and command is not None and " : " in answer:
            pairs.append((command, bytes.fromhex(answer.split(" : ")[0])))
            command = answer = None
    return pairs


@pytest.mark.skipif(shutil.which("scriptor") is None, reason="pcsc-tools' scriptor is not installed")
def test_the_scriptor_style_script_sends_and_gets_what_scriptor_does(
        readers: list[str], insert_card: CardFactory, tmp_path: Path) -> None:
    profile = demo_profile()
    insert_card(readers[0], atr=profile.atr, handler=demo_card())
    theirs = subprocess.run(["scriptor", "-r", readers[0], str(SCRIPTOR_STYLE)], capture_output=True,
                            text=True, timeout=60)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    expected = scriptor_exchanges(theirs.stdout)
    assert len(expected) == 3, theirs.stdout  # SELECT, READ BINARY, GET CHALLENGE

    trace = tmp_path / "run.jsonl"
    ours = run("--reader", readers[0], "--trace", str(trace), str(SCRIPTOR_STYLE))
    assert ours.returncode == 0, ours.stdout + ours.stderr
    records = read_journal(trace).records
    # What the script wrote, as sent; GET RESPONSE after a 61xx is ours on top (scriptor has none).
    sent = [(r.command, r.response) for r in records
            if r.kind is Kind.EXCHANGE and r.origin == Origin.SCRIPT.value]
    assert sent == expected
    assert all(r.detail.startswith(str(SCRIPTOR_STYLE)) for r in records
               if r.kind is Kind.EXCHANGE and r.origin == Origin.SCRIPT.value)
    assert trace.stat().st_mode & 0o777 == 0o600


EXPECTING = """\
00 A4 04 00 08 F0 43 41 52 44 45 58 50 00
expect 61 xx | 90 00
00 84 00 00 08
expect data 00 01 0x 03 *
expect length 8
00 84 00 00 08
expect 9x 0x
00 84 00 00 04
expect data 00 01 02 03 04
"""


def test_wildcards_pass_and_fail_where_they_should_on_a_card(
        readers: list[str], insert_card: CardFactory, tmp_path: Path) -> None:
    insert_card(readers[0], atr=demo_profile().atr, handler=demo_card())
    script = tmp_path / "expect.apdu"
    script.write_text(EXPECTING, encoding="utf-8")
    result = run("--reader", readers[0], "--keep-going", "--json", str(script))
    assert result.returncode == 1, result.stdout + result.stderr
    verdicts = [(o["line"], o["verdict"]) for o in map(json.loads, result.stdout.splitlines())
                if o["kind"] == "result"]
    assert verdicts == [(1, "passed"), (3, "passed"), (6, "passed"), (8, "failed")]


def test_a_capture_feeds_a_later_command(readers: list[str], insert_card: CardFactory,
                                         tmp_path: Path) -> None:
    received: list[bytes] = []
    card = demo_card()

    def handler(apdu: bytes) -> bytes:
        received.append(apdu)
        return card(apdu)

    insert_card(readers[0], atr=demo_profile().atr, handler=handler)
    script = tmp_path / "capture.apdu"
    script.write_text("00 84 00 00 04\ncapture CH data 1 2\n80 EE 00 00 02 ${CH}\nexpect 6D 00 | 6E 00\n",
                      encoding="utf-8")
    result = run("--reader", readers[0], str(script))
    assert result.returncode == 0, result.stdout + result.stderr
    assert received[-1] == bytes.fromhex("80 EE 00 00 02 01 02")


def test_a_card_pulled_mid_script_is_a_card_error_with_the_results_so_far_and_the_trace(
        readers: list[str], insert_card: CardFactory, tmp_path: Path) -> None:
    link = insert_card(readers[0], atr=demo_profile().atr, handler=demo_card())
    script = tmp_path / "long.apdu"
    script.write_text("repeat 100000\n00 84 00 00 08\nend\n", encoding="utf-8")
    trace = tmp_path / "pulled.jsonl"
    with running([*CLI, "--reader", readers[0], "--json", "--trace", str(trace), str(script)]) as proc:
        assert proc.stdout is not None
        for _ in range(50):  # the script is under way
            assert json.loads(proc.stdout.readline())["verdict"] == "passed"
        link.remove()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 4, err
    objects = [json.loads(line) for line in out.splitlines()]
    assert objects[-1]["kind"] == "run" and objects[-1]["verdict"] == "error"
    results = [o for o in objects if o["kind"] == "result" and o["verdict"] != "skipped"]
    assert results[-1]["verdict"] == "error" and "removed" in " ".join(results[-1]["failures"])
    assert all(r["verdict"] == "passed" for r in results[:-1])
    records = read_journal(trace).records
    exchanges = [r for r in records if r.kind is Kind.EXCHANGE]
    assert len(exchanges) >= 50 + len(results) - 1  # every passed command is in the trace
    assert exchanges[-1].error  # and the one the card was pulled under, with its error


def test_each_card_runs_on_three_cards_inserted_one_after_another(
        readers: list[str], insert_card: CardFactory, tmp_path: Path) -> None:
    script = tmp_path / "stack.apdu"
    script.write_text('test "challenge"\n00 84 00 00 08\nexpect length 8\nend\n', encoding="utf-8")
    junit = tmp_path / "stack.xml"
    atrs = [with_tck(DEFAULT_ATR[:-2] + bytes([n])) for n in (1, 2, 3)]
    with running([*CLI, "--reader", readers[0], "--each-card", "--cards", "3", "--junit", str(junit),
                  str(script)]) as proc:
        assert proc.stderr is not None
        for n, atr in enumerate(atrs, 1):
            line = proc.stderr.readline()
            assert "waiting for" in line, line
            link = insert_card(readers[0], atr=atr, wait=False)
            line = proc.stderr.readline()
            assert f"card {n}: ATR {atr.hex(' ').upper()}" in line, line
            # The card's run is over when its summary is out; then the card goes.
            while not (summary := proc.stdout.readline()).startswith("# "):  # type: ignore[union-attr]
                assert summary, "no summary"
            assert summary.rstrip().endswith(
                f"card {n}: 1 passed, 0 failed, 0 error(s); 1 test case(s): passed")
            link.remove()
            wait_reader(readers[0], present=False)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.splitlines()[-1] == "# 3 runs: 3 passed"
    text = junit.read_text(encoding="utf-8")
    assert [f"card {n}" in text for n in (1, 2, 3)] == [True] * 3


def test_four_readers_run_in_parallel(readers: list[str], insert_card: CardFactory, tmp_path: Path) -> None:
    # Each card holds its first answer until all four have a command: run one reader after
    # another, and the first card waits in vain (its barrier breaks: the command fails).
    barrier = threading.Barrier(4, timeout=20)
    def handler_for(card: FileSystemCard) -> Handler:
        first = [True]

        def handle(apdu: bytes) -> bytes:
            if first[0]:
                first[0] = False
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    return b"\x6F\x00"
            return card(apdu)
        return handle

    for reader in readers[:4]:
        insert_card(reader, atr=demo_profile().atr, handler=handler_for(demo_card()))
    script = tmp_path / "four.apdu"
    script.write_text("repeat 200\n00 84 00 00 08\nexpect 90 00\nend\n", encoding="utf-8")
    html, junit = tmp_path / "four.html", tmp_path / "four.xml"
    result = run("--all-readers", "--json", "--html", str(html), "--junit", str(junit), str(script))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    per_reader: dict[str, int] = {}
    for line in result.stdout.splitlines():
        if (o := json.loads(line))["kind"] == "result":
            per_reader[o["reader"]] = per_reader.get(o["reader"], 0) + 1
    assert per_reader == {reader: 200 for reader in readers[:4]}
    suites = JUnitXml.fromfile(str(junit))
    assert sorted(suite.name for suite in suites) == sorted(f"{script} on {r}" for r in readers[:4])
    assert all(suite.tests == 200 and suite.failures == 0 for suite in suites)
    page = html.read_text(encoding="utf-8")
    assert all(reader in page for reader in readers[:4]) and "<script" not in page


def test_reader_names_are_checked_before_anything_is_sent(readers: list[str]) -> None:
    result = run("--reader", "no such reader", str(SCRIPTOR_STYLE))
    assert result.returncode == 2 and re.search(r"no such reader: no reader by this name", result.stderr)
    twice = run("--reader", readers[0], "--reader", readers[0], str(SCRIPTOR_STYLE))
    assert twice.returncode == 2 and "named twice" in twice.stderr
