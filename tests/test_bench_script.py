"""bench/script.py judges its goals from its figures, and without pcsc-tools it skips the scriptor
part and says so instead of failing (tests/test_bench.py runs it on the bed in --small)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

PASSING = {"ratio_cli": 1.05, "ratio_window": 1.1, "gap_ms": 20.0, "ratio_parallel": 0.95,
           "ratio_scriptor": 0.9}


def test_without_scriptor_its_part_is_skipped_with_a_note(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    bench = importlib.import_module("bench.script")
    monkeypatch.setattr(bench.shutil, "which", lambda name: None)
    figures = bench.against_scriptor(None, "Virtual PCD 00 00", tmp_path, 10, 1)
    assert figures == {"scriptor_skipped": "scriptor (pcsc-tools) is not installed"}
    ok, goals = bench.verdict({**PASSING, "ratio_scriptor": 9.9, **figures})
    assert ok and goals["ratio_scriptor_max"] == 1.0


@pytest.mark.parametrize(("name", "value"), [("ratio_cli", 1.2), ("ratio_window", 1.2), ("gap_ms", 60.0),
                                              ("ratio_parallel", 0.8), ("ratio_scriptor", 1.3)])
def test_each_goal_missed_is_not_ok(name: str, value: float) -> None:
    bench = importlib.import_module("bench.script")
    assert bench.verdict(PASSING)[0]
    assert not bench.verdict({**PASSING, name: value})[0]
    assert not bench.verdict({"error": "RuntimeError: no bed"})[0]
