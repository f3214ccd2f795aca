"""``/reports``, its CSV tables and ``GET /api/v1/reports`` (SPEC §7, §9), through the app
built by its factory, on the fixed week of tests/services/test_reports.py.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient

from phoneservice.domain.reports.definitions import FIGURES, GENERAL
from phoneservice.present.reports import report_shape
from phoneservice.web.reports.pages import FOLDED
from tests.services.test_reports import (
    EXPECTED_CALLBACKS,
    EXPECTED_CALLS,
    REPORTED_AT,
    WEEK,
    Office,
    build_office,
    fill_week,
)
from tests.staff import add_user, login, staff_app, tokens

API = "/api/v1/reports"
QUERY = "from=2026-11-16&to=2026-11-20"


@dataclass
class Site:
    """The app over the fixed week, a signed-in client and an anonymous one."""

    office: Office
    staff: FlaskClient
    anonymous: FlaskClient


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    """A viewer (the least role) is signed in: reports hold no personal data."""
    for office in build_office(database_url):
        fill_week(office)
        app = staff_app(database_url, office.registry, lambda: REPORTED_AT)
        add_user(database_url, lambda: REPORTED_AT, "vera", "viewer")
        staff = app.test_client()
        assert login(staff, "vera") == 302
        yield Site(office, staff, app.test_client())


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    """The body of ``url``, checking its status."""
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


# ------------------------------------------------------------------------------ page


def test_the_page_needs_a_signed_in_user(site: Site) -> None:
    response = site.anonymous.get(f"/reports?{QUERY}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def table(body: str, section: str) -> str:
    """The first table of the section with id ``section``."""
    found = re.search(rf'<section[^>]* id="{section}".*?(<table.*?</table>)', body, re.S)
    assert found is not None, section
    return found.group(1)


def header(table_html: str) -> list[str]:
    """The column headers of a table, each as its words (sub-lines joined by a space)."""
    heads = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table_html, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", h)).split()) for h in heads]


def row_cells(table_html: str, name: str) -> list[str]:
    """The cells of the row named ``name`` (the total: "I alt"), their words as above."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table_html, re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        words = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]
        if words and words[0] == name:
            return words
    raise AssertionError(f"no row {name!r}")


def test_the_page_leads_with_the_promises(site: Site) -> None:
    body = page(site.staff, f"/reports?{QUERY}")
    promises = table(body, "promises")
    assert body.index(promises) < body.index("<table", body.index(promises) + 1)  # first
    assert header(promises) == [
        "Enhed",
        "Opkald",
        "Svarprocent af opkald i telefontiden",
        "Serviceniveau af besvarede: svar inden for T",
        "Tilbagekald",
        "Til tiden af afgjorte tilbagekald",
        "For sent",
        "Åbne",
    ]
    # I alt: answer rate 5 of (12 during hours − 1 short), service level 5 of 6 answered,
    # callbacks on time 1 of (6 − 1 pending − 1 cancelled); open: 1 overdue, 1 pending.
    assert row_cells(promises, "I alt") == [
        "I alt", "15", "45,5 % 5 af 11", "83,3 % 5 af 6, T = 60 s",
        "6", "25,0 % 1 af 4", "1", "2 1 over fristen",
    ]  # fmt: skip
    assert row_cells(promises, "Jobcenter")[2:4] == ["57,1 % 4 af 7", "80,0 % 4 af 5, T = 60 s"]


def test_the_outcomes_follow_in_a_second_table(site: Site) -> None:
    body = page(site.staff, f"/reports?{QUERY}")
    outcomes = table(body, "calls")
    assert body.index(table(body, "promises")) < body.index(outcomes)
    assert header(outcomes) == [
        "Enhed", "Opkald", "Besvaret", "Lagt på", "Korte opgivelser", "Timeout", "Lukket",
        "Ubesvaret uden kø", "Ukendt", "Gns. ventetid", "Ventetid, 90 %-fraktil",
    ]  # fmt: skip
    assert row_cells(outcomes, "I alt") == [
        "I alt", "15", "6", "3", "1", "1", "2", "1", "1", "27,7 s", "60,5 s",
    ]  # fmt: skip
    callbacks = table(body, "callbacks")
    # the median to acknowledge: 41,880 s from its bucket (41,400 s exactly)
    assert row_cells(callbacks, "I alt")[1:] == ["6", "1", "1", "1", "1", "1", "1", "25,0 %",
                                                 "11 t 38 m", "2"]  # fmt: skip
    assert body.count("<svg") == 2  # bars and the hour grid (no split: no period chart)


