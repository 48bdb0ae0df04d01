"""Stored text shown safely: control characters as escapes, formulas as text."""

from __future__ import annotations

import pytest

from yorisoi.safetext import cell_text, visible


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("山田 太郎", "山田 太郎"),
        ("\x1b[31m赤\x1b[0m", "\\x1b[31m赤\\x1b[0m"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),  # OSC: retitle the terminal, then BEL
        ("改行\nと\tタブ", "改行\nと\tタブ"),  # kept: notes have lines
        ("CRLF\r\n行", "CRLF\n行"),
        ("行頭に戻る\rX", "行頭に戻る\\x0dX"),
        ("NUL\x00 DEL\x7f CSI\x9b", "NUL\\x00 DEL\\x7f CSI\\x9b"),
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override
    ],
)
def test_visible_writes_control_characters_as_escapes(stored: str, shown: str) -> None:
    assert visible(stored) == shown


@pytest.mark.parametrize(
    ("stored", "cell"),
    [
        (
            '=HYPERLINK("http://example.invalid","クリック")',
            '\'=HYPERLINK("http://example.invalid","クリック")',
        ),
        ("+81-3-0000", "'+81-3-0000"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "\\x0d=1"),  # escaped, no longer a formula
        ("地域包括支援センター", "地域包括支援センター"),
        ("—", "—"),
        ("a=b", "a=b"),
    ],
)
def test_cell_text_is_never_a_formula(stored: str, cell: str) -> None:
    assert cell_text(stored) == cell
