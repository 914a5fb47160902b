"""The .deb (packaging/deb.py): lintian clean, then installed in a clean Debian 12 root.

The clean root (tests/cleanroot.py) is a debootstrap minbase: no GTK, no X,
no Python, nothing installed by hand. There `apt-get install ./card-explorer_*.deb`
must resolve every dependency from the archive, and the installed app must
work before any test tool is added: every bundled file's libraries resolve
(ldd, the only tool used, is in libc-bin), `--version`, `atr --json` on the
bundled card list, `readers` exits 3 (no service: libpcsclite loaded and
found no pcscd), and the GUI comes up offscreen on the virtual reader with
the demo card and no Fontconfig error. Then a dependency is taken away
(`dpkg --remove --force-depends libwayland-cursor0`) and the same ldd pass must
fail and name that package: proof that a Depends line missing from the .deb
would fail this test. Last, `dpkg --purge` must leave none of the package's
files. Without root, debootstrap or a reachable Debian archive the test is
skipped, saying why; it never passes without having run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cleanroot import CleanRoot, Unavailable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))
from debian_packages import package_for  # noqa: E402

VIRTUAL_READER = "Card Explorer Virtual Reader"
# Every ELF file of the bundle, with the library path the bootloader sets; prints
# "FILE: SONAME" for each library that does not resolve. Shell only: the root has no Python.
LDD_PASS = r"""
cd /opt/card-explorer
export LD_LIBRARY_PATH=/opt/card-explorer/_internal
find . -type f | while read -r f; do
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  echo "$f" >> /tmp/ldd-checked
  ldd "$f" 2>/dev/null | sed -n "s|^[[:space:]]*\([^ ]*\) => not found.*|$f: \1|p"
done
echo "ldd pass done: $(wc -l < /tmp/ldd-checked) files"
rm -f /tmp/ldd-checked
"""


@pytest.fixture(scope="module")
def deb(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, object]]]:
    out = tmp_path_factory.mktemp("deb")
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "deb.py"), "--bundle", str(bundle),
                             "--out", str(out), "--level", "1", "--lintian"],
                            capture_output=True, text=True, timeout=900)
    assert result.stdout.strip(), result.stderr[-3000:]
    info = json.loads(result.stdout.strip().splitlines()[-1])
    info["stderr"] = result.stderr
    yield Path(str(info["deb"])), info
    for path in out.iterdir():
        path.unlink()


def test_deb_contents_and_lintian(deb: tuple[Path, dict[str, object]]) -> None:
    path, info = deb
    lintian = info["lintian"]
    assert isinstance(lintian, dict) and lintian["errors_warnings"] == 0, info["stderr"]
    assert info["ok"] is True
    listing = subprocess.run(["dpkg-deb", "--contents", str(path)], capture_output=True, text=True,
                             check=True).stdout
    for expected in ("./opt/card-explorer/card-explorer", "./usr/bin/card-explorer -> /opt/card-explorer/",
                     "./usr/share/applications/card-explorer.desktop",
                     "./usr/share/icons/hicolor/16x16/apps/card-explorer.png",
                     "./usr/share/icons/hicolor/256x256/apps/card-explorer.png",
                     "./usr/share/icons/hicolor/scalable/apps/card-explorer.svg",
                     "./usr/share/metainfo/org.cardexplorer.CardExplorer.metainfo.xml",
                     "./usr/share/man/man1/card-explorer.1.gz", "./usr/share/doc/card-explorer/copyright",
                     "./opt/card-explorer/_internal/explorer/resources/cards/demo.json"):
        assert expected in listing, expected
    for absent in ("libssl", "libcrypto", "libpcsclite"):
        assert absent not in listing, absent
    fields = subprocess.run(["dpkg-deb", "--field", str(path), "Depends", "Recommends", "Suggests"],
                            capture_output=True, text=True, check=True).stdout
    assert "libwayland-cursor0" in fields and "libpcsclite1" in fields and "fontconfig-config" in fields
    assert "Recommends: pcscd, pcsc-tools" in fields and "Suggests: vsmartcard-vpcd" in fields


def _missing_libraries(root: CleanRoot) -> list[str]:
    result = root.run(LDD_PASS, timeout=600)
    done = re.search(r"^ldd pass done: (\d+) files$", result.stdout, re.M)
    assert done and int(done[1]) > 100, result.stdout[-2000:] + result.stderr[-2000:]
    return [line for line in result.stdout.splitlines() if not line.startswith("ldd pass done")]


def _named(missing: list[str]) -> str:
    return "; ".join(f"{line} ({package_for(line.rsplit(': ', 1)[1])})" for line in missing)


@pytest.fixture
def scratch_root(tmp_path: Path) -> Iterator[Path]:
    """Where the root's copy goes (~400 MB once the .deb is in): removed after the test."""
    yield tmp_path / "root"
    shutil.rmtree(tmp_path / "root", ignore_errors=True)