def test_units_without_calls_are_hidden_until_asked_for(site: Site) -> None:
    body = page(site.staff, f"/reports?{QUERY}")
    assert "Børn &amp; Læring" not in body.split("</form>")[-1]  # not in a table or chart
    toggle = re.search(r'<a class="toggle-empty" href="([^"]+)"[^>]*>([^<]+)</a>', body)
    assert toggle is not None
    assert html.unescape(toggle.group(2)) == "Vis enheder uden opkald (1)"
    shown = page(site.staff, html.unescape(toggle.group(1)))
    assert "empty=1" in html.unescape(toggle.group(1))
    for section in ("promises", "calls", "callbacks"):
        assert row_cells(table(shown, section), "Børn & Læring")[1] == "0"
    again = re.search(r'<a class="toggle-empty" href="([^"]+)"[^>]*>([^<]+)</a>', shown)
    assert again is not None and again.group(2) == "Skjul enheder uden opkald"
    assert "empty=1" not in html.unescape(again.group(1))
    # the form keeps the choice when the dates change, and so does a form error
    assert '<input type="hidden" name="empty" value="1">' in shown
    refused = page(site.staff, "/reports?from=2026-03-01&to=2026-02-01&empty=1", 400)
    assert '<input type="hidden" name="empty" value="1">' in refused
    # a unit asked for by name is shown, calls or not
    alone = page(site.staff, f"/reports?{QUERY}&unit=boern-laering")
    assert row_cells(table(alone, "promises"), "Børn & Læring")[1] == "0"
    assert 'class="toggle-empty"' not in alone


def test_the_definitions_are_folded_under_each_table(site: Site) -> None:
    body = html.unescape(page(site.staff, f"/reports?{QUERY}"))
    assert "<aside" not in body and 'id="definitions"' not in body
    folded = re.findall(
        r"</table>\s*</div>\s*<details class=\"how\">\s*<summary>Sådan er tallene regnet</summary>"
        r"(.*?)</details>",
        body,
        re.S,
    )
    assert len(folded) == 3  # promises, call outcomes, callbacks
    promises, outcomes, callbacks = folded
    assert "Svarprocent i telefontiden = besvarede opkald i telefontiden" in promises
    assert "Serviceniveau = besvarede opkald med højst T sekunders ventetid" in promises
    assert "Andel til tiden = til tiden ÷ (oprettet − afventer − annulleret)" in promises
    assert "aldrig som 0 %." in promises
    assert "Timeout: køen opgav borgeren" in outcomes
    assert "Median tid til kvittering" in callbacks


def test_the_shares_say_what_they_are_of_in_english(site: Site) -> None:
    body = page(site.staff, f"/reports?{QUERY}&lang=en")
    promises = table(body, "promises")
    assert header(promises)[2:6] == [
        "Answer rate of calls in phone hours",
        "Service level of answered calls: answered within T",
        "Callbacks",
        "On time of decided callbacks",
    ]
    assert row_cells(promises, "Total")[2:4] == ["45.5 % 5 of 11", "83.3 % 5 of 6, T = 60 s"]
    assert "How the figures are computed" in body
    assert "Answer rate in phone hours = answered calls in phone hours ÷ (calls in" in body
    assert "Show units without calls (1)" in body


def test_empty_figures_show_a_dash_never_zero_percent(site: Site) -> None:
    body = page(site.staff, "/reports?from=2026-01-01&to=2026-01-31")
    total = re.search(r'<tr class="total">(.*?)</tr>', body, re.S)
    assert total is not None
    assert "%" not in total.group(1) and "–" in total.group(1)


def test_the_page_keeps_the_strict_csp(site: Site) -> None:
    response = site.staff.get(f"/reports?{QUERY}&by=day")
    body = response.get_data(as_text=True)
    assert "style=" not in body and "<script>" not in body
    assert "style-src 'self';" in response.headers["Content-Security-Policy"]
    assert body.count("<svg") == 3  # the period chart too


def test_every_table_has_a_csv_and_an_xlsx_link_that_download(site: Site) -> None:
    body = page(site.staff, f"/reports?{QUERY}&unit=jobcenter")
    for kind in ("csv", "xlsx"):
        links = [html.unescape(u) for u in re.findall(rf'href="(/reports\.{kind}\?[^"]+)"', body)]
        assert sorted(re.search(r"table=(\w+)", u).group(1) for u in links) == [  # type: ignore[union-attr]
            "callbacks", "calls", "closed_hours", "periods",
        ]  # fmt: skip
        for link in links:
            response = site.staff.get(link)
            assert response.status_code == 200
            assert "attachment" in response.headers["Content-Disposition"]
            rows = excel_rows(response.data) if kind == "csv" else sheet_rows(response.data)
            assert len(rows) > 1 and all(len(r) == len(rows[0]) for r in rows)


