"""Which status words stop a script: an ordered list of patterns, then a severity floor.

A tester tunes this per card: "62 83 is expected here, go on", "any 63CX is a
failure for this test". Rules are checked first, top to bottom; a word no rule
names falls back to its severity from `explain`. The text form is what script
headers and settings store, so `parse(to_text())` gives the same chain back.

    # comments and blank lines are ignored
    6283 continue
    63CX stop
    stop-at warning
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from explorer.core.hexfmt import hex_digit, shown_char
from explorer.core.status_words import Severity, explain, severity


class Verdict(enum.Enum):
    CONTINUE = "continue"
    STOP = "stop"


class SwPatternError(ValueError):
    """A bad pattern or chain line.

    `pattern` is the offending text, `position` the 0-based index of the bad
    character in it (None when the length is wrong or the fault is elsewhere),
    `line` the 1-based line of chain text (None outside `CheckChain.parse`).
    """

    def __init__(self, message: str, pattern: str, position: int | None = None,
                 line: int | None = None) -> None:
        super().__init__(message)
        self.pattern = pattern
        self.position = position
        self.line = line


def _compile(pattern: str) -> tuple[str, int, int]:
    """Upper-cased pattern, mask and value: `sw & mask == value` is a match."""
    if len(pattern) != 4:
        raise SwPatternError(f"pattern '{pattern}' must be 4 characters (hex digits or X), "
                             f"not {len(pattern)}", pattern)
    mask = value = 0
    # Over the pattern as typed: upper() can change a string's length ("ß" -> "SS").
    for i, ch in enumerate(pattern):
        mask <<= 4
        value <<= 4
        if ch in "xX":
            continue
        digit = hex_digit(ch)
        if digit is None:
            raise SwPatternError(f"pattern '{pattern}': {shown_char(ch)} at column {i + 1} "
                                 f"is not a hex digit or X", pattern, i)
        mask |= 0xF
        value |= digit
    return pattern.upper(), mask, value


@dataclass(frozen=True)
class SwRule:
    pattern: str
    verdict: Verdict
    _mask: int = field(init=False, repr=False, compare=False)
    _value: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        upper, mask, value = _compile(self.pattern)
        # Frozen: the normalised pattern and its compiled form are set once here.
        object.__setattr__(self, "pattern", upper)
        object.__setattr__(self, "_mask", mask)
        object.__setattr__(self, "_value", value)

    def matches(self, sw: int) -> bool:
        return 0 <= sw <= 0xFFFF and sw & self._mask == self._value


_STOP_AT = "stop-at"


@dataclass(frozen=True)
class CheckChain:
    rules: tuple[SwRule, ...] = ()
    stop_at: Severity = Severity.ERROR

    def rule_for(self, sw: int) -> SwRule | None:
        """The first rule matching `sw`, the one that decides."""
        return next((rule for rule in self.rules if rule.matches(sw)), None)

    def verdict(self, sw: int, command: bytes | None = None) -> Verdict:
        rule = self.rule_for(sw) if self.rules else None
        if rule is not None:
            return rule.verdict
        return Verdict.STOP if severity(sw, command) >= self.stop_at else Verdict.CONTINUE

    def explain_verdict(self, sw: int, command: bytes | None = None) -> str:
        """One line saying why: the rule that matched, or the severity against the stop level."""
        head = explain(sw, command)
        rule = self.rule_for(sw)
        if rule is not None:
            verb = "stops" if rule.verdict is Verdict.STOP else "continues"
            return f"{head.hex} {verb}: rule {rule.pattern}"
        severity, level = head.severity.name.lower(), self.stop_at.name.lower()
        if head.severity >= self.stop_at:
            return f"{head.hex} stops: {severity} at or above the stop level ({level})"
        return f"{head.hex} continues: {severity} below the stop level ({level})"

    @classmethod
    def parse(cls, text: str) -> CheckChain:
        rules: list[SwRule] = []
        stop_at: Severity | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            words = raw.split("#", 1)[0].split()
            if not words:
                continue
            if words[0].lower() == _STOP_AT:
                if len(words) != 2 or words[1].upper() not in Severity.__members__:
                    raise SwPatternError(f"line {number}: expected 'stop-at success|warning|error', "
                                         f"got '{raw.strip()}'", raw.strip(), line=number)
                if stop_at is not None:
                    raise SwPatternError(f"line {number}: second 'stop-at' line", raw.strip(), line=number)
                stop_at = Severity[words[1].upper()]
                continue
            # "62 83 continue" reads naturally too: join the two byte halves.
            if len(words) == 3 and len(words[0]) == len(words[1]) == 2:
                words = [words[0] + words[1], words[2]]
            if len(words) != 2 or words[1].lower() not in {v.value for v in Verdict}:
                raise SwPatternError(f"line {number}: expected 'PATTERN continue|stop', got '{raw.strip()}'",
                                     raw.strip(), line=number)
            try:
                rules.append(SwRule(words[0], Verdict(words[1].lower())))
            except SwPatternError as exc:
                raise SwPatternError(f"line {number}: {exc}", exc.pattern, exc.position, number) from None
        return cls(tuple(rules), Severity.ERROR if stop_at is None else stop_at)

    def to_text(self) -> str:
        lines = [f"{rule.pattern} {rule.verdict.value}" for rule in self.rules]
        lines.append(f"{_STOP_AT} {self.stop_at.name.lower()}")
        return "\n".join(lines) + "\n"


DEFAULT_CHAIN = CheckChain()
