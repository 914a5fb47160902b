"""The analyzers there are, by key (`--only fs,gp,emv,sim`), made on demand: a card application's
package is imported only when its analyzer runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.apps.analyzer import Analyzer


@dataclass(frozen=True)
class Choices:
    """What the user chose for the analyzers that take something: the MRZ information a passport's
    BAC keys come from (eMRTD), and the file identifiers to try in each DF (file system)."""

    mrz_information: str | None = None
    scan: range | None = None


def _fs(choices: Choices) -> Analyzer:
    from explorer.apps.fs import FileSystemAnalyzer
    from explorer.apps.fs.walk import Options

    return FileSystemAnalyzer(Options(scan=choices.scan))


def _emv(choices: Choices) -> Analyzer:
    from explorer.apps.emv import EmvAnalyzer

    return EmvAnalyzer()


def _sim(choices: Choices) -> Analyzer:
    from explorer.apps.sim.analyzer import SimAnalyzer

    return SimAnalyzer()


def _gp(choices: Choices) -> Analyzer:
    from explorer.apps.gp import GpAnalyzer

    return GpAnalyzer()


def _piv(choices: Choices) -> Analyzer:
    from explorer.apps.piv import PivAnalyzer

    return PivAnalyzer()


def _openpgp(choices: Choices) -> Analyzer:
    from explorer.apps.openpgp import OpenPgpAnalyzer

    return OpenPgpAnalyzer()


def _emrtd(choices: Choices) -> Analyzer:
    from explorer.apps.emrtd import EmrtdAnalyzer

    # Without the MRZ: what a passport shows before BAC, and that the MRZ is needed.
    return EmrtdAnalyzer(choices.mrz_information)


#: key -> a function making the analyzer, in the order an analysis runs them.
ANALYZERS: dict[str, Callable[[Choices], Analyzer]] = {
    "fs": _fs, "gp": _gp, "emv": _emv, "sim": _sim, "piv": _piv, "openpgp": _openpgp, "emrtd": _emrtd,
}


def analyzers(only: list[str] | None = None, choices: Choices = Choices()) -> list[Analyzer]:
    """The analyzers for `only` (keys; None: all), made with `choices`; ValueError naming an
    unknown key."""
    keys = only if only else list(ANALYZERS)
    unknown = [k for k in keys if k not in ANALYZERS]
    if unknown:
        known = ", ".join(ANALYZERS) or "none yet"
        raise ValueError(f"no analyzer {', '.join(unknown)} (there are: {known})")
    return [ANALYZERS[k](choices) for k in keys]
