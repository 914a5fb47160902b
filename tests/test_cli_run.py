"""`card-explorer run` on an in-process virtual reader (--profile demo): no PC/SC service needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = """\
# The demo card (its profile: resources/cards/demo.json)
reset cold atr 3B 8E 80 01 *
test "SELECT the demo application" req DEMO-1
  00 A4 04 00 08 F0 43 41 52 44 45 58 50 00
  expect 90 00
  expect tlv 6F/84 = F0 43 41 52 44 45 58 50
  capture AID tlv 6F/84
  00 A4 04 00 08 ${AID}
  expect 61 xx | 90 00
end
test "PIN 81" continue
  00 20 00 81 08 ${PIN}
  expect 90 00
end
"""


def run(tmp_path: Path, *args: str, script: str = DEMO) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "demo.apdu"
    path.write_text(script, encoding="utf-8")
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    return subprocess.run([sys.executable, "-m", "explorer", "run", "--profile", "demo", *args, str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_every_expectation_met_exits_0(tmp_path: Path) -> None:
    result = run(tmp_path, "--var", "PIN=31 32 33 34 FF FF FF FF")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("RESET (cold)  ATR 3B 8E 80 01 80 31 C0 73 F6 01 00 56 43 45 44 65 6D 6F 89"
                             "  passed")
    assert "demo.apdu:12  > 00 20 00 81 08 •• •• •• •• •• •• •• ••  < 90 00  passed" in lines[-2]
    assert "31 32 33 34" not in result.stdout  # the PIN is masked in the output
    assert lines[-1].endswith("4 passed, 0 failed, 0 error(s); 2 test case(s): passed")


def test_a_failed_expectation_exits_1_and_says_expected_and_got(tmp_path: Path) -> None:
    result = run(tmp_path, "--var", "PIN=3030303030303030")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "    ! expected SW 90 00, got 63 C2" in result.stdout


def test_a_bad_script_exits_2_before_anything_is_sent(tmp_path: Path) -> None:
    result = run(tmp_path, script="00 A4 04 00 02 3F 00\nexpect 9G 00\n00 A4 04 00 05 3F 00\n")
    assert result.returncode == 2 and result.stdout == ""
    errors = result.stderr.splitlines()
    assert errors[0].endswith("demo.apdu:2:9: error: 'G' is not a hex digit or x (any)")
    assert "demo.apdu:3:13: error: byte 4 (Lc = 05) announces 5 data bytes but 2 follow" in errors[1]
    assert errors[-1] == "card-explorer run: nothing was sent: 1 script(s) with errors"


def test_json_lines_one_object_per_command(tmp_path: Path) -> None:
    result = run(tmp_path, "--json", "--var", "PIN=31323334FFFFFFFF")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["verdict"] for o in objects] == ["passed"] * 5 and objects[-1]["kind"] == "run"
    assert objects[1]["case"] == "SELECT the demo application" and objects[1]["sw"] == "90 00"
    assert objects[1]["data"].startswith("6F")


def test_a_bad_var_is_usage(tmp_path: Path) -> None:
    result = run(tmp_path, "--var", "PIN=31 3G")
    assert result.returncode == 2 and "--var PIN: 'G' at column 5 is not a hex digit" in result.stderr


def test_junit_report_reads_back_with_the_right_counts(tmp_path: Path) -> None:
    import stat

    from junitparser import Error, Failure, JUnitXml

    script = DEMO + """\
