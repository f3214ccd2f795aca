"""Open/closed, closes_at and next_open on the layered Danish calendar (SPEC §4)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from phoneservice.domain.errors import DomainError, NaiveDatetimeError
from phoneservice.domain.hours.status import Override, status, unit_statuses
from phoneservice.registry import Registry
from tests.conftest import BORGERSERVICE, at, registry_from

# (id, instant, open, reason, closes_at, next_open)
BORGERSERVICE_CASES = [
    ("open-monday", "2026-11-23T11:00", True, "telefontid", "2026-11-23T14:00:00+01:00", None),
    ("exactly-at-open", "2026-11-23T10:00", True, "telefontid", "2026-11-23T14:00:00+01:00", None),
    (
        "exactly-at-close",
        "2026-11-23T14:00",
        False,
        "uden for telefontid",
        None,
        "2026-11-24T10:00:00+01:00",
    ),
    (
        "thursday-long-day",
        "2026-11-26T16:59",
        True,
        "telefontid",
        "2026-11-26T17:00:00+01:00",
        None,
    ),
    (
        "saturday",
        "2026-11-28T12:00",
        False,
        "uden for telefontid",
        None,
        "2026-11-30T10:00:00+01:00",
    ),
    (
        "christmas-eve-with-closure",
        "2026-12-24T10:00",
        False,
        "Juleaftensdag",
        None,
        "2027-01-04T10:00:00+01:00",
    ),
    (
        "christmas-closure",
        "2026-12-29T11:00",
        False,
        "Juleferie",
        None,
        "2027-01-04T10:00:00+01:00",
    ),
    ("new-years-eve", "2026-12-31T11:00", False, "Nytårsaften", None, "2027-01-04T10:00:00+01:00"),
    (
        "ascension",
        "2026-05-14T11:00",
        False,
        "Kristi himmelfartsdag",
        None,
        "2026-05-18T10:00:00+02:00",
    ),
    (
        "day-after-ascension",
        "2026-05-15T11:00",
        False,
        "Dagen efter Kristi himmelfartsdag",
        None,
        "2026-05-18T10:00:00+02:00",
    ),
    (
        "summer-season-open",
        "2026-07-02T12:30",
        True,
        "Sommertelefontid",
        "2026-07-02T13:00:00+02:00",
        None,
    ),
    (
        "summer-season-closed",
        "2026-07-02T14:00",
        False,
        "Sommertelefontid",
        None,
        "2026-07-03T10:00:00+02:00",
    ),
    (
        "half-day-before-cut",
        "2026-06-05T11:00",
        True,
        "Grundlovsdag",
        "2026-06-05T12:00:00+02:00",
        None,
    ),
    (
        "half-day-after-cut",
        "2026-06-05T12:30",
        False,
        "Grundlovsdag",
        None,
        "2026-06-08T10:00:00+02:00",
    ),
    (
        "may-day-half-day",
        "2026-05-01T11:30",
        True,
        "Arbejdernes kampdag",
        "2026-05-01T12:00:00+02:00",
        None,
    ),
    (
        "store-bededag-2023",
        "2023-05-05T11:00",
        False,
        "Store bededag",
        None,
        "2023-05-08T10:00:00+02:00",
    ),
    (
        "no-store-bededag-2024",
        "2024-04-26T11:00",
        True,
        "telefontid",
        "2024-04-26T13:00:00+02:00",
        None,
    ),
    (
        "maundy-thursday-2026",
        "2026-04-02T11:00",
        False,
        "Skærtorsdag",
        None,
        "2026-04-07T10:00:00+02:00",
    ),
    (
        "utc-input",
        "2026-11-23T09:30:00+00:00",
        True,
        "telefontid",
        "2026-11-23T14:00:00+01:00",
        None,
    ),
]


def _iso(value: object) -> str | None:
    """An optional datetime as ISO text."""
    return None if value is None else value.isoformat()  # type: ignore[attr-defined]


def _check(registry: Registry, unit: str, instant: str, expected: tuple) -> None:
    """Compare a unit's status with (open, reason, closes_at, next_open)."""
    state = status(registry.unit(unit).schedule, at(instant))
    got = (state.open, state.reason, _iso(state.closes_at), _iso(state.next_open))
    assert got == expected


