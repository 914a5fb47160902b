"""The analyzers there are, by key (`--only fs,gp,emv,sim`), made on demand: a card application's
package is imported only when its analyzer runs."""

from __future__ import annotations

from collections.abc import Callable

from explorer.apps.analyzer import Analyzer


def _fs() -> Analyzer:
    from explorer.apps.fs import FileSystemAnalyzer

    return FileSystemAnalyzer()


def _emv() -> Analyzer:
    from explorer.apps.emv import EmvAnalyzer

    return EmvAnalyzer()


def _sim() -> Analyzer:
    from explorer.apps.sim.analyzer import SimAnalyzer

    return SimAnalyzer()


def _gp() -> Analyzer:
    from explorer.apps.gp import GpAnalyzer

    return GpAnalyzer()


#: key -> a function making the analyzer, in the order an analysis runs them.
ANALYZERS: dict[str, Callable[[], Analyzer]] = {"fs": _fs, "gp": _gp, "emv": _emv, "sim": _sim}
ANALYZERS["openpgp"] = lambda: __import__("explorer.apps.openpgp", fromlist=["*"]).OpenPgpAnalyzer()


def analyzers(only: list[str] | None = None) -> list[Analyzer]:
    """The analyzers for `only` (keys; None: all); ValueError naming an unknown key."""
    keys = only if only else list(ANALYZERS)
    unknown = [k for k in keys if k not in ANALYZERS]
    if unknown:
        known = ", ".join(ANALYZERS) or "none yet"
        raise ValueError(f"no analyzer {', '.join(unknown)} (there are: {known})")
    return [ANALYZERS[k]() for k in keys]
