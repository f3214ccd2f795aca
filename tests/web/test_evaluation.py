"""``/evaluation``, ``/evaluation.pdf`` and ``GET /api/v1/evaluation`` (SPEC §13), through
the app built by its factory, on two years of calls (tests/evaluation_data.py) and the
fixed week of tests/services/test_reports.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader

from phoneservice.domain.evaluation.model import GOAL_KEYS
from tests.evaluation_data import fill_months, with_goals
from tests.services.test_reports import REPORTED_AT, Office, build_office, fill_week
from tests.staff import add_user, login, staff_app, tokens

API = "/api/v1/evaluation"
QUERY = "from=2025-11-01&to=2026-10-31"


@dataclass
class Site:
    """The app over two years of calls, a signed-in viewer and an anonymous client."""

    office: Office
    staff: FlaskClient
    anonymous: FlaskClient


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    """A viewer (the least role) is signed in: the evaluation holds no personal data."""
    for office in build_office(database_url):
        fill_months(office)
        fill_week(office)
        app = staff_app(database_url, with_goals(office.registry), lambda: REPORTED_AT)
        add_user(database_url, lambda: REPORTED_AT, "vera", "viewer")
        staff = app.test_client()
        assert login(staff, "vera") == 302
        yield Site(office, staff, app.test_client())


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    """The body of ``url``, checking its status."""
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def text_of(body: str) -> str:
    """The visible text of a page, tags dropped and spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


# ------------------------------------------------------------------------------ page


@pytest.mark.parametrize(
    "path", ["/evaluation", f"/evaluation?{QUERY}", f"/evaluation.pdf?{QUERY}"]
)
def test_the_page_and_the_pdf_need_a_signed_in_user(site: Site, path: str) -> None:
    response = site.anonymous.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_page_shows_each_goal_against_the_previous_period(site: Site) -> None:
    body = page(site.staff, f"/evaluation?{QUERY}")
    section = body[body.index('id="unit-jobcenter"') :]
    section = section[: section.index("</section>")]
    shown = text_of(section)
    assert "Svarprocent i telefontiden" in shown
    assert "Ventetid for 9 ud af 10" in shown
    assert "80,0 %" in shown  # the target
    assert re.search(r"[✓✗] (Nået|Ikke nået)", shown)
    assert "opkald" in shown  # the number of calls behind each figure
    assert 'class="chart trend"' in section and "<polyline" in section
    assert "Mandag 15–16:" in shown and "opkald om året" in shown
    assert "Median tid til kvittering" in shown


def test_the_staffing_is_a_table_with_numbers_in_coloured_cells(site: Site) -> None:
    body = page(site.staff, f"/evaluation?{QUERY}&unit=jobcenter")
    table = body[body.index('class="list heat-table"') :]
    table = table[: table.index("</table>")]
    assert '<th scope="col" class="n">man</th>' in table
    assert '<th scope="row">09–10</th>' in table
    needed = re.findall(r'<td class="n level-(\d)"><strong>(\d+)</strong>', table)
    assert needed and {level for level, _ in needed} - {"0"}
    assert "Erlang C" in body


def test_too_few_calls_are_marked_uncertain_with_their_number(site: Site) -> None:
    body = page(site.staff, "/evaluation?from=2026-11-16&to=2026-11-20&unit=jobcenter")
    assert "usikker: få opkald" in body
    assert re.search(r"usikker: få opkald</span>|usikker: få opkald \((\d+) opkald\)", body)


def test_the_page_defaults_to_the_last_two_whole_years(site: Site) -> None:
    body = page(site.staff, "/evaluation")
    assert 'value="2024-01-01"' in body and 'value="2025-12-31"' in body
    # 2024 is a leap year: the 731 days before start on 31 December 2021
    assert "2021-12-31" in body and "2023-12-31" in body


def test_the_page_is_in_english_on_request(site: Site) -> None:
    response = site.staff.get(f"/evaluation?{QUERY}", headers={"Accept-Language": "en"})
    shown = text_of(response.get_data(as_text=True))
    assert "Answer rate in phone hours" in shown
    assert "Download as PDF" in shown
    assert "Monday 15–16:" in shown and "calls a year" in shown


