"""The run-time package list (packaging/runtime-packages.txt) and which package holds a library.

Imported by packaging/smoke.py and packaging/deb.py (both run as scripts from
this folder) and by the tests. Standard library only.
"""

from __future__ import annotations

import re
from pathlib import Path

RUNTIME_LIST = Path(__file__).resolve().parent / "runtime-packages.txt"

_SONAME = re.compile(r"^(?P<base>.+?)\.so\.(?P<version>[0-9][0-9.]*)$")


def runtime_packages(path: Path = RUNTIME_LIST) -> dict[str, tuple[str, ...]]:
    """Package name -> the sonames listed for it, in file order."""
    packages: dict[str, tuple[str, ...]] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = raw.split("#", 1)[0].split()
        if not fields:
            continue
        name, *sonames = fields
        if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", name):
            raise ValueError(f"{path}:{number}: {name!r} is not a Debian package name")
        if name in packages:
            raise ValueError(f"{path}:{number}: {name} is listed twice")
        packages[name] = tuple(sonames)
    return packages


def policy_package_name(soname: str) -> str | None:
    """The package name Debian policy (section 8.1) gives a shared library: the
    soname's base in lower case, a hyphen when it ends in a digit, the version.

    libwayland-cursor.so.0 -> libwayland-cursor0, libX11.so.6 -> libx11-6.
    Most library packages follow it; a few (libc6, zlib1g, libglib2.0-0) do not,
    which is why the list names its packages explicitly.
    """
    match = _SONAME.match(soname)
    if match is None:
        return None
    base, version = match["base"].lower(), match["version"].split(".")[0]
    return f"{base}-{version}" if base[-1].isdigit() else f"{base}{version}"


def package_for(soname: str, packages: dict[str, tuple[str, ...]] | None = None) -> str:
    """Words naming the Debian package that provides `soname`, for a message."""
    packages = runtime_packages() if packages is None else packages
    for name, sonames in packages.items():
        if soname in sonames:
            return f"Debian package {name}"
    guess = policy_package_name(soname)
    hint = f"probably {guess}, by Debian's library naming rule; " if guess else ""
    return f"{hint}not in {RUNTIME_LIST.name}: find it with `dpkg -S {soname}` and add it there"
