"""The layers of DESIGN.md, enforced: import-linter contracts plus a Qt check
that import-linter cannot express (it forbids only top-level external packages)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "explorer"
WIDGET_MODULES = ("PySide6.QtWidgets", "PySide6.QtGui")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_import_contracts() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_only_ui_imports_qtwidgets_and_qtgui() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if PACKAGE / "ui" in path.parents:
            continue
        bad = {n for n in _imports(path) if n.startswith(WIDGET_MODULES)}
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders


def test_check_would_catch_an_offender(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from PySide6.QtWidgets import QLabel\nfrom PySide6 import QtGui\n")
    assert {"PySide6.QtWidgets", "PySide6.QtGui"} <= _imports(sample)


def test_only_pcsc_imports_pyscard() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                 if PACKAGE / "pcsc" not in p.parents
                 and any(n == "smartcard" or n.startswith("smartcard.") for n in _imports(p))]
    assert not offenders


def test_ruff_and_mypy_clean() -> None:
    bin_dir = Path(sys.executable).parent
    ruff = subprocess.run([str(bin_dir / "ruff"), "check", "explorer", "tests", "bench"],
                          cwd=ROOT, capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    mypy = subprocess.run([str(bin_dir / "mypy"), "explorer/core", "explorer/link", "explorer/pcsc",
                           "explorer/virtual", "explorer/trace", "explorer/cli", "explorer/script",
                           "explorer/apps", "explorer/services"],
                          cwd=ROOT, capture_output=True, text=True)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