def test_the_page_links_its_pdf_and_keeps_the_strict_csp(site: Site) -> None:
    response = site.staff.get(f"/evaluation?{QUERY}&unit=jobcenter")
    body = response.get_data(as_text=True)
    assert 'href="/evaluation.pdf?' in body and "Hent som PDF" in body
    assert "style=" not in body
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-13-01&to=2026-12-31", "from", "Skriv en dato"),
        ("from=2026-12-31&to=2026-01-01", "to", "ligger før"),
        ("from=2026-01-01&to=2026-12-31&unit=nobody", "unit", "findes ikke"),
    ],
    ids=["bad-date", "reversed", "unknown-unit"],
)
def test_bad_input_is_shown_on_the_form(site: Site, query: str, field: str, message: str) -> None:
    body = page(site.staff, f"/evaluation?{query}", 400)
    assert f'id="error-{field}"' in body and message in body


# ------------------------------------------------------------------------------- PDF


def test_the_pdf_holds_the_cover_the_goals_and_the_figures(site: Site) -> None:
    response = site.staff.get(f"/evaluation.pdf?{QUERY}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    pages = [p.extract_text() for p in reader.pages]
    assert reader.pages[0].mediabox.width == pytest.approx(595.3, abs=1)  # A4
    assert "Lab Kommune" in pages[0] or site.office.registry.name in pages[0]
    assert "1. november 2025" in pages[0] and "31. oktober 2026" in pages[0]
    whole = "\n".join(pages)
    assert "Svarprocent i telefontiden" in whole  # Danish even when the page was English
    assert "Bemanding pr. time i ugen" in whole
    assert "Mandag 15–16:" in whole
    api = site.staff.get(f"{API}?{QUERY}").get_json()
    jobcenter = next(u for u in api["units"] if u["unit"] == "jobcenter")
    calls = jobcenter["calls"]
    assert f"{calls} opkald i perioden" in whole.replace("\n", " ")


def test_a_bad_pdf_request_is_a_400(site: Site) -> None:
    response = site.staff.get("/evaluation.pdf?from=2026-12-31&to=2026-01-01")
    assert response.status_code == 400


# ------------------------------------------------------------------------------- API


def test_the_api_gives_the_shape_with_iso_dates_shares_and_definitions(site: Site) -> None:
    shape = page(site.staff, f"{API}?{QUERY}") and site.staff.get(f"{API}?{QUERY}").get_json()
    assert (shape["from"], shape["to"]) == ("2025-11-01", "2026-10-31")
    assert (shape["previous_from"], shape["previous_to"]) == ("2024-11-01", "2025-10-31")
    assert shape["goal_keys"] == list(GOAL_KEYS)
    assert "answer_rate" in shape["definitions"]["figures"]
    assert "previous_period" in shape["definitions"]["evaluation"]
    unit = next(u for u in shape["units"] if u["unit"] == "jobcenter")
    goal = unit["goals"][0]
    assert goal["key"] == "answer_rate" and goal["target"] == 0.8
    assert 0 <= goal["this"]["value"] <= 1 and goal["this"]["basis"] > 0
    assert isinstance(goal["met"], bool)
    assert [m["from"] for m in unit["trend"]][:2] == ["2025-11-01", "2025-12-01"]
    assert len(unit["outside_hours"]) == 7 and len(unit["outside_hours"][0]) == 24
    assert unit["top_hours"][0]["weekday"] == "mon" and unit["top_hours"][0]["hour"] == 15
    staffing = unit["staffing"]
    assert staffing and {"hour_of_week", "weekday", "hour", "needed_erlang_c", "seen"} <= set(
        staffing[0]
    )
    assert shape["total"]["unit"] is None and shape["total"]["staffing"] == []


def test_the_api_takes_a_token(site: Site, database_url: str) -> None:
    service = tokens(database_url, lambda: REPORTED_AT)
    _, secret = service.issue_token("bi", ("read-status",), actor="test")
    response = site.anonymous.get(f"{API}?{QUERY}", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.get_json()["from"] == "2025-11-01"


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
        ("from=2026-01-01&to=2026-01-02&unit=nobody", 404, "unknown_unit", "nobody"),
    ],
    ids=["bad-date", "no-to", "no-from", "reversed", "too-long", "unknown-unit"],
)
def test_bad_parameters_are_json_errors(
    site: Site, query: str, status: int, error: str, detail: str
) -> None:
    response = site.staff.get(f"{API}?{query}")
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == error and detail in body["detail"]


def test_the_page_ends_with_the_definitions_of_its_figures(site: Site) -> None:
    body = page(site.staff, f"/evaluation?{QUERY}&unit=jobcenter")
    shown = text_of(body[body.index('id="definitions"') :])
    assert "Svarprocent i telefontiden = besvarede opkald i telefontiden" in shown
    assert "Forrige periode: lige så mange dage" in shown and "2024-11-01" in shown
    english = site.staff.get(f"/evaluation?{QUERY}", headers={"Accept-Language": "en"})
    assert "Previous period: as many days" in english.get_data(as_text=True)
