"""Where scripts come from in the editor: the recent files (kept in the settings) and the
examples shipped with the app (found where the demo card is: explorer.assets)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from explorer.assets import asset_path
from explorer.script.files import SUFFIXES

RECENT_KEY = "scripts/recent"
FOLDER_KEY = "scripts/folder"
MAX_RECENT = 10


class RecentScripts:
    """The last scripts opened or saved, newest first, at most MAX_RECENT."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def paths(self) -> list[str]:
        value = self._settings.value(RECENT_KEY, [])
        # An INI file gives a lone value back as a string, and nothing as None.
        items = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
        return [str(item) for item in items if item][:MAX_RECENT]

    def add(self, path: str) -> None:
        path = os.path.abspath(path)
        kept = [p for p in self.paths() if p != path]
        self._store([path, *kept])
        self._settings.setValue(FOLDER_KEY, os.path.dirname(path))

    def remove(self, path: str) -> None:
        self._store([p for p in self.paths() if p != path])

    def clear(self) -> None:
        self._store([])

    def folder(self) -> str:
        """Where the last script was opened or saved: the file dialogs start there."""
        return str(self._settings.value(FOLDER_KEY, "") or "")

    def _store(self, paths: list[str]) -> None:
        self._settings.setValue(RECENT_KEY, paths[:MAX_RECENT])


def example_paths() -> list[Path]:
    """The example scripts shipped with the app, by name."""
    folder = asset_path("scripts")
    try:
        found = [p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file()]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name)


def fill_recent_menu(menu: QMenu, recent: RecentScripts, open_file: Callable[[str], object]) -> None:
    """The recent scripts, newest first; one that is gone is shown, disabled, as missing."""
    menu.clear()
    paths = recent.paths()
    for path in paths:
        present = os.path.isfile(path)
        action = menu.addAction(Path(path).name + ("" if present else " (missing)"))
        action.setToolTip(path)
        action.setStatusTip(path)
        action.setEnabled(present)
        action.triggered.connect(lambda _=False, p=path: open_file(p))
    if not paths:
        menu.addAction("No recent scripts").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction("Clear the list", recent.clear)
    menu.setToolTipsVisible(True)


def fill_examples_menu(menu: QMenu, open_example: Callable[[Path], object]) -> None:
    menu.clear()
    for path in example_paths():
        action = menu.addAction(path.name)
        action.setToolTip(f"{path.name}, opened as a new copy (the example itself is never changed)")
        action.triggered.connect(lambda _=False, p=path: open_example(p))
    if menu.isEmpty():
        menu.addAction("No examples found").setEnabled(False)
    menu.setToolTipsVisible(True)
