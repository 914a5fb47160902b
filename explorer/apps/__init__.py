"""Card applications: what a card holds, read and explained (docs: issue 15).

One package per application (`fs`, `gp`, `emv`, `sim`, …), each with named enums for its INS,
tags and status words, the reading logic over an `AnalysisSession` (a transmit callable with
the exchanges kept, progress, cancel and the user's permission for commands that change the
card) and a tree of `Finding`s, each pointing at the exchange and the bytes it came from.
Pure: no Qt, no PC/SC; the window, the CLI and tests give the session a transmit.
"""
