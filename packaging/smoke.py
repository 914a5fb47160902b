"""Smoke-test a built bundle: `python packaging/smoke.py DIST_DIR [--readers-json]`.

DIST_DIR is the one-folder bundle (dist/card-explorer). Checks, each run from the
bundle's own executable:

  files     the executable, explorer/resources/ (smartcard_list.txt, cards/demo.json) in
            the bundle, and no libpcsclite (it must be the system's);
  libs      every bundled binary's libraries resolve (ldd, as the bootloader
            sets the library path), so no exclusion in the spec broke a kept one
            and the system has the packages of packaging/runtime-packages.txt;
            an unresolved library is named with the Debian package that has it;
  version   `card-explorer --version` exits 0 and prints the version;
  profile   `emulate demo` reads the bundled demo card profile (explorer.assets in
            a frozen app), waits for a vpcd that is not there, stops on SIGTERM;
  passport  `analyze --only emrtd` on the bundled passport profile: BAC and secure messaging
            (the cipher library), the SOD's signature and hashes, the face decoded (Pillow);
  gui       the window, offscreen, with scratch XDG_CONFIG_HOME/XDG_DATA_HOME and
            no PC/SC service (PCSCLITE_CSOCK_NAME points at nothing), closed by
            the app itself after CARD_EXPLORER_QUIT_AFTER_MS (a hidden variable
            read by explorer/ui/app.py for this): exit 0, no traceback, the
            settings written on close, and the session journal showing the
            embedded virtual reader with the demo card in it;
  gui_x11   the same on the xcb platform in a private Xvfb display (`xvfb-run`),
            when xvfb-run is installed: the plugin and libraries real desktops use;
  readers   only with --readers-json (a PC/SC service must be running, such as
            the test bed): `readers --json` exits 0 and prints a JSON array.

Progress goes to stderr; the last line on stdout is one JSON object:
{"bundle_mb": ..., "build_s": ..., "checks": {name: true|false}, "problems": [...],
"system_libs": {soname: path}, "ok": ...}; system_libs are the libraries the bundle
takes from the system (each must be in packaging/runtime-packages.txt).
bundle_mb is MiB (du -sh); build_s comes from packaging/build.py's
card-explorer.build.json next to the bundle, null when absent. Exit status 0 when ok.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from debian_packages import package_for, runtime_packages

NAME = "card-explorer"
GUI_QUIT_MS = 2500
TIMEOUT_S = 60


class CheckFailed(Exception):
    pass


def tree_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def run(exe: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=TIMEOUT_S,
                          env=env if env is not None else dict(os.environ), stdin=subprocess.DEVNULL)


def run_group(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `cmd` in its own process group; on timeout, kill the group (xvfb-run leaves Xvfb behind)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def expect(ok: bool, what: str) -> None:
    if not ok:
        raise CheckFailed(what)


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# -- the checks -------------------------------------------------------------------


def check_files(dist: Path, exe: Path) -> None:
    internal = dist / "_internal"
    expect(exe.is_file() and os.access(exe, os.X_OK), f"{exe} is not an executable")
    for rel in ("explorer/resources/smartcard_list.txt", "explorer/resources/smartcard_list.LICENSE.md",
                "explorer/resources/cards/demo.json"):
        expect((internal / rel).is_file(), f"{rel} is not in the bundle")
    pcsclite = sorted(str(p.relative_to(dist)) for p in dist.rglob("libpcsclite*"))
    expect(not pcsclite, f"bundles {pcsclite}: it must be the system's")


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def bundle_links(dist: Path) -> tuple[dict[str, set[str]], dict[str, str]]:
    """ldd over the executable and every bundled ELF file, with the library path
    the bootloader sets: (unresolved soname -> the files that need it,
    soname resolved outside the bundle -> its path)."""
    internal = dist / "_internal"
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    missing: dict[str, set[str]] = {}
    system: dict[str, str] = {}
    binaries = [p for p in internal.rglob("*.so*") if p.is_file() and not p.is_symlink() and _is_elf(p)]
    for path in [dist / NAME, *binaries]:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout
        for name, where in re.findall(r"^\s*(\S+)\s+=>\s+(.+?)\s*(?:\(0x[0-9a-f]+\))?$", out, re.M):
            if where == "not found":
                missing.setdefault(name, set()).add(str(path.relative_to(dist)))
            elif not where.startswith(str(dist)):
                system[name] = where
    return missing, system


def check_libs(dist: Path, found: dict[str, str]) -> None:
    """Every library resolves; `found` gets the ones taken from the system."""
    missing, system = bundle_links(dist)
    found.update(system)
    packages = runtime_packages()
    expect(not missing, "unresolved libraries: " + "; ".join(
        f"{name} ({package_for(name, packages)}; needed by {', '.join(sorted(by)[:3])})"
        for name, by in sorted(missing.items())))


def check_version(exe: Path) -> None:
    result = run(exe, "--version")
    expect(result.returncode == 0, f"--version exit {result.returncode}: {tail(result.stderr)}")
    expect(re.fullmatch(r"card-explorer \d+\.\d+\S*", result.stdout.partition("\n")[0].strip()) is not None,
           f"--version printed {result.stdout!r}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_profile(exe: Path) -> None:
    proc = subprocess.Popen([str(exe), "emulate", "demo", "--port", str(_free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True)
    # A hung process must not hang the check: the readline()s below then see EOF.
    watchdog = threading.Timer(TIMEOUT_S, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        second = proc.stdout.readline().strip()
        if not (first.startswith("profile ") and "waiting for vpcd" in second):
            proc.kill()
            _, err = proc.communicate()
            raise CheckFailed(f"emulate demo printed {first!r}, {second!r}: {tail(err)}")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    expect(proc.returncode == 0, f"emulate demo exit {proc.returncode}: {tail(err)}")
    expect("removed" in out, f"emulate demo did not remove its card: {out!r}")


#: Embedded readers' names start so (explorer.virtual.embedded.READER_PREFIX).
VIRTUAL_READER = "Card Explorer Virtual Reader"


def check_gui(exe: Path, *, x11: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="card-explorer-smoke-") as scratch:
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb" if x11 else "offscreen",
               "XDG_CONFIG_HOME": f"{scratch}/config", "XDG_DATA_HOME": f"{scratch}/data",
               "XDG_STATE_HOME": f"{scratch}/state", "XDG_CACHE_HOME": f"{scratch}/cache",
               "CARD_EXPLORER_QUIT_AFTER_MS": str(GUI_QUIT_MS),
               "PCSCLITE_CSOCK_NAME": f"{scratch}/no-pcscd.comm"}
        env.pop("DISPLAY", None)
        wrapper = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24 -nolisten tcp"] if x11 else []
        start = time.monotonic()
        result = run_group([*wrapper, str(exe)], env)
        took = time.monotonic() - start
        expect(result.returncode == 0, f"exit {result.returncode} after {took:.1f} s: {tail(result.stderr)}")
        expect("Traceback" not in result.stderr, f"stderr has a traceback: {tail(result.stderr, 30)}")
        settings = Path(scratch, "config", "Card Explorer", "Card Explorer.conf")
        expect(settings.is_file(), "the window did not save its settings on close")
        journals = list(Path(scratch, "data").rglob("*.jsonl"))
        expect(len(journals) == 1, f"expected one session journal, found {len(journals)}")
        events = [json.loads(line) for line in journals[0].read_text().splitlines()[1:]]
        seen = {(e.get("origin"), e.get("reader", "").startswith(VIRTUAL_READER)) for e in events}
        expect(("card inserted", True) in seen,
               f"no card in the virtual reader without PC/SC; journal events: {sorted(seen)}")


def check_readers(exe: Path) -> None:
    result = run(exe, "readers", "--json")
    expect(result.returncode == 0, f"readers --json exit {result.returncode}: {tail(result.stderr)}")
    try:
        listed = json.loads(result.stdout)
    except ValueError as exc:
        raise CheckFailed(f"readers --json printed no JSON ({exc}): {result.stdout[:200]!r}") from exc
    expect(isinstance(listed, list), f"readers --json printed {type(listed).__name__}, not an array")


# -- main -------------------------------------------------------------------------


def check_passport(dist: Path, exe: Path) -> None:
    profiles = sorted(dist.rglob("explorer/resources/cards/emrtd.json"))
    expect(bool(profiles), "no explorer/resources/cards/emrtd.json in the bundle")
    result = run(exe, "analyze", "--profile", str(profiles[0]), "--only", "emrtd", "--mrz",
                 "L898902C<, 690806, 940623", "--json", "--reveal")
    expect(result.returncode == 0 and "Traceback" not in result.stderr,
           f"analyze emrtd exit {result.returncode}: {tail(result.stderr)}")
    expect("all 4 match" in result.stdout and "JPEG 90 x 120" in result.stdout,
           f"analyze emrtd did not check the SOD and decode the face: {tail(result.stdout)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", type=Path, metavar="DIST_DIR", help="the bundle folder, dist/card-explorer")
    parser.add_argument("--readers-json", action="store_true",
                        help="also run `readers --json` (needs a running PC/SC service)")
    args = parser.parse_args(argv)
    dist: Path = args.dist.resolve()
    exe = dist / NAME

    checks: list[tuple[str, Callable[[], None]]] = [
        ("files", lambda: check_files(dist, exe)),
        ("libs", lambda: check_libs(dist, system_libs)),
        ("version", lambda: check_version(exe)),
        ("profile", lambda: check_profile(exe)),
        ("passport", lambda: check_passport(dist, exe)),
        ("gui", lambda: check_gui(exe)),
    ]
    if shutil.which("xvfb-run"):
        checks.append(("gui_x11", lambda: check_gui(exe, x11=True)))
    if args.readers_json:
        checks.append(("readers", lambda: check_readers(exe)))

    system_libs: dict[str, str] = {}
    results: dict[str, bool] = {}
    problems: list[str] = []
    for name, check in checks:
        start = time.monotonic()
        try:
            check()
        except (CheckFailed, OSError, subprocess.SubprocessError) as exc:
            results[name] = False
            problems.append(f"{name}: {exc}")
        else:
            results[name] = True
        print(f"smoke {name}: {'ok' if results[name] else 'FAILED'} ({time.monotonic() - start:.1f} s)",
              file=sys.stderr)

    build_s = None
    with contextlib.suppress(OSError, ValueError):
        build_s = json.loads((dist.parent / f"{NAME}.build.json").read_text()).get("build_s")
    bundle_mb = round(tree_bytes(dist) / 2**20, 1) if dist.is_dir() else None
    ok = bool(results) and all(results.values())
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    print(json.dumps({"bundle_mb": bundle_mb, "build_s": build_s, "checks": results,
                      "problems": problems, "system_libs": system_libs, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
