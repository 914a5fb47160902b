"""What every profile generator here does when run: write its profile, or with --check say
whether the committed file is what it makes (exit 1 when not)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def main(argv: list[str], out: Path, make: Callable[[], str]) -> int:
    text = make()
    if "--check" in argv:
        same = out.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{out} differs from what the script makes")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(text.encode())} bytes)")
    return 0
