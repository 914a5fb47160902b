"""Colours for a script as the parser reads it: comments (`#` in column 1 only, as scriptor),
keywords (the parser's own list), hex, `${VAR}`, names in quotes, and expected answers.

One pass over one line, a handful of spans each: no parse, no look at other lines except the
state a trailing `\\` leaves (the next line continues the same logical line, so a `#` there
is not a comment). Only the lines on screen (and a margin) are coloured, the others when they
are scrolled to: colouring all 170,000 lines of a 4 MiB script took seconds, in one go.
"""

from __future__ import annotations

import re
from enum import IntEnum

from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QSyntaxHighlighter,
    QTextBlock,
    QTextCharFormat,
    QTextDocument,
)

from explorer.script.parser import KEYWORDS

# What may follow each keyword (docs/scripts.md's grammar); the parser reads them in place.
QUALIFIERS = {"reset": {"cold", "warm", "atr"}, "expect": {"sw", "data", "length", "tlv"},
              "capture": {"data", "tlv"}, "test": {"req", "continue"},
              "option": {"get-response", "resend", "on", "off"}, "raw": {"secret"}, "secret": {"raw"}}
_PATTERN_AFTER = {"expect", "reset"}  # the rest of the line is an expected answer (or ATR)
_NAMED = {"set", "capture"}  # the word after is a variable name
_VAR = re.compile(r"\$\{[^}]*\}?")
_WORDS = re.compile(r"\S+")
_QUOTED = re.compile(r'"[^"]*"?')
_WILDCARD = re.compile(r"[xX*|]|>=|==")
_SCRIPTOR = re.compile(r"exit|reset", re.IGNORECASE)


class Role(IntEnum):
    COMMENT = 0
    KEYWORD = 1
    QUALIFIER = 2
    HEX = 3
    VARIABLE = 4
    STRING = 5
    EXPECTED = 6
    WILDCARD = 7
    IGNORED = 8


class _State(IntEnum):  # what the line continued by a trailing `\` is
    NONE = -1
    HEX = 1
    EXPECTED = 2
    OTHER = 3


_LIGHT = {Role.COMMENT: "#6b6b6b", Role.KEYWORD: "#0b57a4", Role.QUALIFIER: "#0b57a4",
          Role.HEX: "#00607a", Role.VARIABLE: "#a3177a", Role.STRING: "#8a4b00", Role.EXPECTED: "#1b6f2a",
          Role.WILDCARD: "#1b6f2a", Role.IGNORED: "#8a8a8a"}
_DARK = {Role.COMMENT: "#9a9a9a", Role.KEYWORD: "#7fb4ff", Role.QUALIFIER: "#7fb4ff", Role.HEX: "#6fd3e8",
         Role.VARIABLE: "#f28fd6", Role.STRING: "#f0b46a", Role.EXPECTED: "#8be39a", Role.WILDCARD: "#8be39a",
         Role.IGNORED: "#8a8a8a"}


def formats(dark: bool) -> dict[Role, QTextCharFormat]:
    out = {}
    for role, colour in (_DARK if dark else _LIGHT).items():
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(colour))
        if role in (Role.KEYWORD, Role.VARIABLE, Role.WILDCARD):
            fmt.setFontWeight(QFont.Weight.Bold)
        if role in (Role.COMMENT, Role.IGNORED):
            fmt.setFontItalic(True)
        out[role] = fmt
    return out


_SKIPPED = 0  # block states: not coloured yet (off screen), or coloured with what it continues
_DONE = 10
_MARGIN = 100  # lines coloured beyond the screen, so that scrolling a little shows them at once


