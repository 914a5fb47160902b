"""Writing a file off the GUI thread: a slow or full disk must not freeze the window.

Thread rules: `start` is called on the GUI thread with everything the writer
needs already copied (no widget, no model is touched on the thread);
`finished(path, error)` is emitted from the writing thread and, the object
living on the GUI thread, delivered there (queued).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from explorer.private_files import open_private


class BackgroundWrite(QObject):
    finished = Signal(str, str)  # path, error ("" when it worked)

    def start(self, path: str, write: Callable[[str], object], name: str = "file-write") -> None:
        """Run `write(path)` on a short-lived thread; an OSError becomes the `error` text."""
        def run() -> None:
            error = ""
            try:
                write(path)
            except OSError as e:
                error = f"{e.strerror or e} ({path})"
            with contextlib.suppress(RuntimeError):  # the owner was deleted meanwhile
                self.finished.emit(path, error)

        threading.Thread(target=run, name=name, daemon=True).start()


def write_private_text(path: str, text: str) -> None:
    """`text` to `path` as UTF-8, the file 0600 before the first byte."""
    with open_private(path, "w", newline="") as out:
        out.write(text)
