"""Danish first, English by Accept-Language or the switch: the pages and their phrases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from phoneservice.domain.hours.status import Override, Status
from phoneservice.present import wording
from phoneservice.registry import Registry
from phoneservice.settings import Settings
from phoneservice.web import create_app
from tests.conftest import SHIPPED_CONFIG, at

MONDAY_1359 = datetime(2026, 11, 23, 12, 59, 50, tzinfo=UTC)  # Copenhagen 13:59:50
CHRISTMAS_EVE = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
NOW = at("2026-11-23T13:59:50")


def app_at(registry: Registry, moment: datetime):
    return create_app(Settings(config=str(SHIPPED_CONFIG)), registry=registry, clock=lambda: moment)


def page(client, url: str, **headers: str) -> str:
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_danish_without_a_preference(shipped):
    body = page(app_at(shipped, MONDAY_1359).test_client(), "/")
    assert '<html lang="da">' in body
    assert "lukker kl. 14:00" in body and "Kommunale centre" in body


def test_english_when_the_browser_prefers_it(shipped):
    body = page(app_at(shipped, MONDAY_1359).test_client(), "/", **{"Accept-Language": "en-GB"})
    assert '<html lang="en">' in body
    assert "closes at 14:00" in body
    assert "Municipal centres" in body and "Other authorities" in body
    assert "OPEN" in body and "Sign in" in body
    assert "lukker kl." not in body


def test_the_switch_is_remembered_until_switched_back(shipped):
    client = app_at(shipped, MONDAY_1359).test_client()
    assert "closes at 14:00" in page(client, "/?lang=en")
    assert "closes at 14:00" in page(client, "/")  # the cookie keeps the choice
    assert "lukker kl. 14:00" in page(client, "/?lang=da")
    assert "lukker kl. 14:00" in page(client, "/", **{"Accept-Language": "en"})


def test_an_unknown_language_falls_back_to_danish(shipped):
    body = page(app_at(shipped, MONDAY_1359).test_client(), "/?lang=xx")
    assert '<html lang="da">' in body


def test_holiday_names_are_translated_and_the_registry_s_own_names_kept(shipped):
    client = app_at(shipped, CHRISTMAS_EVE).test_client()
    assert "Christmas Eve" in page(client, "/units/borgerservice?lang=en")
    assert "Juleaftensdag" in page(client, "/units/borgerservice?lang=da")


def test_errors_are_english_too(shipped):
    client = app_at(shipped, MONDAY_1359).test_client()
    answer = client.get("/units/atlantis", headers={"Accept-Language": "en"})
    assert answer.status_code == 404
    assert "Unit not found" in answer.get_data(as_text=True)


TUESDAY_10 = at("2026-11-24T10:00")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (wording.DANISH, "åbner i morgen kl. 10:00"),
        (wording.ENGLISH, "opens tomorrow at 10:00"),
    ],
)
def test_the_next_change_in_both_languages(words, expected):
    closed = Status(open=False, reason="uden for telefontid", closes_at=None, next_open=TUESDAY_10)
    assert words.change(closed, NOW) == expected


def test_english_dates_deadlines_and_overrides():
    en = wording.ENGLISH
    assert en.long_date(NOW.date()) == "Monday 23 November 2026"
    assert en.when(at("2026-11-26T10:00"), NOW) == "Thursday at 10:00"
    assert en.when(at("2026-11-24T00:00"), NOW) == "at midnight"
    assert en.due(at("2026-11-22T15:00"), NOW) == "overdue since yesterday at 15:00"
    fire = Override("borgerservice", NOW, at("2026-11-23T14:30"), False, "brandalarm", "ida")
    held = Status(open=False, reason="brandalarm", closes_at=None, next_open=None, override=fire)
    assert en.override(held, NOW) == "Closed by hand until 14:30: brandalarm"
