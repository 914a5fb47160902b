"""The wheel and the sdist, installed as a user would (not editable), away from the checkout.

`python -m build` makes the sdist and then the wheel *from the sdist*, so a file
the sdist forgets is missing from the wheel too. The wheel goes into a fresh
venv with `pip install --no-deps`; the dependencies come from this venv through
a path line (no download in the suite), and the wheel's own requirements are
checked against them. Then, from a directory outside the checkout:
`emulate demo` finds its bundled profile, `atr` names a card from the bundled
smartcard_list.txt when the system has none, and the GUI starts offscreen
without PC/SC on the demo card (packaging/smoke.py's checks, which the bundle
passes too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))
import smoke  # noqa: E402

SYSTEM_LIST = Path("/usr/share/pcsc/smartcard_list.txt")
RESOURCES = ("explorer/resources/smartcard_list.txt", "explorer/resources/smartcard_list.LICENSE.md",
             "explorer/resources/cards/demo.json", "explorer/resources/cards/README.md",
             "explorer/resources/icons/card-explorer-256.png", "explorer/resources/scripts/demo-card.apdu")


class Installed:
    def __init__(self, venv: Path, wheel: Path, sdist: Path, workdir: Path) -> None:
        self.venv, self.wheel, self.sdist, self.workdir = venv, wheel, sdist, workdir
        self.python = venv / "bin" / "python"
        self.exe = venv / "bin" / "card-explorer"

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in (env or os.environ).items() if k != "PYTHONPATH"}
        return subprocess.run(list(args), capture_output=True, text=True, timeout=120,
                              cwd=self.workdir, env=clean, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out / "dist"),
                            str(ROOT)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = (out / "dist").glob("*.whl")
    [sdist] = (out / "dist").glob("*.tar.gz")
    venv = out / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                          "--no-deps", "--no-index", "--no-cache-dir", "-q", str(wheel)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    # The dependencies: this venv's site-packages, after the fresh venv's own. A path
    # line does not run the .pth files there, so the checkout's editable install stays out.
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print("
                                "sysconfig.get_path('purelib'))"], capture_output=True, text=True,
                               check=True).stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    workdir = out / "elsewhere"
    workdir.mkdir()
    yield Installed(venv, wheel, sdist, workdir)
    shutil.rmtree(out, ignore_errors=True)


def test_wheel_and_sdist_carry_the_resources(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert set(RESOURCES) <= names, sorted(set(RESOURCES) - names)
    listing = subprocess.run(["tar", "tzf", str(installed.sdist)], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    top = listing[0].split("/")[0]
    for rel in RESOURCES:
        assert f"{top}/{rel.removeprefix('explorer/')}" in listing, rel


def test_installed_package_is_the_wheel_and_its_requirements_hold(installed: Installed) -> None:
    probe = installed.run(str(installed.python), "-c", (
        "import explorer, explorer.assets as a, importlib.metadata as m, sys\n"
        "from packaging.requirements import Requirement\n"
        "print(explorer.__file__); print(a.asset_path('cards', 'demo.json'))\n"
        "for r in map(Requirement, m.requires('card-explorer')):\n"
        "    if r.marker is None or r.marker.evaluate({'extra': ''}):\n"
        "        v = m.version(r.name)\n"
        "        print(r, v, r.specifier.contains(v, prereleases=True))\n"))
    assert probe.returncode == 0, probe.stderr
    lines = probe.stdout.splitlines()
    site = str(installed.venv)
    assert lines[0].startswith(site) and lines[1].startswith(site), lines[:2]
    requirements = lines[2:]
    assert len(requirements) >= 4, requirements
    assert all(line.endswith(" True") for line in requirements), requirements


def test_emulate_demo_finds_its_profile(installed: Installed) -> None:
    smoke.check_profile(installed.exe)


def test_atr_names_a_card_from_the_bundled_list(installed: Installed) -> None:
    cmd = [str(installed.exe), "atr", "3B 02 14 50"]
    if SYSTEM_LIST.exists():
        # As on a machine without pcsc-tools: the installed CLI, with the system's
        # path pointing at nothing (the clean-root .deb test runs it on a real one).
        cmd = [str(installed.python), "-c",
               "import sys, pathlib, explorer.core.atrdb as db, explorer.cli as cli\n"
               "db.SYSTEM_PATH = pathlib.Path('/nonexistent/smartcard_list.txt')\n"
               "sys.exit(cli.main(sys.argv[1:]))", "atr", "3B 02 14 50"]
    result = installed.run(*cmd)
    assert result.returncode == 0, result.stderr
    bundled = f"Identification ({installed.venv}"
    assert bundled in result.stdout and "explorer/resources/smartcard_list.txt)" in result.stdout, \
        result.stdout
    # An exact entry of the list.
    assert "Schlumberger Multiflex 3k" in result.stdout


@pytest.mark.timeout(180)
def test_gui_starts_offscreen_on_the_demo_card_without_pcsc(installed: Installed) -> None:
    smoke.check_gui(installed.exe)
