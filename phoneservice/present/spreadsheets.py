"""A report table for people's spreadsheets: a CSV that Danish Excel opens as it is, and XLSX.

Excel opens a double-clicked CSV with the machine's regional settings; in Denmark that
means ``;`` between fields, a decimal comma, and a file without a byte order mark read as
Windows-1252 ("Børn" becomes "BÃ¸rn"). So the people's CSV is UTF-8 with a BOM, ``;``
and decimal commas whatever the page's language (the header row follows the page). Shares
are per cent with two decimals (the header says ``(%)``), seconds have one decimal,
dates stay ISO (``2026-11-16``). The XLSX holds the same columns with numbers as numbers:
shares as fractions shown in a per cent format, dates as dates, a frozen header row and
columns as wide as their text. The machines' CSV (``phoneservice report --csv``) is
:func:`phoneservice.present.reports.csv_table`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from phoneservice.present.reports import csv_cell

BOM = "\ufeff"
SEPARATOR = ";"
SHARES = frozenset({"answer_rate", "service_level", "on_time_rate"})
DATES = frozenset({"from", "to"})
SHARE_FORMAT, SECONDS_FORMAT, DATE_FORMAT = "0.0%", "0.0", "yyyy-mm-dd"
MAX_WIDTH = 50  # characters: a long unit name wraps the column no further


@dataclass(frozen=True, slots=True)
class Sheet:
    """One table as people read it: field names (they say how a column is written), the
    header row in the page's language, and the rows of values (None: nothing to show)."""

    title: str
    keys: Sequence[str]
    labels: Sequence[str]
    rows: Sequence[Sequence[Any]]


def kind(key: str) -> str:
    """How a column is written: ``share``, ``seconds``, ``date`` or ``plain``."""
    base = key.removeprefix("callbacks_")
    if base in SHARES:
        return "share"
    if base.endswith("_s"):
        return "seconds"
    return "date" if key in DATES else "plain"


def excel_csv(sheet: Sheet) -> str:
    """The sheet as the CSV Danish Excel opens: BOM, ``;``, decimal comma, CRLF."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow([csv_cell(label) for label in sheet.labels])
    kinds = [kind(key) for key in sheet.keys]
    for row in sheet.rows:
        writer.writerow([_csv_value(k, value) for k, value in zip(kinds, row, strict=True)])
    return out.getvalue()


def _csv_value(column: str, value: Any) -> Any:
    """One cell: per cent or seconds with a decimal comma, text defused, empty for None."""
    if value is None:
        return ""
    if isinstance(value, float):
        digits = f"{value * 100:.2f}" if column == "share" else f"{value:.1f}"
        return digits.replace(".", ",")
    return csv_cell(value)


def xlsx(sheet: Sheet) -> bytes:
    """The sheet as an Excel workbook of one worksheet."""
    book = Workbook()
    page = book.active
    page.title = _title(sheet.title)
    page.append([_text(label) for label in sheet.labels])
    for cell in page[1]:
        cell.font = Font(bold=True)
    kinds = [kind(key) for key in sheet.keys]
    for row in sheet.rows:
        page.append([_xlsx_value(k, value) for k, value in zip(kinds, row, strict=True)])
    for column, key_kind in enumerate(kinds, start=1):
        letter = get_column_letter(column)
        for (cell,) in page.iter_rows(min_row=2, min_col=column, max_col=column):
            _format(cell, key_kind)
        texts = [sheet.labels[column - 1], *(_shown(key_kind, r[column - 1]) for r in sheet.rows)]
        page.column_dimensions[letter].width = min(max(map(len, texts)) + 2, MAX_WIDTH)
    page.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(column: str, value: Any) -> Any:
    """A cell's value: numbers and dates as such, text as text (never a formula)."""
    if column == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    return _text(value) if isinstance(value, str) else value


def _format(cell: Any, column: str) -> None:
    """The cell's number format; text that looks like a formula stays text."""
    if cell.data_type == "f":  # openpyxl takes a string starting with "=" for a formula
        cell.data_type = "s"
    formats = {"share": SHARE_FORMAT, "seconds": SECONDS_FORMAT, "date": DATE_FORMAT}
    if column in formats and cell.value is not None:
        cell.number_format = formats[column]


def _shown(column: str, value: Any) -> str:
    """Roughly what a cell shows, for its column's width."""
    if value is None:
        return ""
    return str(_csv_value(column, value)) + (" %" if column == "share" else "")


def _text(value: str) -> str:
    """Text without the control characters a workbook cannot hold."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", value))


def _title(title: str) -> str:
    """A worksheet name: at most 31 characters, none of ``[]:*?/\\``."""
    return "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Sheet"