@pytest.mark.parametrize(
    ("instant", "is_open", "reason", "closes", "opens"),
    [case[1:] for case in BORGERSERVICE_CASES],
    ids=[case[0] for case in BORGERSERVICE_CASES],
)
def test_borgerservice_status(spec_registry, instant, is_open, reason, closes, opens):
    _check(spec_registry, "borgerservice", instant, (is_open, reason, closes, opens))


def test_spec_example_without_christmas_closure():
    registry = registry_from(BORGERSERVICE, closures=False)
    expected = (False, "Juleaftensdag", None, "2026-12-28T10:00:00+01:00")
    _check(registry, "borgerservice", "2026-12-24T10:00", expected)


# Christmas and Easter weeks 2025-2027: (date, reason, intervals as text)
CALENDAR_WEEKS = [
    ("2025-12-23", "telefontid", ["10:00-14:00"]),
    ("2025-12-24", "Juleaftensdag", []),
    ("2025-12-25", "Juledag", []),
    ("2025-12-26", "Anden juledag", []),
    ("2025-12-27", "uden for telefontid", []),
    ("2025-12-29", "Juleferie", []),
    ("2025-12-31", "Nytårsaften", []),
    ("2026-01-01", "Nytårsdag", []),
    ("2026-01-02", "telefontid", ["10:00-13:00"]),
    ("2026-12-23", "telefontid", ["10:00-14:00"]),
    ("2026-12-24", "Juleaftensdag", []),
    ("2026-12-25", "Juledag", []),
    ("2026-12-26", "Anden juledag", []),
    ("2026-12-28", "Juleferie", []),
    ("2026-12-30", "Juleferie", []),
    ("2026-12-31", "Nytårsaften", []),
    ("2027-01-01", "Nytårsdag", []),
    ("2027-01-04", "telefontid", ["10:00-14:00"]),
    ("2027-12-23", "telefontid", ["10:00-17:00"]),
    ("2027-12-24", "Juleaftensdag", []),
    ("2027-12-27", "Juleferie", []),
    ("2027-12-30", "Juleferie", []),
    ("2027-12-31", "Nytårsaften", []),
    ("2028-01-03", "telefontid", ["10:00-14:00"]),
    ("2025-04-16", "telefontid", ["10:00-14:00"]),
    ("2025-04-17", "Skærtorsdag", []),
    ("2025-04-18", "Langfredag", []),
    ("2025-04-20", "Påskedag", []),
    ("2025-04-21", "Anden påskedag", []),
    ("2025-04-22", "telefontid", ["10:00-14:00"]),
    ("2026-04-01", "telefontid", ["10:00-14:00"]),
    ("2026-04-02", "Skærtorsdag", []),
    ("2026-04-03", "Langfredag", []),
    ("2026-04-06", "Anden påskedag", []),
    ("2026-04-07", "telefontid", ["10:00-14:00"]),
    ("2027-03-24", "telefontid", ["10:00-14:00"]),
    ("2027-03-25", "Skærtorsdag", []),
    ("2027-03-26", "Langfredag", []),
    ("2027-03-29", "Anden påskedag", []),
    ("2027-03-30", "telefontid", ["10:00-14:00"]),
    ("2023-05-05", "Store bededag", []),
    ("2024-04-26", "telefontid", ["10:00-13:00"]),
    ("2025-05-29", "Kristi himmelfartsdag", []),
    ("2025-05-30", "Dagen efter Kristi himmelfartsdag", []),
    ("2027-05-07", "Dagen efter Kristi himmelfartsdag", []),
]


@pytest.mark.parametrize(
    ("day", "reason", "intervals"), CALENDAR_WEEKS, ids=[f"{d}-{r}" for d, r, _ in CALENDAR_WEEKS]
)
def test_calendar_weeks(spec_registry, day, reason, intervals):
    from phoneservice.present.shapes import interval_text

    plan = spec_registry.unit("borgerservice").schedule.day_plan(date.fromisoformat(day))
    assert (plan.reason, [interval_text(i) for i in plan.intervals]) == (reason, intervals)


SPECIAL_UNITS = """
[[unit]]
id = "night-owl"
name = "Natlinje 02-03"
kind = "authority"
phone = "1"
calendar = "none"
hours = { daily = ["02:00-03:00"] }

[[unit]]
id = "round-the-clock"
name = "Døgnåben"
kind = "authority"
phone = "2"
calendar = "none"
hours = { daily = ["00:00-24:00"] }

[[unit]]
id = "daily-national"
name = "Døgnåben undtagen helligdage"
kind = "authority"
phone = "3"
hours = { daily = ["00:00-24:00"] }

[[unit]]
id = "nightline"
name = "Fredagsnat"
kind = "centre"
phone = "4"
hours = { fri = ["22:00-02:00"], sat = ["10:00-12:00"] }

[[unit]]
id = "summer"
name = "Sommer over månedsskifte"
kind = "centre"
phone = "5"
hours = { "mon-fri" = ["09:00-15:00"] }

[[unit.season]]
name = "Sommerferie"
from = "06-25"
to = "07-05"
hours = { "mon-fri" = ["10:00-12:00"] }

[[unit.season]]
name = "Juleuger"
weeks = "52-1"
hours = {}

[[unit]]
id = "reopened"
name = "Åben juleaften"
kind = "centre"
phone = "6"
hours = { "mon-fri" = ["09:00-15:00"] }

[[unit.exception]]
date = 2026-12-24
hours = ["09:00-12:00"]
reason = "Ekstraordinært åbent"

[[unit]]
id = "never"
name = "Ingen telefontid"
kind = "centre"
phone = "7"

[[unit]]
id = "shut-down"
name = "Nedlagt linje"
kind = "centre"
phone = "8"
hours = { "mon-fri" = ["09:00-15:00"] }

[[unit.exception]]
from = 2026-11-01
to = 2028-01-01
hours = []
reason = "Nedlagt"

[[unit]]
id = "lunch"
name = "Med frokost og sammenhæng"
kind = "centre"
phone = "9"
hours = { "mon-fri" = ["08:00-12:00", "12:00-16:00"] }
"""

