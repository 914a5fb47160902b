"""Build the one-folder bundle: `python packaging/build.py [--distpath D] [--workpath W]`.

Runs PyInstaller (this Python's) on packaging/card-explorer.spec, so the bundle
is D/card-explorer/ (default dist/card-explorer/, work files in build/), prints
its size and build time, and records both in D/card-explorer.build.json for
packaging/smoke.py. `make bundle` runs this.

`python packaging/build.py --icon` instead renders resources/icons/card-explorer.svg
to card-explorer-256.png (needs QtSvg, which the venv's PySide6 has; the bundle
does not need it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "card-explorer.spec"
NAME = "card-explorer"
ICON_SVG = ROOT / "resources" / "icons" / "card-explorer.svg"
ICON_PNG = ROOT / "resources" / "icons" / "card-explorer-256.png"


def tree_bytes(path: Path) -> int:
    """Bytes of the regular files under `path`; symbolic links count for nothing (du --apparent-size)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mib(n: int) -> float:
    return round(n / 2**20, 1)


def build(distpath: Path, workpath: Path) -> dict[str, float]:
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
           "--distpath", str(distpath), "--workpath", str(workpath), str(SPEC)]
    start = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, check=True)
    build_s = round(time.monotonic() - start, 1)
    info = {"bundle_mb": mib(tree_bytes(distpath / NAME)), "build_s": build_s}
    (distpath / f"{NAME}.build.json").write_text(json.dumps(info) + "\n")
    return info


def render_svg(svg: Path, sizes: dict[int, Path]) -> None:
    """Render `svg` to a square PNG per size (needs QtSvg, which the venv's PySide6 has)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    for size, target in sizes.items():
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target)):
            raise SystemExit(f"{target}: cannot write")
    del app


def render_icon(size: int = 256) -> None:
    render_svg(ICON_SVG, {size: ICON_PNG})
    print(f"{ICON_PNG.relative_to(ROOT)}: {size}×{size}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--distpath", type=Path, default=ROOT / "dist")
    parser.add_argument("--workpath", type=Path, default=ROOT / "build")
    parser.add_argument("--icon", action="store_true", help="render the PNG icon from the SVG and stop")
    args = parser.parse_args()
    if args.icon:
        render_icon()
        return 0
    info = build(args.distpath.resolve(), args.workpath.resolve())
    print(f"bundle: {args.distpath / NAME}  {info['bundle_mb']} MB (MiB, as du -sh)  "
          f"built in {info['build_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
