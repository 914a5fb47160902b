"""The console's command history and favourites, kept in QSettings across runs."""

from __future__ import annotations

from PySide6.QtCore import QSettings

_HISTORY_KEY = "console/history"
_FAVOURITES_KEY = "console/favourites"


class CommandHistory:
    """Newest last, no adjacent duplicates, at most `limit` entries.

    Up/down browsing works like a shell: `older()`/`newer()` move a cursor
    that any `add` resets. GUI thread only.
    """

    def __init__(self, settings: QSettings, limit: int = 500) -> None:
        self._settings = settings
        self.limit = limit
        self.entries: list[str] = _string_list(settings.value(_HISTORY_KEY, []))
        self.favourites: list[str] = _string_list(settings.value(_FAVOURITES_KEY, []))
        self._cursor = len(self.entries)

    def add(self, command: str) -> None:
        command = command.strip()
        if command and (not self.entries or self.entries[-1] != command):
            self.entries.append(command)
            del self.entries[: -self.limit]
            self._settings.setValue(_HISTORY_KEY, self.entries)
        self._cursor = len(self.entries)

    def older(self) -> str | None:
        if self._cursor == 0:
            return None
        self._cursor -= 1
        return self.entries[self._cursor]

    def newer(self) -> str | None:
        """The next newer entry; "" once past the newest (back to an empty line)."""
        if self._cursor >= len(self.entries):
            return None
        self._cursor += 1
        return self.entries[self._cursor] if self._cursor < len(self.entries) else ""

    def toggle_favourite(self, command: str) -> bool:
        """Add or remove; returns True when it is now a favourite."""
        command = command.strip()
        if command in self.favourites:
            self.favourites.remove(command)
        elif command:
            self.favourites.append(command)
        self._settings.setValue(_FAVOURITES_KEY, self.favourites)
        return command in self.favourites


def _string_list(value: object) -> list[str]:
    # QSettings gives a str for a one-element list on some backends, None for empty ones.
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []
