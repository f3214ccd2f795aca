"""Report CSV cells cannot start a formula (security review: unit names went into the CSV
as live formulas for Danish Excel and LibreOffice)."""

from __future__ import annotations

import pytest

from phoneservice.present.reports import csv_cell


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (
            '=HYPERLINK("https://evil.example","Klik")',
            '\'=HYPERLINK("https://evil.example","Klik")',
        ),
        ("+45 56 57 57 57", "'+45 56 57 57 57"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("Børn & Læring", "Børn & Læring"),
        ("", ""),
        (-3, -3),  # numbers stay numbers
        (0.4545, 0.4545),
        (None, None),
    ],
    ids=["equals", "plus", "minus", "at", "tab", "plain-name", "empty", "int", "float", "null"],
)
def test_a_text_cell_that_would_be_a_formula_is_shown_as_text(value, shown) -> None:
    assert csv_cell(value) == shown
