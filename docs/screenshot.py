"""Take the README's screenshot: the real app in a real X window under Xvfb.

Starts a private pcscd with two vpcd readers, puts the virtual card in one,
runs `python -m explorer` on an Xvfb display, and grabs the X root window
from a separate process. Usage: python docs/screenshot.py [OUT.png]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explorer.virtual.card import VirtualCard  # noqa: E402
from explorer.virtual.vpcd import VpcdLink  # noqa: E402
from tests.conftest import wait_reader  # noqa: E402
from tests.testbed import PcscBed  # noqa: E402

GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
app.primaryScreen().grabWindow(0).save(sys.argv[1])
"""


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "main-window.png")
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1100x700x24", "-nolisten", "tcp"])
    bed = PcscBed(channels=(0x8C7B,))
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
           "XDG_CONFIG_HOME": tempfile.mkdtemp()}  # default layout, not the user's
    app = None
    try:
        bed.start()
        link = VpcdLink(VirtualCard(), bed.port_of(bed.reader_names[1]))
        link.insert()
        wait_reader(bed.reader_names[1], present=True)
        app = subprocess.Popen([sys.executable, "-m", "explorer"], env=env)
        # The window needs a moment to map and paint; nothing to wait on from outside.
        subprocess.run(["sleep", "3"], check=True)
        subprocess.run([sys.executable, "-c", GRAB, str(out)], env=env, check=True)
        print(f"saved {out}")
        link.remove()
    finally:
        if app is not None:
            app.terminate()
            app.wait(10)
        bed.stop()
        xvfb.terminate()
        xvfb.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
