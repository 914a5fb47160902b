"""Start-up imports only what the window needs to show (bench/startup.py measures the time).

What each subcommand does, asyncio and qasync, exports and the ATR list code
are imported when first used, not on the way to the first frame.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Deterministic at the first frame. (The demo card that goes in at start-up without a PC/SC
# service may bring profile and ATR decoding in before that frame or after it: not listed.)
NOT_BEFORE_THE_WINDOW = (
    "asyncio", "qasync", "ssl", "csv", "explorer.cli.parser", "explorer.cli.emulate",
    "explorer.cli.run_atr", "explorer.cli.run_send", "explorer.cli.run_monitor", "explorer.cli.run_emulate",
    "explorer.trace.export_html", "explorer.core.atr_report", "explorer.ui.crash_dialog",
)
NOT_FOR_THE_PARSER = (
    "explorer.core.atr", "explorer.core.atrdb", "explorer.core.apdu", "explorer.core.status_words",
    "explorer.virtual.profile", "explorer.virtual.filesystem_card", "explorer.pcsc", "PySide6",
)


def _modules(code: str, tmp_path: Path, **env: str) -> set[str]:
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
                "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
                # pcsc-lite's client honours PCSCLITE_CSOCK_NAME: point it at nothing.
                "PCSCLITE_CSOCK_NAME": str(tmp_path / "nothing.comm"), **env}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("MODULES ")]
    assert len(lines) == 1, result.stdout + result.stderr
    return set(lines[0].split()[1:])


def test_building_the_parser_imports_no_command(tmp_path: Path) -> None:
    code = ("import sys\nfrom explorer.cli.parser import build_parser\nbuild_parser().parse_args([])\n"
            "print('MODULES', *sorted(sys.modules))")
    loaded = _modules(code, tmp_path)
    assert not [m for m in loaded if m.startswith(NOT_FOR_THE_PARSER)]


def test_the_first_frame_comes_without_them(tmp_path: Path) -> None:
    code = ("import sys\n"
            "import explorer.ui.first_frame as ff\n"
            "shown = ff.FirstFrame._shown\n"
            "def dump(self):\n"
            "    print('MODULES', *sorted(sys.modules), flush=True)\n"
            "    shown(self)\n"
            "ff.FirstFrame._shown = dump\n"
            "from explorer.cli import main\n"
            "raise SystemExit(main([]))\n")
    loaded = _modules(code, tmp_path, CARD_EXPLORER_EXIT_WHEN_SHOWN="1")
    assert "explorer.ui.main_window" in loaded
    assert not [m for m in loaded if m in NOT_BEFORE_THE_WINDOW]


def test_the_demo_card_at_start_up_brings_no_cipher_or_image_library(tmp_path: Path) -> None:
    # The window inserts the demo card at start-up without PC/SC: only a passport profile needs
    # the cipher library (BAC), only a face image Pillow.
    code = ("import sys\nfrom explorer.virtual.card_sources import CardSource, SourceKind, load_card\n"
            "load_card(CardSource(SourceKind.DEMO))\nprint('MODULES', *sorted(sys.modules))")
    loaded = _modules(code, tmp_path)
    assert "explorer.virtual.filesystem_card" in loaded
    assert not [m for m in loaded if m.startswith(("cryptography", "PIL", "explorer.virtual.bac_card"))]