SPECIAL_CASES = [
    (
        "dst-spring-gap-skips-interval",
        "night-owl",
        "2026-03-29T01:30+01:00",
        False,
        "uden for telefontid",
        None,
        "2026-03-30T02:00:00+02:00",
    ),
    (
        "dst-spring-day-before",
        "night-owl",
        "2026-03-28T02:30+01:00",
        True,
        "telefontid",
        "2026-03-28T03:00:00+01:00",
        None,
    ),
    (
        "dst-fall-first-pass",
        "night-owl",
        "2026-10-25T02:30+02:00",
        True,
        "telefontid",
        "2026-10-25T03:00:00+01:00",
        None,
    ),
    (
        "dst-fall-second-pass",
        "night-owl",
        "2026-10-25T02:30+01:00",
        True,
        "telefontid",
        "2026-10-25T03:00:00+01:00",
        None,
    ),
    (
        "dst-fall-before",
        "night-owl",
        "2026-10-25T01:30+02:00",
        False,
        "uden for telefontid",
        None,
        "2026-10-25T02:00:00+02:00",
    ),
    ("24-7-spring", "round-the-clock", "2026-03-29T03:30+02:00", True, "telefontid", None, None),
    ("24-7-fall", "round-the-clock", "2026-10-25T02:30+01:00", True, "telefontid", None, None),
    (
        "00-24-merges-over-spring-dst",
        "daily-national",
        "2026-03-28T12:00",
        True,
        "telefontid",
        "2026-04-02T00:00:00+02:00",
        None,
    ),
    (
        "00-24-merges-over-fall-dst",
        "daily-national",
        "2026-10-24T12:00",
        True,
        "telefontid",
        "2026-12-25T00:00:00+01:00",
        None,
    ),
    (
        "overnight-evening",
        "nightline",
        "2026-11-27T23:00",
        True,
        "telefontid",
        "2026-11-28T02:00:00+01:00",
        None,
    ),
    (
        "overnight-after-midnight",
        "nightline",
        "2026-11-28T01:00",
        True,
        "telefontid",
        "2026-11-28T02:00:00+01:00",
        None,
    ),
    (
        "overnight-ended",
        "nightline",
        "2026-11-28T03:00",
        False,
        "uden for telefontid",
        None,
        "2026-11-28T10:00:00+01:00",
    ),
    (
        "overnight-not-from-holiday",
        "nightline",
        "2026-12-26T01:00",
        False,
        "Anden juledag",
        None,
        "2027-01-02T10:00:00+01:00",
    ),
    (
        "season-before-boundary",
        "summer",
        "2026-06-24T14:00",
        True,
        "telefontid",
        "2026-06-24T15:00:00+02:00",
        None,
    ),
    (
        "season-starts-june",
        "summer",
        "2026-06-25T11:00",
        True,
        "Sommerferie",
        "2026-06-25T12:00:00+02:00",
        None,
    ),
    (
        "season-runs-into-july",
        "summer",
        "2026-07-03T11:00",
        True,
        "Sommerferie",
        "2026-07-03T12:00:00+02:00",
        None,
    ),
    (
        "season-over",
        "summer",
        "2026-07-06T14:00",
        True,
        "telefontid",
        "2026-07-06T15:00:00+02:00",
        None,
    ),
    (
        "season-iso-weeks-over-new-year",
        "summer",
        "2026-12-21T10:00",
        False,
        "Juleuger",
        None,
        "2027-01-11T09:00:00+01:00",
    ),
    (
        "exception-reopens-holiday",
        "reopened",
        "2026-12-24T10:00",
        True,
        "Ekstraordinært åbent",
        "2026-12-24T12:00:00+01:00",
        None,
    ),
    ("no-hours-never-opens", "never", "2026-11-23T10:00", False, "uden for telefontid", None, None),
    ("closed-beyond-horizon", "shut-down", "2026-11-23T10:00", False, "Nedlagt", None, None),
    (
        "reopens-just-inside-horizon",
        "shut-down",
        "2027-01-03T12:00",
        False,
        "Nedlagt",
        None,
        "2028-01-03T09:00:00+01:00",
    ),
    (
        "adjacent-intervals-merge",
        "lunch",
        "2026-11-23T11:00",
        True,
        "telefontid",
        "2026-11-23T16:00:00+01:00",
        None,
    ),
]


@pytest.fixture(scope="module")
def special() -> Registry:
    return registry_from(SPECIAL_UNITS)


@pytest.mark.parametrize(
    ("unit", "instant", "is_open", "reason", "closes", "opens"),
    [case[1:] for case in SPECIAL_CASES],
    ids=[case[0] for case in SPECIAL_CASES],
)
def test_special_units(special, unit, instant, is_open, reason, closes, opens):
    _check(special, unit, instant, (is_open, reason, closes, opens))


def _override(start: str, end: str, *, is_open: bool = False, reason: str = "Brandalarm"):
    return Override("borgerservice", at(start), at(end), is_open, reason, "anne")


OVERRIDE_CASES = [
    (
        "close-now",
        _override("2026-11-23T10:30", "2026-11-23T11:30"),
        "2026-11-23T11:00",
        (False, "Brandalarm", None, "2026-11-23T11:30:00+01:00"),
    ),
    (
        "close-past-closing-time",
        _override("2026-11-23T10:30", "2026-11-23T15:00"),
        "2026-11-23T11:00",
        (False, "Brandalarm", None, "2026-11-24T10:00:00+01:00"),
    ),
    (
        "close-cuts-closes-at",
        _override("2026-11-23T12:00", "2026-11-23T13:00"),
        "2026-11-23T11:00",
        (True, "telefontid", "2026-11-23T12:00:00+01:00", None),
    ),
    (
        "open-outside-hours",
        _override("2026-11-23T16:00", "2026-11-23T18:00", is_open=True, reason="Ekstra telefontid"),
        "2026-11-23T16:30",
        (True, "Ekstra telefontid", "2026-11-23T18:00:00+01:00", None),
    ),
    (
        "opening-is-next-open",
        _override("2026-11-23T16:00", "2026-11-23T18:00", is_open=True, reason="Ekstra telefontid"),
        "2026-11-23T15:00",
        (False, "uden for telefontid", None, "2026-11-23T16:00:00+01:00"),
    ),
    (
        "opening-adjacent-merges",
        _override("2026-11-23T14:00", "2026-11-23T15:00", is_open=True, reason="Ekstra"),
        "2026-11-23T13:00",
        (True, "telefontid", "2026-11-23T15:00:00+01:00", None),
    ),
    (
        "expired-override-ignored",
        _override("2026-11-20T10:00", "2026-11-20T11:00"),
        "2026-11-23T11:00",
        (True, "telefontid", "2026-11-23T14:00:00+01:00", None),
    ),
]


