"""The app's QSettings, in a file only its user can read.

The settings hold the console's history and favourites (masked, but still
the commands a tester sent), the last files opened and the window layout:
like the journal and the log, 0600 in a 0700 folder. QSettings creates its
file and folder with the umask's modes (0644 in 0755), so both are made
private before it writes; it rewrites the file through a temporary one that
takes over the old file's permissions, so the file stays 0600 across saves.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings

from explorer.private_files import private_dir, private_file

log = logging.getLogger(__name__)


def private_settings(settings: QSettings | None = None) -> QSettings:
    """`settings` (default: the app's native QSettings, named after the application) with
    its file and the folder it is in made private. The folder is the app's own (named
    after the organisation), so tightening one that exists is safe."""
    settings = settings if settings is not None else QSettings()
    path = Path(settings.fileName())
    try:
        private_dir(path.parent)
        private_file(path)
    except OSError as e:
        # A read-only home: QSettings cannot write there either, so nothing new lands in the open.
        log.warning("the settings file %s could not be made private: %s", path, e.strerror or e)
    return settings