def excel_rows(data: bytes) -> list[list[str]]:
    """A people's CSV as Danish Excel reads it: UTF-8 after a BOM, ``;`` between fields."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def sheet_rows(data: bytes) -> list[list[Any]]:
    """The values of the workbook's only sheet."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_the_csv_opens_in_danish_excel(site: Site) -> None:
    response = site.staff.get(f"/reports.csv?table=calls&{QUERY}")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="rapport-calls-2026-11-16-2026-11-20.csv"'
    )
    header, *rows = excel_rows(response.data)
    assert header[:3] == ["Enhed (id)", "Enhed", "T (s)"]
    assert "Svarprocent i telefontiden (%)" in header and "Kunne ikke nås" not in header
    named = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(named) == {"Borgerservice", "Jobcenter", "Børn & Læring", "Uden enhed", "I alt"}
    assert named["Jobcenter"]["Svarprocent i telefontiden (%)"] == "57,14"
    total = named["I alt"]
    assert (total["Opkald"], total["Serviceniveau (%)"]) == ("15", "83,33")
    assert (total["Gns. ventetid (s)"], total["Enhed (id)"]) == ("27,7", "")
    assert named["Børn & Læring"]["Gns. ventetid (s)"] == ""  # no calls: nothing, never 0


def test_the_csv_of_periods_has_iso_dates_and_english_headers_on_request(site: Site) -> None:
    response = site.staff.get(f"/reports.csv?table=periods&{QUERY}&by=week&lang=en")
    header, *rows = excel_rows(response.data)
    assert header[:4] == ["First day", "Last day", "Unit (id)", "Unit"]
    assert "Callbacks: On-time rate (%)" in header
    total = dict(zip(header, rows[-1], strict=True))
    assert (total["First day"], total["Last day"], total["Unit"]) == (
        "2026-11-16", "2026-11-20", "Total",
    )  # fmt: skip
    assert total["Answer rate in phone hours (%)"] == "45,45"  # the file is for Danish Excel


def test_the_xlsx_holds_numbers_dates_and_a_frozen_header(site: Site) -> None:
    response = site.staff.get(f"/reports.xlsx?table=periods&{QUERY}&by=day")
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"].endswith('periods-2026-11-16-2026-11-20.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.active
    assert sheet.title == "Perioder" and sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["Fra og med", "Til og med", "Enhed (id)", "Enhed"]
    assert all(cell.font.b for cell in sheet[1])
    column = {name: index for index, name in enumerate(header)}
    rows = list(sheet.iter_rows(min_row=2))
    monday_total = next(r for r in rows if r[column["Enhed"]].value == "I alt")
    assert monday_total[column["Fra og med"]].value == datetime(2026, 11, 16)
    assert monday_total[column["Fra og med"]].number_format == "yyyy-mm-dd"
    jobcenter = next(r for r in rows if r[column["Enhed"]].value == "Jobcenter")
    rate = jobcenter[column["Svarprocent i telefontiden (%)"]]
    assert (rate.value, rate.data_type, rate.number_format) == (0.75, "n", "0.0%")  # 3 of 4
    calls = jobcenter[column["Opkald"]]
    assert (calls.value, calls.data_type) == (5, "n")
    wait = jobcenter[column["Gns. ventetid (s)"]]
    assert (wait.value, wait.data_type, wait.number_format) == (47, "n", "0.0")
    names = [r[column["Enhed"]].value for r in rows]
    assert "Børn & Læring" in names
    widths = [sheet.column_dimensions[letter].width for letter in ("A", "D")]
    assert widths[0] >= len("2026-11-16") and widths[1] >= len("Børn & Læring")


def test_the_page_defaults_to_this_month(site: Site) -> None:
    body = page(site.staff, "/reports")
    assert 'value="2026-11-01"' in body and 'value="2026-11-23"' in body


@pytest.mark.parametrize(
    "url",
    [
        f"/reports.csv?table=nope&{QUERY}",
        "/reports.csv?table=calls",
        "/reports.xlsx?table=calls&from=2026-03-01&to=2026-02-01",
        f"/reports.xlsx?table=calls&{QUERY}&unit=nobody",
    ],
    ids=["bad-table", "csv-without-dates", "xlsx-reversed", "xlsx-unknown-unit"],
)
def test_a_bad_download_is_a_danish_page(site: Site, url: str) -> None:
    body = page(site.staff, url, 404 if "nobody" in url else 400)
    assert 'lang="da"' in body and "Fejl" in body


def form_errors(body: str) -> dict[str, str]:
    """The form's errors by field: the text of each ``<li id="error-FIELD">``."""
    found = re.findall(r'<li id="error-(\w+)"><a href="#report-\1">[^<]*</a>: ([^<]*)</li>', body)
    return {name: html.unescape(text) for name, text in found}


def field_value(body: str, name: str) -> str:
    """The value of the form's input ``name``, or the selected option of its select."""
    found = re.search(rf'<input id="report-{name}" name="{name}" type="date" value="([^"]*)"', body)
    if found:
        return found.group(1)
    select = re.search(rf'<select id="report-{name}".*?</select>', body, re.S)
    assert select is not None
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            "from=2026-03-01&to=2026-02-01&unit=jobcenter&by=week",
            {"to": "Til og med ligger før fra og med: vælg en senere slutdato."},
        ),
        (
            "from=2000-01-01&to=2026-01-01&unit=jobcenter&by=",
            {
                "to": "Perioden er for lang: en rapport dækker højst 3660 dage.",
            },
        ),
        (
            "from=2026-02-30&to=2026-03-01&unit=jobcenter&by=week",
            {
                "from": "Skriv en dato som 2026-01-31.",
            },
        ),
        (
            "from=2026-02-01&to=2026-03-01&unit=nobody&by=week",
            {
                "unit": "Enheden findes ikke: vælg en enhed på listen.",
            },
        ),
        (
            "from=2026-02-01&to=nope&unit=jobcenter&by=hour",
            {
                "to": "Skriv en dato som 2026-01-31.",
                "by": "Vælg en opdeling på listen.",
            },
        ),
    ],
    ids=["reversed", "too-long", "bad-date", "unknown-unit", "two-errors"],
)
def test_bad_input_is_shown_on_the_form_with_the_filters_kept(
    site: Site, query: str, errors: dict[str, str]
) -> None:
    body = page(site.staff, f"/reports?{query}", 400)
    assert form_errors(body) == errors
    asked = dict(pair.split("=") for pair in query.split("&"))
    for name in ("from", "to", "unit", "by"):
        kept = "" if name in ("unit", "by") and name in errors else asked[name]
        assert field_value(body, name) == kept, name
    for name in errors:
        assert f'aria-invalid="true" aria-describedby="error-{name}"' in body
    assert 'role="alert"' in body and 'id="calls"' not in body  # no figures


def test_the_form_errors_are_in_english_on_request(site: Site) -> None:
    body = page(site.staff, "/reports?from=2026-03-01&to=2026-02-01&lang=en", 400)
    assert form_errors(body) == {"to": "Last day is before first day: choose a later end date."}
    assert 'lang="en"' in body


# ------------------------------------------------------------------------------- API


def test_the_api_answers_the_shape_of_report_json(site: Site) -> None:
    response = site.staff.get(f"{API}?{QUERY}")
    assert response.status_code == 200
    shape = response.get_json()
    assert shape == report_shape(site.office.report(WEEK))
    assert "definitions" in shape
    total = shape["total"]
    assert {k: total["calls"][k] for k in EXPECTED_CALLS["total"]} == EXPECTED_CALLS["total"]
    assert total["callbacks"] == EXPECTED_CALLBACKS["total"]


def test_the_api_takes_a_token(site: Site, database_url: str) -> None:
    service = tokens(database_url, lambda: REPORTED_AT)
    _, secret = service.issue_token("bi", ("read-status",), actor="test")
    response = site.anonymous.get(
        f"{API}?{QUERY}&by=month", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    assert [p["from"] for p in response.get_json()["periods"]] == ["2026-11-16"]


def test_the_api_needs_a_token_or_a_session(site: Site) -> None:
    response = site.anonymous.get(f"{API}?{QUERY}")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("query", "status", "error", "detail"),
    [
        ("from=2026-02-30&to=2026-03-01", 400, "bad_request", "from: '2026-02-30'"),
        ("from=2026-03-01", 400, "bad_request", "to: required"),
        ("to=2026-03-01", 400, "bad_request", "from: required"),
        ("from=2026-03-01&to=2026-02-01", 400, "bad_request", "before it starts"),
        ("from=1999-01-01&to=2026-01-01", 400, "bad_request", "at most 3660 days"),
        ("from=2026-01-01&to=2026-01-02&by=hour", 400, "bad_request", "by: 'hour'"),
        ("from=2026-01-01&to=2026-01-02&unit=nobody", 404, "unknown_unit", "nobody"),
    ],
    ids=["bad-date", "no-to", "no-from", "reversed", "too-long", "bad-grouping", "unknown-unit"],
)
def test_bad_parameters_are_json_errors(
    site: Site, query: str, status: int, error: str, detail: str
) -> None:
    response = site.staff.get(f"{API}?{query}")
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == error and detail in body["detail"]


def test_every_definition_is_folded_under_some_table() -> None:
    folded = [key for keys in FOLDED.values() for key in keys]
    assert sorted(set(folded)) == sorted({**GENERAL, **FIGURES})
