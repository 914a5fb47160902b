"""Where bundled resources live.

One place knows the bundle layout, so callers ask for `asset_path("x.txt")`
and never care whether they run from a checkout or from a PyInstaller build
(which unpacks the data files under `sys._MEIPASS/resources`).
"""

from __future__ import annotations

import sys
from pathlib import Path


def asset_path(*parts: str) -> Path:
    """The path of a bundled resource; it may not exist."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle is not None:
        root = Path(bundle) / "resources"
    else:
        root = Path(__file__).resolve().parent.parent / "resources"
    return root.joinpath(*parts)
