"""The PyInstaller bundle (packaging/): built once per session, then smoke-tested.

The build goes to a temporary directory (PyInstaller's --distpath/--workpath),
so the checkout stays clean, and is removed at the end of the session (~115 MB).
CARD_EXPLORER_SKIP_BUNDLE=1 skips it (the build takes ~10 s on two cores).
packaging/smoke.py does the checking; `readers --json` sees the test bed's
readers through the system's libpcsclite, which the bundle must not carry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.testbed import PcscBed

pytestmark = pytest.mark.pcsc
ROOT = Path(__file__).resolve().parent.parent
BUDGET_MB = 150


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.environ.get("CARD_EXPLORER_SKIP_BUNDLE") == "1":
        pytest.skip("CARD_EXPLORER_SKIP_BUNDLE=1")
    out = tmp_path_factory.mktemp("bundle")
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build.py"),
         "--distpath", str(out / "dist"), "--workpath", str(out / "build")],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield out / "dist" / "card-explorer"
    shutil.rmtree(out, ignore_errors=True)


@pytest.mark.timeout(900)
def test_bundle_smoke(bundle: Path, bed: PcscBed) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "smoke.py"), str(bundle),
                             "--readers-json"], capture_output=True, text=True, timeout=300)
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    report = json.loads(lines[-1])
    assert report["ok"], report["problems"]
    assert result.returncode == 0
    assert {"files", "libs", "version", "profile", "gui", "readers"} <= report["checks"].keys()
    assert isinstance(report["build_s"], float)
    assert isinstance(report["bundle_mb"], float)
    assert report["bundle_mb"] <= BUDGET_MB, f"bundle is {report['bundle_mb']} MB"
    # The bundle's pyscard, on the system's libpcsclite, sees the bed's readers.
    readers = subprocess.run([str(bundle / "card-explorer"), "readers", "--json"],
                             capture_output=True, text=True, timeout=60)
    assert readers.returncode == 0, readers.stderr
    assert [r["reader"] for r in json.loads(readers.stdout)] == bed.reader_names
