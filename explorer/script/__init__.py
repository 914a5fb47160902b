"""Scripts of APDUs with expected answers: the language (pure: no Qt, no PC/SC).

`parse_script(text)` reads a script into a tree of steps and a list of
diagnostics, each placed at file, line and column; it never raises. The
language is scriptor's (pcsc-tools) with expectations, captures, variables,
blocks and test cases on top: see docs/scripts.md.
"""
