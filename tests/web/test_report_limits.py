"""Bounded reports (docs/reports.md): over the size limit every door answers 400 with
advice; just under it the report works; heavy reports come from a per-scope cache.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from phoneservice.domain.reports.limits import MAX_REPORT_ROWS
from phoneservice.services.reports import ReportService
from tests.services.test_reports import REPORTED_AT, build_office, fill_week
from tests.staff import add_user, login, staff_app, tokens
from tests.web.test_web_reports import API, Site

FIRST = date(2024, 1, 1)


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    """The fixed week, a viewer signed in (every unit) and an anonymous client."""
    for office in build_office(database_url):
        fill_week(office)
        app = staff_app(database_url, office.registry, lambda: REPORTED_AT)
        add_user(database_url, lambda: REPORTED_AT, "vera", "viewer")
        add_user(database_url, lambda: REPORTED_AT, "jens", "agent", "jobcenter")
        staff = app.test_client()
        assert login(staff, "vera") == 302
        yield Site(office, staff, app.test_client())


def units(site: Site) -> int:
    """How many units the lab registry has (every unit is a row of the report)."""
    return len(site.office.registry.units)


def by_day(days: int, **extra: str) -> str:
    """The query of a report split by day over ``days`` days from FIRST."""
    last = FIRST + timedelta(days=days - 1)
    query = {"from": FIRST.isoformat(), "to": last.isoformat(), "by": "day", **extra}
    return "&".join(f"{key}={value}" for key, value in query.items())


def largest(site: Site) -> int:
    """The most days by day that stay within the limit for every unit."""
    return MAX_REPORT_ROWS // units(site)


# ---------------------------------------------------------------------------- over


def test_an_oversize_report_is_a_400_problem_with_advice_on_the_api(site: Site) -> None:
    response = site.staff.get(f"{API}?{by_day(largest(site) + 1)}")
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["error"] == "report_too_large"
    assert problem["rows"] == (largest(site) + 1) * units(site) > problem["limit"]
    assert problem["limit"] == MAX_REPORT_ROWS
    assert problem["advice"] == ["shorter from-to", "by=week", "unit=ID"]
    assert "shorter range" in problem["detail"] and "split by week" in problem["detail"]


def test_an_oversize_report_with_a_token_is_the_same_problem(site: Site, database_url: str) -> None:
    _, secret = tokens(database_url, lambda: REPORTED_AT).issue_token(
        "bi", ("read-status",), actor="test"
    )
    response = site.anonymous.get(
        f"{API}?{by_day(largest(site) + 1)}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "report_too_large"


def test_the_page_keeps_the_form_and_says_how_to_narrow_it(site: Site) -> None:
    days = largest(site) + 1
    response = site.staff.get(f"/reports?{by_day(days)}")
    assert response.status_code == 400
    body = html.unescape(response.get_data(as_text=True))
    last = (FIRST + timedelta(days=days - 1)).isoformat()
    assert f'name="from" type="date" value="{FIRST.isoformat()}"' in body
    assert f'name="to" type="date" value="{last}"' in body
    assert '<option value="day" selected>' in body
    assert 'role="alert" id="too-large"' in body
    assert "Rapporten er for stor" in body and f"{MAX_REPORT_ROWS} rækker" in body
    assert "vælg en kortere periode" in body and "opdel pr. uge i stedet" in body
    assert "vælg én enhed" in body
    assert "<svg" not in body  # no figures: nothing was computed


def test_the_page_says_it_in_english_too(site: Site) -> None:
    response = site.staff.get(
        f"/reports?{by_day(largest(site) + 1)}", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    body = html.unescape(response.get_data(as_text=True))
    assert "The report is too large" in body and "split by week instead" in body


def test_one_unit_is_not_advised_when_one_unit_was_asked_for(site: Site) -> None:
    response = site.staff.get(f"{API}?{by_day(801, unit='jobcenter')}")
    assert response.status_code == 400
    assert response.get_json()["advice"] == ["shorter from-to", "by=week"]


def test_the_csv_of_an_oversize_report_is_a_400(site: Site) -> None:
    response = site.staff.get(f"/reports.csv?table=periods&{by_day(largest(site) + 1)}")
    assert response.status_code == 400
    body = html.unescape(response.get_data(as_text=True))
    assert "Rapporten er for stor" in body and "opdel pr. uge i stedet" in body


# --------------------------------------------------------------------------- under


def test_a_report_just_under_the_limit_works_at_every_door(site: Site) -> None:
    days = largest(site)
    api = site.staff.get(f"{API}?{by_day(days)}")
    assert api.status_code == 200, api.get_data(as_text=True)[:300]
    assert len(api.get_json()["periods"]) == days
    assert site.staff.get(f"/reports?{by_day(days)}").status_code == 200
    csv = site.staff.get(f"/reports.csv?table=periods&{by_day(days)}")
    assert csv.status_code == 200
    assert csv.get_data(as_text=True).count("\r\n") == 1 + days * (units(site) + 1)


def test_the_command_line_keeps_no_limit(site: Site) -> None:
    from phoneservice.domain.reports.report import ReportRequest

    last = FIRST + timedelta(days=largest(site))
    report = site.office.reports.report(ReportRequest(FIRST, last, None, "day"), limited=False)
    assert len(report.periods) == largest(site) + 1


# --------------------------------------------------------------------------- cache


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ``from`` of every report read from the database (not from the cache)."""
    found: list[str] = []
    compute = ReportService._compute

    def counted(self: ReportService, request: object) -> object:
        found.append(str(getattr(request, "first", "")))
        return compute(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(ReportService, "_compute", counted)
    return found


def test_a_heavy_report_asked_again_comes_from_the_cache(site: Site, computed: list[str]) -> None:
    query = f"{API}?{by_day(100)}"
    first, second = site.staff.get(query), site.staff.get(query)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()  # the same body, generated_at included
    assert len(computed) == 1
    assert site.staff.get(f"/reports.csv?table=calls&{by_day(100)}").status_code == 200
    assert len(computed) == 1  # the CSV of the same report too


def test_the_cache_never_crosses_unit_scopes(site: Site, computed: list[str]) -> None:
    query = f"{API}?{by_day(100)}"
    assert site.staff.get(query).status_code == 200  # vera: every unit
    agent = site.anonymous
    assert login(agent, "jens") == 302  # jens: jobcenter only
    assert agent.get(query).status_code == 200
    assert len(computed) == 2  # jens's scope is another key: computed for him
    assert agent.get(query).status_code == 200
    assert len(computed) == 2


def test_small_reports_are_always_fresh(site: Site, computed: list[str]) -> None:
    query = f"{API}?from=2026-11-16&to=2026-11-20"
    assert site.staff.get(query).status_code == 200
    assert site.staff.get(query).status_code == 200
    assert len(computed) == 2