@pytest.mark.parametrize(
    ("override", "instant", "expected"),
    [case[1:] for case in OVERRIDE_CASES],
    ids=[case[0] for case in OVERRIDE_CASES],
)
def test_overrides(spec_registry, override, instant, expected):
    state = status(spec_registry.unit("borgerservice").schedule, at(instant), [override])
    got = (state.open, state.reason, _iso(state.closes_at), _iso(state.next_open))
    assert got == expected
    assert (state.override is override) == override.covers(at(instant).timestamp())


BRAND = _override("2026-11-23T11:00", "2026-11-23T12:00")
SYSTEM = _override("2026-11-23T11:30", "2026-11-23T13:00", reason="Systemnedbrud")
PAST_CLOSING = _override("2026-11-23T13:00", "2026-11-23T15:00")
NIGHT = _override("2026-11-23T22:00", "2026-11-24T02:00", is_open=True, reason="Nattevagt")
ENDED_EARLY = _override("2026-11-23T11:00", "2026-11-23T11:10")  # planned until 12:00
LATE = _override("2026-11-23T13:00", "2026-11-23T16:00", is_open=True, reason="Ekstra")
EVENING = _override("2026-11-23T16:00", "2026-11-23T18:00", is_open=True, reason="Ekstra")
IN_EVENING = _override("2026-11-23T16:30", "2026-11-23T17:00")


def _monday(text: str) -> datetime:
    """A local time on Monday 23 November 2026 ("11:00"), or later that month ("24T10:00")."""
    return at(f"2026-11-{text}" if "T" in text else f"2026-11-23T{text}")


CLOSED = "uden for telefontid"

