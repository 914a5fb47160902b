"""The frame of the self-contained HTML pages the app writes (the trace's HTML export, the script
report): one file to attach to a bug report or keep as a CI artefact.

Everything is inline (CSS in the head, no script, no image, no link to anything), so a page reads
the same offline, in a mail client or in a ticket system; its Content-Security-Policy forbids
loading anything anyway. Text from outside (reader and file names, card errors, a script's test
names) goes through `escape`: markup escaped, and control or bidirectional characters shown as
escapes instead of reaching the page.
"""

from __future__ import annotations

import html

from explorer.core.printable import printable

CSP = "default-src 'none'; style-src 'unsafe-inline'"

#: What every page shares: type, tables of hex, failures in red, warnings in orange.
BASE_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
p.meta { color: #555; margin: 0.2em 0; }
p.secrets { padding: 0.4em 0.7em; border-radius: 4px; display: inline-block; }
p.secrets.masked { background: #e8f3e8; border: 1px solid #7a7; }
p.secrets.revealed { background: #fde8e8; border: 1px solid #c55; color: #900; font-weight: bold; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; position: sticky; top: 0; }
td.hex { font-family: ui-monospace, Consolas, monospace; word-break: break-all; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.t { white-space: nowrap; font-family: ui-monospace, Consolas, monospace; }
tr.auto td.name { padding-left: 1.6em; }
tr.auto td { color: #555; }
tr.failure td { background: #fdecec; }
tr.failure td.sw, tr.failure td.meaning { color: #c00; font-weight: bold; }
tr.warning td.sw, tr.warning td.meaning { color: #d07000; }
"""


def escape(text: str) -> str:
    """`text` safe inside an element or a quoted attribute, on one line."""
    return html.escape(printable(text), quote=True)


def page_start(title: str, css: str) -> str:
    """From the doctype to the opening <body>: `title` escaped here, `css` is the page's own."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f"<title>{escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n")


PAGE_END = "</body>\n</html>\n"