class ScriptHighlighter(QSyntaxHighlighter):
    """`window` (first, last line index) is what to colour; the editor moves it as it scrolls
    and calls `catch_up` to colour the lines that came into it."""

    def __init__(self, document: QTextDocument) -> None:
        palette = QGuiApplication.palette()
        self.formats = formats(palette.base().color().lightness() < 128)
        self.window = (0, 200)
        self._dry = False
        super().__init__(document)

    def show_lines(self, first: int, count: int) -> None:
        """The lines from index `first`, `count` of them, are on screen: colour them (and a margin)."""
        self.window = (max(0, first - _MARGIN), first + count + _MARGIN)
        document = self.document()
        if document is None:
            return
        block = document.findBlockByNumber(first)
        last = first + count
        while block.isValid() and block.blockNumber() <= last:
            if block.userState() < _DONE:
                self.rehighlightBlock(block)  # goes on to the next lines while their state changes
            block = block.next()

    def highlightBlock(self, text: str) -> None:
        block = self.currentBlock()
        if not self.window[0] <= block.blockNumber() <= self.window[1]:
            self.setCurrentBlockState(_SKIPPED)
            return
        before = self.previousBlockState()
        if before >= _DONE:
            continued = _State(before - _DONE) if before > _DONE else _State.NONE
        else:
            continued = self._continues(block.previous())
        state = self._line(text, continued)
        self.setCurrentBlockState(_DONE + (state if text.endswith("\\") and state > 0 else 0))

    def _continues(self, previous: QTextBlock) -> _State:
        """What the line after `previous` continues, read from the lines above (not coloured)."""
        chain: list[str] = []
        while previous.isValid() and previous.text().endswith("\\") and len(chain) < 64:
            chain.append(previous.text())
            previous = previous.previous()
        state = _State.NONE
        self._dry = True
        try:
            for text in reversed(chain):
                state = self._line(text, state)
        finally:
            self._dry = False
        return state

    def _set(self, start: int, length: int, role: Role) -> None:
        if not self._dry:
            self.setFormat(start, length, self.formats[role])

    def _line(self, text: str, continued: _State) -> _State:
        """Colour `text`; what a trailing `\\` would continue (NONE for a comment or a blank line)."""
        if continued is not _State.NONE:
            self._rest(text, 0, continued)
            return continued
        if text.startswith("#"):
            self._set(0, len(text), Role.COMMENT)
            return _State.NONE
        words = _WORDS.search(text)
        if words is None:
            return _State.NONE
        word = words.group(0).lower()
        if word not in KEYWORDS:
            scriptor = _SCRIPTOR.search(text)
            if scriptor is None:
                self._rest(text, 0, _State.HEX)
                return _State.HEX
            # Scriptor resets (or ends) at a line holding the word, and reads nothing else on it.
            self._set(0, len(text), Role.IGNORED)
            self._set(scriptor.start(), scriptor.end() - scriptor.start(), Role.KEYWORD)
            return _State.OTHER
        self._set(words.start(), words.end() - words.start(), Role.KEYWORD)
        return self._keyword_rest(text, word, words.end())

    def _keyword_rest(self, text: str, keyword: str, at: int) -> _State:
        qualifiers = QUALIFIERS.get(keyword, set())
        if keyword in ("raw", "secret"):
            following = _WORDS.search(text, at)
            if following and following.group(0).lower() in qualifiers:
                self._set(following.start(), following.end() - following.start(), Role.KEYWORD)
                at = following.end()
            self._rest(text, at, _State.HEX)
            return _State.HEX
        if keyword in ("test", "include"):
            quoted = _QUOTED.search(text, at)
            if keyword == "include":
                self._set(at, len(text) - at, Role.STRING)
                return _State.OTHER
            if quoted:
                self._set(quoted.start(), quoted.end() - quoted.start(), Role.STRING)
                at = quoted.end()
        pattern_from = -1
        for index, match in enumerate(_WORDS.finditer(text, at)):
            word = match.group(0)
            if word.lower() in qualifiers and (keyword != "expect" or index == 0):
                self._set(match.start(), match.end() - match.start(), Role.QUALIFIER)
                if keyword == "reset" and word.lower() == "atr":
                    pattern_from = match.end()
                    break
            elif keyword in _NAMED and index == 0:
                self._set(match.start(), match.end() - match.start(), Role.VARIABLE)
                if keyword == "set":
                    self._rest(text, match.end(), _State.HEX)
                    return _State.HEX
            elif keyword == "expect":
                pattern_from = match.start()
                break
            elif keyword in ("delay", "repeat", "capture"):
                self._set(match.start(), match.end() - match.start(), Role.HEX)
        if keyword in _PATTERN_AFTER and pattern_from >= 0:
            self._rest(text, pattern_from, _State.EXPECTED)
            return _State.EXPECTED
        return _State.OTHER

    def _rest(self, text: str, at: int, state: _State) -> None:
        if state is _State.HEX:
            self._set(at, len(text) - at, Role.HEX)
            for var in _VAR.finditer(text, at):
                self._set(var.start(), var.end() - var.start(), Role.VARIABLE)
        elif state is _State.EXPECTED:
            self._set(at, len(text) - at, Role.EXPECTED)
            for wild in _WILDCARD.finditer(text, at):
                self._set(wild.start(), wild.end() - wild.start(), Role.WILDCARD)