# (id, overrides, instant, (open, reason, closes_at, next_open), the override in force);
# times are local on Monday 23 November, "24T" on Tuesday. Borgerservice is open 10:00-14:00.
MERGED_CASES = [
    ("inside-before", [BRAND], "10:30", (True, "telefontid", "11:00", None), None),
    ("inside-at-start", [BRAND], "11:00", (False, "Brandalarm", None, "12:00"), BRAND),
    ("inside-during", [BRAND], "11:59", (False, "Brandalarm", None, "12:00"), BRAND),
    ("inside-at-end", [BRAND], "12:00", (True, "telefontid", "14:00", None), None),
    ("spanning-before", [PAST_CLOSING], "12:00", (True, "telefontid", "13:00", None), None),
    (
        "spanning-in-hours",
        [PAST_CLOSING],
        "13:30",
        (False, "Brandalarm", None, "24T10:00"),
        PAST_CLOSING,
    ),
    (
        "spanning-after-hours",
        [PAST_CLOSING],
        "14:30",
        (False, "Brandalarm", None, "24T10:00"),
        PAST_CLOSING,
    ),
    ("spanning-over", [PAST_CLOSING], "15:00", (False, CLOSED, None, "24T10:00"), None),
    ("night-before", [NIGHT], "21:00", (False, CLOSED, None, "22:00"), None),
    ("night-open", [NIGHT], "23:00", (True, "Nattevagt", "24T02:00", None), NIGHT),
    ("night-after-midnight", [NIGHT], "24T01:00", (True, "Nattevagt", "24T02:00", None), NIGHT),
    ("night-over", [NIGHT], "24T02:00", (False, CLOSED, None, "24T10:00"), None),
    (
        "ended-early-during",
        [ENDED_EARLY],
        "11:05",
        (False, "Brandalarm", None, "11:10"),
        ENDED_EARLY,
    ),
    ("ended-early-after", [ENDED_EARLY], "11:10", (True, "telefontid", "14:00", None), None),
    ("overlap-first", [BRAND, SYSTEM], "11:15", (False, "Brandalarm", None, "13:00"), BRAND),
    ("overlap-both", [BRAND, SYSTEM], "11:45", (False, "Brandalarm", None, "13:00"), BRAND),
    (
        "overlap-both-other-order",
        [SYSTEM, BRAND],
        "11:45",
        (False, "Systemnedbrud", None, "13:00"),
        SYSTEM,
    ),
    ("overlap-second", [BRAND, SYSTEM], "12:30", (False, "Systemnedbrud", None, "13:00"), SYSTEM),
    ("overlap-over", [BRAND, SYSTEM], "13:00", (True, "telefontid", "14:00", None), None),
    ("opening-extends-hours", [LATE], "13:30", (True, "telefontid", "16:00", None), LATE),
    ("opening-after-hours", [LATE], "15:00", (True, "Ekstra", "16:00", None), LATE),
    (
        "close-in-opening-before",
        [EVENING, IN_EVENING],
        "16:15",
        (True, "Ekstra", "16:30", None),
        EVENING,
    ),
    (
        "close-in-opening-wins",
        [EVENING, IN_EVENING],
        "16:45",
        (False, "Brandalarm", None, "17:00"),
        IN_EVENING,
    ),
    (
        "close-in-opening-after",
        [EVENING, IN_EVENING],
        "17:00",
        (True, "Ekstra", "18:00", None),
        EVENING,
    ),
]


@pytest.mark.parametrize(
    ("overrides", "instant", "expected", "deciding"),
    [case[1:] for case in MERGED_CASES],
    ids=[case[0] for case in MERGED_CASES],
)
def test_overrides_merged_into_the_timeline(spec_registry, overrides, instant, expected, deciding):
    state = status(spec_registry.unit("borgerservice").schedule, _monday(instant), overrides)
    is_open, reason, closes, opens = expected
    assert (state.open, state.reason) == (is_open, reason)
    assert state.closes_at == (None if closes is None else _monday(closes))
    assert state.next_open == (None if opens is None else _monday(opens))
    assert state.override is deciding


def test_each_unit_gets_only_its_own_overrides(spec_registry):
    schedule = spec_registry.unit("borgerservice").schedule  # one schedule, two units
    units = [("borgerservice", schedule), ("copy", schedule)]
    other = Override("elsewhere", at("2026-11-23T09:00"), at("2026-11-23T20:00"), False, "x", "a")
    found = unit_statuses(units, at("2026-11-23T11:00"), [other, BRAND])
    assert [(s.open, s.reason) for s in found] == [(False, "Brandalarm"), (True, "telefontid")]
    assert found[0].override is BRAND and found[1].override is None


def test_a_long_closing_override_looks_past_the_window(spec_registry):
    month = _override("2026-11-23T09:00", "2026-12-23T09:00")
    state = status(spec_registry.unit("borgerservice").schedule, at("2026-11-23T11:00"), [month])
    assert (state.open, state.reason) == (False, "Brandalarm")
    assert _iso(state.next_open) == "2026-12-23T10:00:00+01:00"


def test_override_rejects_bad_values():
    with pytest.raises(NaiveDatetimeError):
        Override(
            "x",
            at("2026-11-23T10:00").replace(tzinfo=None),
            at("2026-11-23T11:00"),
            False,
            "r",
            "a",
        )
    with pytest.raises(DomainError, match="end after"):
        _override("2026-11-23T11:00", "2026-11-23T10:00")
    with pytest.raises(DomainError, match="reason"):
        _override("2026-11-23T10:00", "2026-11-23T11:00", reason="  ")


