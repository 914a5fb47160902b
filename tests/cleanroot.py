"""A minimal Debian 12 root for installing the .deb as on a fresh machine.

`debootstrap --variant=minbase bookworm` once, kept under the user's cache
directory (`$XDG_CACHE_HOME/card-explorer-tests/`, with the packages apt
downloads, so a second run downloads nothing it already has); each test
works on its own copy. Commands run in it with `chroot` inside a private
mount namespace (`unshare --mount`): /proc is mounted for the bootloader,
which finds itself through /proc/self/exe, and every mount disappears with
the namespace, also when a test is killed. No service starts in it: a
policy-rc.d refuses them all. The Debian mirror is the one this machine's apt
uses (/etc/apt), so the suite names none of its own.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

SUITE = "bookworm"


class Unavailable(Exception):
    """The clean root cannot be had here; the message says why."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "card-explorer-tests"


def apt_sources() -> list[tuple[str, str, str]]:
    """(URI, suite, components) of this machine's Debian 12 entries, from deb822 and one-line files."""
    entries: list[tuple[str, str, str]] = []
    etc = Path("/etc/apt")
    for path in sorted(etc.glob("sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text(errors="replace")):
            fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
            if "deb" not in fields.get("Types", "").split() or fields.get("Enabled", "yes") == "no":
                continue
            for uri in fields.get("URIs", "").split():
                for suite in fields.get("Suites", "").split():
                    entries.append((uri, suite, fields.get("Components", "main")))
    for path in [etc / "sources.list", *sorted(etc.glob("sources.list.d/*.list"))]:
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                match = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$", line.strip())
                if match:
                    entries.append((match[1], match[2], match[3]))
    return [e for e in entries if e[1].split("-")[0] == SUITE]


def _mirror() -> str:
    for uri, suite, _ in apt_sources():
        if suite == SUITE:
            return uri
    raise Unavailable(f"this machine's apt has no Debian {SUITE} entry under /etc/apt to take a mirror from")


class CleanRoot:
    """One copy of the cached minimal root. Root only (chroot, mounts)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.archives = cache_dir() / "archives"

    @staticmethod
    def base(log: list[str]) -> Path:
        """The cached pristine root, made by debootstrap on first use (its time goes into `log`)."""
        if os.geteuid() != 0:
            raise Unavailable("needs root (debootstrap, chroot, mounts)")
        for tool in ("debootstrap", "unshare", "chroot"):
            if shutil.which(tool) is None:
                raise Unavailable(f"{tool} is not installed")
        base = cache_dir() / f"{SUITE}-minbase"
        if (base / ".complete").is_file():
            log.append(f"cached root {base}")
            return base
        partial = base.with_name(base.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        result = subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(partial), _mirror()],
                                capture_output=True, text=True, timeout=1200)
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise Unavailable("debootstrap failed (is the Debian archive reachable from here?): "
                              + " | ".join(result.stdout.strip().splitlines()[-3:] + result.stderr.strip()
                                           .splitlines()[-3:]))
        sources = "".join(f"deb {uri} {suite} {components}\n" for uri, suite, components in apt_sources())
        (partial / "etc" / "apt" / "sources.list").write_text(sources)
        policy = partial / "usr" / "sbin" / "policy-rc.d"
        policy.write_text("#!/bin/sh\n# No service starts in this test root.\nexit 101\n")
        policy.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
        partial.rename(base)
        (base / ".complete").write_text(f"{time.time()}\n")
        log.append(f"debootstrap {SUITE} minbase in {time.monotonic() - start:.0f} s")
        return base

    @classmethod
    def copy_of_base(cls, dest: Path, log: list[str]) -> CleanRoot:
        base = cls.base(log)
        subprocess.run(["cp", "-a", str(base), str(dest)], check=True, timeout=300)
        shutil.copyfile("/etc/resolv.conf", dest / "etc" / "resolv.conf")
        return cls(dest)

    def run(self, command: str, *, timeout: float = 600,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`command` (a shell line) inside the root, in a private mount namespace."""
        self.archives.mkdir(parents=True, exist_ok=True)
        (self.archives / "partial").mkdir(exist_ok=True)
        root = shlex.quote(str(self.path))
        # The mounts are undone at the end too: inside a chroot (the fresh-root run)
        # "/" is no mount point, unshare cannot make it private, and the namespace
        # keeps the propagation it was given (private there, by fresh-root-test.sh).
        setup = (f"rc=125; mount -t proc proc {root}/proc && "
                 f"mount --bind {shlex.quote(str(self.archives))} {root}/var/cache/apt/archives && "
                 f'{{ chroot {root} /bin/sh -c "$1"; rc=$?; }}; '
                 f"umount -l {root}/var/cache/apt/archives {root}/proc 2>/dev/null; exit $rc")
        clean_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     "HOME": "/root", "LANG": "C.UTF-8", **(env or {})}
        return subprocess.run(["unshare", "--mount", "--propagation", self._propagation(), "sh", "-c", setup,
                               "sh", command], capture_output=True, text=True, timeout=timeout,
                              env=clean_env, stdin=subprocess.DEVNULL)

    @staticmethod
    @functools.cache
    def _propagation() -> str:
        """`private`, unless this process runs where "/" is no mount point (a chroot)."""
        probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                               capture_output=True, text=True)
        return "private" if probe.returncode == 0 else "unchanged"
