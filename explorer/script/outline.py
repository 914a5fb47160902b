"""What a parsed script will do, before it runs: the commands in it, how many a run sends
(counting repeats) and each one's expectation as text. Pure: the window's progress bar, its
results table and its gutter marks read a script through these."""

from __future__ import annotations

from collections.abc import Iterator

from explorer.script.model import Case, Command, Compare, Expectation, Place, Repeat, Reset, Script, Step


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


def expectation_text(expect: Expectation) -> str:
    """`SW 61 xx | 90 00; data 6F *; length >= 8; TLV 6F/84 = F0 43`: what the script wrote,
    in its words ("" when it wrote none: the status-word checks decide)."""
    parts: list[str] = []
    if expect.sw is not None:
        parts.append(f"SW {expect.sw.text}")
    if expect.data is not None:
        parts.append(f"data {expect.data_text}")
    if expect.length is not None:
        compare, length = expect.length
        parts.append(f"length {'>= ' if compare is Compare.AT_LEAST else ''}{length}")
    for path, value, text in expect.tlv:
        tags = "/".join(f"{tag:02X}" for tag in path)
        parts.append(f"TLV {tags} = {text}" if value is not None else f"TLV {tags}")
    return "; ".join(parts)


def expected(step: Command | Reset) -> str:
    if isinstance(step, Reset):
        return f"ATR {step.atr_text}" if step.atr is not None else ""
    return expectation_text(step.expect)


def expectations(script: Script) -> dict[Place, str]:
    """Each command's and reset's expectation as text, by where it is written."""
    return {step.place: expected(step) for step in commands(script.steps)}
