"""Where the app's resources live.

One place knows the layouts, so callers ask for `asset_path("x.txt")` and never
care how the app was installed. The data are the top-level `resources/` folder
of the source tree; a wheel installs them as package data under
`explorer/resources/` (setup.py maps them there), and the PyInstaller bundle
puts them at the same place under `sys._MEIPASS`, where the bundle's modules
say they live. A checkout (or an editable install) has no `explorer/resources`
and uses the source tree's folder.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_root() -> Path:
    """The folder that holds the resources: installed package data, else the source tree's."""
    installed = _PACKAGE / "resources"
    return installed if installed.is_dir() else _PACKAGE.parent / "resources"


def asset_path(*parts: str) -> Path:
    """The path of a resource; it may not exist."""
    return resource_root().joinpath(*parts)