00 A4 04 00 08 F0 43 41 52 44 45 58 50 00
expect 6A 82
"""
    report = tmp_path / "report.xml"
    result = run(tmp_path, "--keep-going", "--junit", str(report), "--var", "PIN=3030303030303030",
                 script=script)
    assert result.returncode == 1, result.stdout + result.stderr
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    xml = JUnitXml.fromfile(str(report))
    (suite,) = list(xml)
    cases = list(suite)
    # In script order: the reset and the last command outside blocks are cases of their own.
    assert [c.name for c in cases][1:3] == ["SELECT the demo application", "PIN 81"]
    assert cases[0].name.endswith("demo.apdu:2 RESET (cold)")
    assert (suite.tests, suite.failures, suite.errors) == (4, 2, 0)
    pin = cases[2]
    (failure,) = pin.result
    assert isinstance(failure, Failure) and failure.message == "expected SW 90 00, got 63 C2"
    assert not any(isinstance(r, Error) for c in cases for r in c.result)
    text = report.read_text(encoding="utf-8")
    assert "30 30 30 30" not in text and "00 20 00 81 08 •• ••" in text  # the PIN masked in system-out
    assert '<property name="requirement" value="DEMO-1"' in text


def test_the_shipped_example_scripts_pass_on_the_demo_card(tmp_path: Path) -> None:
    scripts = sorted((ROOT / "resources" / "scripts").glob("*.apdu"))
    assert [p.name for p in scripts] == ["demo-card.apdu", "iso7816-basics.apdu", "scriptor-style.apdu"]
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    result = subprocess.run([sys.executable, "-m", "explorer", "run", "--profile", "demo",
                             "--var", "PIN=31323334FFFFFFFF", *map(str, scripts)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    summaries = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    assert len(summaries) == 4 and all(line.endswith("passed") for line in summaries)
    assert summaries[-1] == "# 3 runs: 3 passed"


def test_trace_file_keeps_every_exchange_with_the_pin_masked(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    trace = folder / "run.jsonl"
    trace.write_text("an older file by this name is replaced\n")
    result = run(tmp_path, "--var", "PIN=31323334FFFFFFFF", "--trace", str(trace))
    assert result.returncode == 0, result.stderr
    from explorer.trace.journal import read_journal

    contents = read_journal(trace)
    assert contents.header["secrets"] == "masked" and not contents.problems
    commands = [r.command for r in contents.records if r.command]
    assert bytes.fromhex("00 20 00 81 08 00 00 00 00 00 00 00 00") in commands  # zeroed, and said so
    assert b"1234" not in trace.read_bytes() and "31 32 33 34" not in trace.read_text()
    assert all(r.detail.startswith(str(tmp_path / "demo.apdu")) for r in contents.records
               if r.origin == "script")
    assert trace.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o755  # the user's folder is theirs: left alone
    revealed = run(tmp_path, "--var", "PIN=31323334FFFFFFFF", "--trace", str(trace), "--reveal-secrets")
    assert revealed.returncode == 0 and read_journal(trace).header["secrets"] == "revealed"
    assert bytes.fromhex("00 20 00 81 08 31 32 33 34 FF FF FF FF") in [r.command for r in
                                                                     read_journal(trace).records]


def test_repeat_runs_every_script_n_times(tmp_path: Path) -> None:
    result = run(tmp_path, "--var", "PIN=31323334FFFFFFFF", "--repeat", "3", "--json")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3 * (4 + 1)  # 4 results and a summary per round
    text = run(tmp_path, "--var", "PIN=31323334FFFFFFFF", "--repeat", "2").stdout
    assert [line.split(":")[0][-7:] for line in text.splitlines() if line.startswith("# ")][:2] == [
        "round 1", "round 2"]


@pytest.mark.parametrize(("args", "words"), [
    (["--each-card"], "--profile runs on its own virtual reader"),
    (["--repeat", "0"], "--repeat and --cards take a number from 1"),
    (["--cards", "2"], "--cards goes with --each-card"),
    (["--trace", "/nonexistent/dir/t.jsonl"], "--trace /nonexistent/dir/t.jsonl: No such file"),
])
def test_usage_errors_exit_2_before_anything_is_sent(tmp_path: Path, args: list[str], words: str) -> None:
    result = run(tmp_path, "--var", "PIN=00", *args)
    assert result.returncode == 2 and words in result.stderr and result.stdout == ""


def test_a_command_marked_secret_is_masked_in_the_output_the_trace_and_junit(tmp_path: Path) -> None:
    # PUT DATA is no PIN command by its INS: only the mark says its data is a key.
    script = "secret 00 DA 01 01 04 11 22 33 44\nexpect 6A 81 | 6A 88 | 6D 00 | 90 00 | 69 82 | 6A 80\n"
    trace, junit = tmp_path / "t.jsonl", tmp_path / "j.xml"
    result = run(tmp_path, "--trace", str(trace), "--junit", str(junit), script=script)
    assert result.returncode in (0, 1), result.stderr
    assert "00 DA 01 01 04 •• •• •• ••" in result.stdout
    for text in (result.stdout, trace.read_text(), junit.read_text()):
        assert "11 22 33 44" not in text and "11223344" not in text.replace(" ", "")
    from explorer.trace.journal import read_journal

    records = [r for r in read_journal(trace).records if r.command]
    assert records[0].command == bytes.fromhex("00 DA 01 01 04 00 00 00 00")
    assert "secret (marked in the script)" in records[0].detail


def test_output_closed_early_stops_the_run_quietly(tmp_path: Path) -> None:
    """`card-explorer run … | head -1`: the run stops (130: not every result was read), no traceback."""
    path = tmp_path / "demo.apdu"
    path.write_text("repeat 100000\n00 84 00 00 08\nend\n", encoding="utf-8")
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "run", "--profile", "demo", str(path)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().endswith("passed\n")
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 130
    assert "Traceback" not in err and "Error" not in err, err
