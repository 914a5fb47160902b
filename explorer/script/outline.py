"""What a parsed script will do, before it runs: the commands in it and how many a run sends
(counting repeats). Pure: the window's progress bar and its gutter marks read a script through
these."""

from __future__ import annotations

from collections.abc import Iterator

from explorer.script.model import Case, Command, Repeat, Reset, Step


def commands(steps: tuple[Step, ...]) -> Iterator[Command | Reset]:
    """Every command and reset as written, in script order (a repeated one once)."""
    for step in steps:
        if isinstance(step, Command | Reset):
            yield step
        elif isinstance(step, Repeat | Case):
            yield from commands(step.body)


def planned(steps: tuple[Step, ...]) -> int:
    """How many commands and resets a run sends when it goes to the end (repeats counted)."""
    total = 0
    for step in steps:
        if isinstance(step, Command | Reset):
            total += 1
        elif isinstance(step, Repeat):
            total += step.count * planned(step.body)
        elif isinstance(step, Case):
            total += planned(step.body)
    return total
