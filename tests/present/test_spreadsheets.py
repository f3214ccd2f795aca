"""The people's report tables: Excel's CSV and XLSX keep text as text and numbers as numbers."""

from __future__ import annotations

import csv
import io

import openpyxl

from phoneservice.present.spreadsheets import Sheet, excel_csv, kind, xlsx

FORMULA = '=HYPERLINK("https://evil.example","Klik")'
SHEET = Sheet(
    title="Opkald: [alle]/enheder og mere end 31 tegn",
    keys=("unit", "name", "calls", "answer_rate", "wait_avg_s", "callbacks_on_time_rate"),
    labels=("Enhed (id)", "Enhed", "Opkald", "Svarprocent (%)", "Ventetid (s)", "Til tiden (%)"),
    rows=(
        ("boern", FORMULA, 3, 0.3333, 12.5, None),
        ("", "Børn\x07 & Læring", 0, None, None, 1.0),
    ),
)


def test_columns_are_written_by_their_field() -> None:
    assert [kind(key) for key in SHEET.keys] == [
        "plain", "plain", "plain", "share", "seconds", "share",
    ]  # fmt: skip
    assert (kind("from"), kind("threshold_s"), kind("00")) == ("date", "seconds", "plain")


def test_the_csv_is_for_danish_excel_and_defuses_formulas() -> None:
    text = excel_csv(SHEET)
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[1] == ["boern", "'" + FORMULA, "3", "33,33", "12,5", ""]
    assert rows[2] == ["", "Børn\x07 & Læring", "0", "", "", "100,00"]


def test_the_workbook_keeps_a_formula_as_text_and_numbers_as_numbers() -> None:
    book = openpyxl.load_workbook(io.BytesIO(xlsx(SHEET)))
    sheet = book.active
    assert sheet.title == "Opkald alleenheder og mere end "
    name, calls, share = sheet["B2"], sheet["C2"], sheet["D2"]
    assert (name.value, name.data_type) == (FORMULA, "s")
    assert (calls.value, calls.data_type) == (3, "n")
    assert (share.value, share.number_format) == (0.3333, "0.0%")
    assert sheet["B3"].value == "Børn & Læring"  # a control character a workbook cannot hold
    assert sheet["F3"].number_format == "0.0%" and sheet["D3"].value is None
