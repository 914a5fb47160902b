"""`card-explorer` subcommands, run as a user would, against the test bed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import __version__
from explorer.virtual.card import DEFAULT_ATR
from tests.conftest import CardFactory, running

pytestmark = pytest.mark.pcsc
CLI = [sys.executable, "-m", "explorer"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60,
                          env=env or dict(os.environ))


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == f"card-explorer {__version__}"  # then versions and paths


def test_readers_json(readers: list[str], insert_card: CardFactory) -> None:
    insert_card(readers[1])
    result = run_cli("readers", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [r["reader"] for r in listed] == readers
    by_name = {r["reader"]: r for r in listed}
    assert by_name[readers[1]] == {"reader": readers[1], "card_present": True,
                                   "atr": " ".join(f"{b:02X}" for b in DEFAULT_ATR),
                                   "state": []}
    for name in (readers[0], readers[2], readers[3]):
        assert by_name[name]["card_present"] is False and by_name[name]["atr"] is None


def test_readers_text(readers: list[str], insert_card: CardFactory) -> None:
    insert_card(readers[0])
    result = run_cli("readers")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{readers[0]}: 3B 8C 80 01")
    assert lines[1] == f"{readers[1]}: no card"


def test_readers_without_service(tmp_path: Path) -> None:
    # pcsc-lite's client honours PCSCLITE_CSOCK_NAME: point it at nothing.
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "nothing.comm")}
    result = run_cli("readers", "--json", env=env)
    assert result.returncode == 3
    assert "PC/SC service not available" in result.stderr
    assert "Traceback" not in result.stderr


def test_monitor_prints_events_until_interrupted(readers: list[str], insert_card: CardFactory) -> None:
    with running([*CLI, "monitor", "--json"]) as proc:
        assert proc.stdout is not None
        lines = [json.loads(proc.stdout.readline()) for _ in range(1 + len(readers))]
        assert lines[0]["event"] == "ServiceRestored" and lines[0]["initial"] is True
        assert [x["reader"] for x in lines[1:]] == readers
        assert all(x["event"] == "ReaderAdded" for x in lines[1:])
        link = insert_card(readers[2], wait=False)
        inserted = json.loads(proc.stdout.readline())
        assert inserted["event"] == "CardInserted" and inserted["reader"] == readers[2]
        assert inserted["atr"] == " ".join(f"{b:02X}" for b in DEFAULT_ATR)
        link.remove()
        removed = json.loads(proc.stdout.readline())
        assert (removed["event"], removed["reader"]) == ("CardRemoved", readers[2])
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        _, err = proc.communicate(timeout=10)
    assert (proc.returncode, err) == (130, "")  # interrupted, as every command is


def test_monitor_text_format(readers: list[str]) -> None:
    with running([*CLI, "monitor"]) as proc:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert first.split(None, 2)[2].strip() == "service  PC/SC service available"
    assert second.split(None, 2)[2].strip().startswith(f"reader+  {readers[0]}  ready")
    assert proc.returncode == 0  # SIGTERM is a request to stop, not an interruption
