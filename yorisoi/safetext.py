"""Stored text made safe for where it is shown: a terminal, a spreadsheet cell.

New input refuses control characters (`yorisoi.service.inputs`), but records typed before
that check existed, or imported, may still hold them: an ESC sequence repaints or retitles a
terminal, characters XML cannot carry make openpyxl refuse a whole workbook. And a cell that
starts with `=`, `+`, `-` or `@` is a formula to a spreadsheet (`=HYPERLINK("http://…","クリック")`
as an agency's name). Output therefore never trusts what is stored:

- `visible`: every control character (C0 but tab and newline, DEL, C1) and every bidi override
  shown as its escape (`\\x1b`, `\\u202e`), so what was stored stays visible and nothing is
  dropped silently; a CRLF becomes a newline first.
- `cell_text`: `visible`, and a leading `'` on text a spreadsheet would take for a formula (CSV:
  the form OWASP recommends; the XLSX writer writes such cells as text instead).
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (tab and CR: OWASP's list)."""


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with its control characters and bidi overrides written as escapes."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_escape, text.replace("\r\n", "\n"))


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def cell_text(text: str) -> str:
    """A CSV cell: visible, and never read as a formula."""
    shown = visible(text)
    return "'" + shown if is_formula_like(shown) else shown