@pytest.mark.timeout(1800)
def test_deb_installs_and_runs_in_a_clean_debian_root(deb: tuple[Path, dict[str, object]],
                                                       scratch_root: Path) -> None:
    path, _ = deb
    log: list[str] = []
    start = time.monotonic()
    try:
        root = CleanRoot.copy_of_base(scratch_root, log)
    except Unavailable as exc:
        pytest.skip(f"clean-root .deb test not run: {exc}")
    target = root.path / "tmp" / path.name
    target.write_bytes(path.read_bytes())
    update = root.run("apt-get update -qq", timeout=600)
    if update.returncode != 0:
        pytest.skip(f"clean-root .deb test not run: apt-get update failed (archive unreachable?): "
                    f"{update.stderr.strip()[-500:]}")
    install = root.run(f"DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
                       f"/tmp/{shlex.quote(path.name)}", timeout=1200)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    log.append(f"installed in {time.monotonic() - start:.0f} s")

    # Before anything else goes into the root: every bundled library resolves.
    missing = _missing_libraries(root)
    assert not missing, _named(missing)

    version = root.run("card-explorer --version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.splitlines()[0].startswith("card-explorer "), version.stdout

    atr = root.run("card-explorer atr --json 3B 02 14 50")
    assert atr.returncode == 0, atr.stderr
    matches = json.loads(atr.stdout)["db_matches"]
    assert any("Schlumberger Multiflex 3k" in d for m in matches for d in m["descriptions"]), matches

    readers = root.run("card-explorer readers")
    assert readers.returncode == 3, (readers.returncode, readers.stdout, readers.stderr)
    assert "could not be loaded" not in readers.stderr, readers.stderr  # libpcsclite loaded
    assert "Traceback" not in readers.stderr

    gui_env = {"QT_QPA_PLATFORM": "offscreen", "CARD_EXPLORER_QUIT_AFTER_MS": "2500",
               "XDG_CONFIG_HOME": "/tmp/gui/config", "XDG_DATA_HOME": "/tmp/gui/data",
               "XDG_STATE_HOME": "/tmp/gui/state", "XDG_CACHE_HOME": "/tmp/gui/cache"}
    gui = root.run("card-explorer", env=gui_env, timeout=120)
    assert gui.returncode == 0, gui.stderr[-3000:]
    assert "Fontconfig error" not in gui.stderr and "Traceback" not in gui.stderr, gui.stderr[-3000:]
    journals = list((root.path / "tmp" / "gui" / "data").rglob("*.jsonl"))
    assert len(journals) == 1, journals
    events = [json.loads(line) for line in journals[0].read_text().splitlines()[1:]]
    assert any(e.get("origin") == "card inserted" and e.get("reader", "").startswith(VIRTUAL_READER)
               for e in events), events

    # A dependency the .deb did not bring is caught, and named by its package.
    removed = root.run("dpkg --remove --force-depends libwayland-cursor0")
    assert removed.returncode == 0, removed.stderr
    missing = _missing_libraries(root)
    assert missing and "Debian package libwayland-cursor0" in _named(missing), missing

    files = subprocess.run(["dpkg-deb", "--contents", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    purge = root.run("dpkg --purge card-explorer")
    assert purge.returncode == 0, purge.stderr
    ours = [line.split()[5].removeprefix(".") for line in files
            if "card-explorer" in line.split()[5]]
    left = [p for p in ours if os.path.lexists(root.path / p.lstrip("/"))]
    assert not left, left
    status = root.run("dpkg-query -W -f '${db:Status-Abbrev}' card-explorer")
    assert status.stdout.strip() in ("", "un", "pn"), status.stdout
    log.append(f"whole test {time.monotonic() - start:.0f} s")
    print("clean root:", "; ".join(log))
