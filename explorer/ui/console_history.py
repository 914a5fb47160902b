"""The console's command history and favourites, kept in QSettings across runs.

Both are kept masked: a command that carries a PIN or key (VERIFY, CHANGE
REFERENCE DATA, RESET RETRY COUNTER, PUT KEY...: `explorer.core.sensitive`,
the rule the trace uses) is stored with "••" for each secret byte, in memory
and in the settings file alike, so what ↑ brings back in this session is what
it brings back in the next. A recalled masked command cannot be sent until the
PIN is typed in place of the "••" (the editor selects them for that).
Settings written by older versions, with PINs in clear, are masked and
rewritten when they are loaded.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from explorer.core.sensitive import masked_text

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
        history = _string_list(settings.value(_HISTORY_KEY, []))
        favourites = _string_list(settings.value(_FAVOURITES_KEY, []))
        self.entries: list[str] = []
        for entry in filter(None, map(masked_text, history)):
            if not self.entries or self.entries[-1] != entry:
                self.entries.append(entry)
        del self.entries[: -self.limit]
        self.favourites: list[str] = list(dict.fromkeys(filter(None, map(masked_text, favourites))))
        # An older version kept PINs in clear: the file is rewritten at once, not at the next change.
        if self.entries != history or self.favourites != favourites:
            settings.setValue(_HISTORY_KEY, self.entries)
            settings.setValue(_FAVOURITES_KEY, self.favourites)
            settings.sync()
        self._cursor = len(self.entries)

    def add(self, command: str) -> None:
        entry = masked_text(command)
        if entry and (not self.entries or self.entries[-1] != entry):
            self.entries.append(entry)
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

    def is_favourite(self, command: str) -> bool:
        """Compared as stored: a VERIFY is a favourite whatever PIN it carries now."""
        entry = masked_text(command)
        return entry is not None and entry in self.favourites

    def toggle_favourite(self, command: str) -> bool:
        """Add or remove; returns True when it is now a favourite."""
        entry = masked_text(command)
        if entry is None:
            return False
        if entry in self.favourites:
            self.favourites.remove(entry)
        else:
            self.favourites.append(entry)
        self._settings.setValue(_FAVOURITES_KEY, self.favourites)
        return entry in self.favourites


def _string_list(value: object) -> list[str]:
    # QSettings gives a str for a one-element list on some backends, None for empty ones.
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []
