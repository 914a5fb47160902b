"""`make test` runs every bench script once at a small size. The test checks
that it runs and prints its JSON line; the goals are judged at full size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.testbed import PcscBed

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.pcsc
@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py")))
def test_bench_runs_small(script: str, bed: PcscBed) -> None:
    result = subprocess.run([sys.executable, str(BENCH / script), "--small"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(figures["ok"], bool) and figures["goals"]
    assert "error" not in figures, figures["error"]
    print(result.stdout)