def test_status_rejects_naive_time(spec_registry):
    naive = at("2026-11-23T10:00").replace(tzinfo=None)
    with pytest.raises(NaiveDatetimeError):
        status(spec_registry.unit("borgerservice").schedule, naive)


def test_next_open_is_exact_across_the_whole_christmas_season(spec_registry):
    schedule = spec_registry.unit("borgerservice").schedule
    moment = at("2026-12-23T14:00")
    while moment < at("2027-01-04T10:00"):
        assert status(schedule, moment).next_open == at("2027-01-04T10:00")
        moment += timedelta(hours=7)


def test_a_24_7_week_on_a_calendar_with_holidays_still_closes_on_them():
    from phoneservice.domain.hours.calendar import Calendar
    from phoneservice.domain.hours.schedule import Interval, Schedule
    from tests.conftest import TZ

    def christmas_only(day):
        return "Juledag" if (day.month, day.day) == (12, 25) else None

    calendar = Calendar("national", 900, christmas_only)
    schedule = Schedule(TZ, calendar, ((Interval(0, 1440),),) * 7)
    state = status(schedule, at("2026-12-25T12:00"))
    assert (state.open, state.reason) == (False, "Juledag")
    assert status(schedule, at("2026-12-24T12:00")).closes_at == at("2026-12-25T00:00")


def _plans(registry: Registry, first: str, days: int, *overrides: Override) -> list[tuple]:
    """``effective_days`` as (date, intervals as HH:MM text, reason, layer) rows."""
    from phoneservice.domain.hours.status import effective_days

    schedule = registry.unit("borgerservice").schedule
    found = effective_days(schedule, date.fromisoformat(first), days, overrides)
    return [
        (
            p.day.isoformat(),
            [_hhmm(i.start) + "-" + _hhmm(i.end) for i in p.intervals],
            p.reason,
            p.layer,
        )
        for p in found
    ]


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _overriding(start: str, end: str, *, open: bool, reason: str) -> Override:
    return Override("borgerservice", at(start), at(end), open, reason, "ib")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        pytest.param(
            _overriding(
                "2026-11-23T11:00:30", "2026-11-23T12:00:30", open=False, reason="Brandalarm"
            ),
            [
                ("2026-11-23", ["10:00-11:00", "12:01-14:00"], "Brandalarm", "override"),
                ("2026-11-24", ["10:00-14:00"], "telefontid", "week"),
            ],
            id="closed-for-an-hour-cuts-the-day",
        ),
        pytest.param(
            _overriding("2026-11-23T20:00", "2026-11-25T02:00", open=True, reason="Beredskab"),
            [
                ("2026-11-23", ["10:00-14:00", "20:00-24:00"], "Beredskab", "override"),
                ("2026-11-24", ["00:00-24:00"], "Beredskab", "override"),
                ("2026-11-25", ["00:00-02:00", "10:00-14:00"], "Beredskab", "override"),
            ],
            id="opened-over-two-nights-shows-on-each-date",
        ),
        pytest.param(
            _overriding("2026-11-22T20:00", "2026-11-24T12:00", open=False, reason="Nedbrud"),
            [
                ("2026-11-23", [], "Nedbrud", "override"),
                ("2026-11-24", ["12:00-14:00"], "Nedbrud", "override"),
            ],
            id="closed-from-sunday-evening-to-tuesday-noon",
        ),
    ],
)
def test_effective_days_show_what_the_overrides_leave(spec_registry, override, expected):
    """The hours of a date an override touches are what the status walk says is open."""
    first = expected[0][0]
    assert _plans(spec_registry, first, len(expected), override) == expected
    for day, intervals, _, _ in expected:  # each interval's first minute is open, as status says
        for text in intervals:
            start = at(f"{day}T{text[:5]}") if text[:5] != "24:00" else None
            assert (
                start is None
                or status(spec_registry.unit("borgerservice").schedule, start, [override]).open
            )


def test_effective_days_without_overrides_are_the_schedule(spec_registry):
    assert _plans(spec_registry, "2026-11-23", 1) == [
        ("2026-11-23", ["10:00-14:00"], "telefontid", "week")
    ]
