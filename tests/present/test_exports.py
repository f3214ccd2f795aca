"""Exports: OSM opening_hours, iCalendar, Asterisk dialplan and JSON-LD (SPEC §9)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pytest

from phoneservice import cli
from phoneservice.domain.errors import NaiveDatetimeError
from phoneservice.domain.hours.schedule import CLOSED_WEEK, Schedule, Season
from phoneservice.domain.hours.status import open_spans, status
from phoneservice.domain.hours.wallclock import wall_datetime
from phoneservice.present import exports
from phoneservice.present.exports import asterisk, ics, jsonld, osm
from phoneservice.registry import Registry, load_registry
from tests.conftest import SHIPPED_CONFIG, TESTKOMMUNE, TZ

# Monday of a week with a half day (Wed 23), a closed day (Thu 24) and a holiday (Fri 25).
CHRISTMAS_WEEK = datetime(2026, 12, 21, 8, 30, tzinfo=TZ)

SMALL = (
    TESTKOMMUNE
    + """
[calendar]
country = "DK"
closed = ["12-24"]
closes_early = { "12-23" = "12:00" }

[[calendar.closure]]
from = 2026-12-28
to = 2026-12-30
reason = "Juleferie"

[[unit]]
id = "weekly"
name = "Borgerservice; test, linje"
kind = "centre"
phone = "+45 11 22 33 44"
menu = "tast 1"
notes = "Pas, kørekort og MitID – en lang note med æøå, så linjen skal foldes flere gange i ICS."

[unit.hours]
"mon-wed" = ["10:00-14:00"]
thu = ["10:00-17:00"]
fri = ["10:00-13:00"]

[[unit]]
id = "season"
name = "Sæson"
kind = "authority"
phone = "+45 22 33 44 55"
calendar = "none"

[unit.hours]
"mon-fri" = ["09:00-15:00"]

[[unit.season]]
name = "Sommertelefontid"
from = "07-01"
to = "07-31"
hours = { "mon-thu" = ["10:00-13:00"], fri = ["10:00-12:00"] }

[[unit.season]]
name = "Nytårslukket"
weeks = "52-1"
hours = {}

[[unit]]
id = "night"
name = "Natlinjen"
kind = "authority"
phone = "+45 33 44 55 66"
calendar = "none"

[unit.hours]
"mon-fri" = ["22:00-02:00"]
sat = ["10:00-24:00"]

[[unit.exception]]
date = 2026-12-22
hours = []
reason = "Lukket for service"

[[unit]]
id = "always"
name = "Døgnlinjen"
kind = "authority"
phone = "114"
calendar = "none"

[unit.hours]
daily = ["00:00-24:00"]

[[unit]]
id = "allday-municipal"
name = "Døgn med kommunekalender"
kind = "centre"
phone = "+45 44 55 66 77"

[unit.hours]
daily = ["00:00-24:00"]

[[unit]]
id = "never"
name = "Ingen telefontid"
kind = "authority"
phone = "+45 55 66 77 88"
calendar = "none"
"""
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The small registry above, written to a file and loaded."""
    path = tmp_path_factory.mktemp("registry") / "opening_hours.toml"
    path.write_text(SMALL, encoding="utf-8")
    return load_registry(path, CHRISTMAS_WEEK.date())


@pytest.fixture(scope="module")
def shipped() -> Registry:
    """The shipped registry."""
    return load_registry(SHIPPED_CONFIG, CHRISTMAS_WEEK.date())


def _render(kind: str, registry: Registry, ids: list[str], now: datetime = CHRISTMAS_WEEK) -> str:
    """Render an export of the named units."""
    return exports.render(kind, registry, [registry.unit(i) for i in ids], now)


# --- render -------------------------------------------------------------------------------


def test_render_rejects_an_unknown_format(small: Registry) -> None:
    with pytest.raises(ValueError, match="unknown export format 'pdf'"):
        _render("pdf", small, ["weekly"])


def test_render_rejects_a_naive_now(small: Registry) -> None:
    with pytest.raises(NaiveDatetimeError):
        _render("osm", small, ["weekly"], datetime(2026, 12, 21, 8, 30))


# --- OSM ----------------------------------------------------------------------------------

OSM_EXACT = [
    (
        "season",
        "Mo-Fr 09:00-15:00; week 01,52-53 off; Jul 01-31 Mo-Th 10:00-13:00; "
        "Jul 01-31 Fr 10:00-12:00",
    ),
    # Tuesday 22 is closed, but Monday's night still runs to 02:00 on it; Wednesday 23
    # gets no early hours from the closed Tuesday.
    (
        "night",
        "Mo 22:00-02:00; Tu-Fr 00:00-02:00,22:00-02:00; Sa 00:00-02:00,10:00-24:00; "
        "2026 Dec 22 00:00-02:00; 2026 Dec 23 22:00-02:00",
    ),
    ("always", "24/7"),
    ("never", "off"),
]


@pytest.mark.parametrize(("unit", "expected"), OSM_EXACT, ids=[c[0] for c in OSM_EXACT])
def test_osm_value(small: Registry, unit: str, expected: str) -> None:
    assert _render("osm", small, [unit]) == expected + "\n"


OSM_PARTS = [
    (
        "weekly",
        "Mo-We 10:00-14:00; Th 10:00-17:00; Fr 10:00-13:00",
        [
            "2026 Dec 23 10:00-12:00",
            "2026 Dec 24-25 off",
            "2026 Dec 28-30 off",
            "2027 Jan 01 off",
            "2027 May 06 off",
        ],
    ),
    (
        "allday-municipal",
        "24/7",
        ["2026 Dec 23 00:00-12:00", "2026 Dec 24-26 off", "2026 Dec 28-30 off"],
    ),
]


@pytest.mark.parametrize(("unit", "recurring", "dated"), OSM_PARTS, ids=[c[0] for c in OSM_PARTS])
def test_osm_value_has_recurring_then_dated_rules(
    small: Registry, unit: str, recurring: str, dated: list[str]
) -> None:
    value = _render("osm", small, [unit]).strip()
    assert value.startswith(recurring + "; ")
    rules = value.split("; ")
    assert [rule for rule in dated if rule not in rules] == []


@pytest.mark.parametrize(
    ("today", "inside", "outside"),
    [
        (date(2026, 12, 24), ["2027 Dec 23 10:00-12:00"], ["2027 Dec 24 off"]),
        (date(2026, 12, 25), ["2027 Dec 23 10:00-12:00", "2027 Dec 24 off"], []),
    ],
    ids=["last-day-is-dec-23", "last-day-is-dec-24"],
)
def test_osm_dated_rules_cover_365_days_from_today(
    small: Registry, today: date, inside: list[str], outside: list[str]
) -> None:
    now = datetime(today.year, today.month, today.day, 12, tzinfo=TZ)
    rules = _render("osm", small, ["weekly"], now).strip().split("; ")
    assert [rule for rule in inside if rule not in rules] == []
    assert [rule for rule in outside if rule in rules] == []


def test_osm_exact_period_ends_on_the_last_day_the_dated_rules_reach() -> None:
    # As above: from 2026-12-24 the rules reach 2027-12-23 and not 2027-12-24.
    assert osm.exact_period(date(2026, 12, 24)) == (date(2026, 12, 24), date(2027, 12, 23))
    assert osm.period_note(date(2026, 12, 3)) == "exact from 2026-12-03 to 2027-12-02"


def test_osm_several_units_are_tab_separated(small: Registry) -> None:
    text = _render("osm", small, ["always", "never"])
    assert text == "always\t24/7\nnever\toff\n"


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [
        ((28, 30), "week 28-30"),
        ((30, 30), "week 30"),
        ((52, 1), "week 01,52-53"),
        ((50, 3), "week 01-03,50-53"),
    ],
    ids=["range", "one-week", "wraps", "wraps-wide"],
)
def test_osm_week_selector(weeks: tuple[int, int], expected: str) -> None:
    season = Season("x", CLOSED_WEEK, weeks=weeks)
    assert osm.season_selector(season) == expected


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ((7, 1), (7, 31), "Jul 01-31"),
        ((12, 20), (1, 5), "Dec 20-Jan 05"),
        ((6, 15), (8, 15), "Jun 15-Aug 15"),
    ],
    ids=["one-month", "wraps-new-year", "months"],
)
def test_osm_date_selector(first: tuple[int, int], last: tuple[int, int], expected: str) -> None:
    season = Season("x", CLOSED_WEEK, first=first, last=last)
    assert osm.season_selector(season) == expected


def _all_units(small: Registry, shipped: Registry) -> list[tuple[Registry, str]]:
    """Every unit of both registries."""
    return [(reg, unit_id) for reg in (small, shipped) for unit_id in reg.units]


def test_osm_values_match_the_hours_engine_in_opening_hours_py(
    small: Registry, shipped: Registry
) -> None:
    """opening-hours-py reads every value as the same open periods for the whole year."""
    oh = pytest.importorskip(
        "opening_hours", reason="opening-hours-py is optional: pip install opening-hours-py"
    )
    start, end = CHRISTMAS_WEEK.replace(hour=0, minute=0), CHRISTMAS_WEEK + timedelta(days=365)
    start, end = start.replace(tzinfo=TZ), end.replace(hour=0, minute=0, tzinfo=TZ)
    wrong = []
    for registry, unit_id in _all_units(small, shipped):
        value = _render("osm", registry, [unit_id]).strip()
        theirs = oh.OpeningHours(value, timezone=TZ).intervals(start, end)
        got = _merge(
            (int(a.timestamp()), int(b.timestamp()))
            for a, b, state, _ in theirs
            if state == oh.State.OPEN
        )
        if got != _our_periods(registry, unit_id, start, end):
            wrong.append(f"{unit_id}: {value}")
    assert wrong == []


def _our_periods(
    registry: Registry, unit_id: str, start: datetime, end: datetime
) -> list[tuple[int, int]]:
    """The hours engine's open periods clipped to [start, end), merged."""
    schedule = registry.unit(unit_id).schedule
    t0, t1 = int(start.timestamp()), int(end.timestamp())
    spans = open_spans(schedule, start.date() - timedelta(days=1), end.date())
    return _merge((max(s.start, t0), min(s.end, t1)) for s in spans if s.end > t0 and s.start < t1)


def _merge(pieces: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted periods with touching ones joined."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(pieces):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        elif b > a:
            merged.append((a, b))
    return merged


# --- iCalendar ----------------------------------------------------------------------------


def _unfolded(text: str) -> list[str]:
    """Content lines with RFC 5545 folding undone."""
    assert text.endswith("\r\n")
    return text[:-2].replace("\r\n ", "").split("\r\n")


def _events(text: str) -> list[dict[str, str]]:
    """Each VEVENT's properties by name (a strict reading: no duplicates, no parameters)."""
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in _unfolded(text):
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            events.append(current)
            current = None
        elif current is not None:
            assert name not in current and re.fullmatch(r"[A-Z-]+", name)
            current[name] = value
    return events


def _utc(value: str) -> int:
    """An RFC 5545 UTC date-time as epoch seconds."""
    return int(datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp())


@pytest.mark.parametrize("unit", ["weekly", "season", "night", "always", "never"])
def test_ics_events_are_the_open_spans_of_twelve_weeks(small: Registry, unit: str) -> None:
    events = _events(_render("ics", small, [unit]))
    today = CHRISTMAS_WEEK.date()
    spans = open_spans(small.unit(unit).schedule, today, today + timedelta(days=83))
    assert [(_utc(e["DTSTART"]), _utc(e["DTEND"])) for e in events] == [
        (s.start, s.end) for s in spans
    ]


def test_ics_uids_are_stable_and_unique(small: Registry) -> None:
    first = _events(_render("ics", small, ["weekly", "night"]))
    later = _events(_render("ics", small, ["weekly", "night"], CHRISTMAS_WEEK + timedelta(hours=5)))
    uids = [e["UID"] for e in first]
    assert uids == [e["UID"] for e in later]
    assert len(set(uids)) == len(uids)
    assert first[0]["DTSTAMP"] != later[0]["DTSTAMP"]
    assert uids[0] == "weekly-20261221-1000@phoneservice"


def test_ics_summary_names_the_reason(small: Registry) -> None:
    events = _events(_render("ics", small, ["weekly"]))
    summaries = {e["DTSTART"][:8]: e["SUMMARY"] for e in events}
    assert summaries["20261221"] == "Borgerservice\\; test\\, linje – telefontid"
    assert summaries["20261223"] == "Borgerservice\\; test\\, linje – Halv dag"
    assert "20261224" not in summaries and "20261228" not in summaries


def test_ics_lines_are_crlf_and_at_most_75_octets(small: Registry) -> None:
    text = _render("ics", small, ["weekly", "season"])
    physical = text.split("\r\n")
    assert physical[-1] == "" and "\n" not in text.replace("\r\n", "")
    assert max(len(line.encode("utf-8")) for line in physical) <= 75
    assert any(line.startswith(" ") for line in physical)
    assert physical[0] == "BEGIN:VCALENDAR" and physical[-2] == "END:VCALENDAR"
    assert text.count("BEGIN:VCALENDAR") == 1


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\nb"),
        ("æ – ø", "æ – ø"),
    ],
    ids=["comma", "semicolon", "backslash", "newline", "crlf", "unicode"],
)
def test_ics_text_escaping(raw: str, escaped: str) -> None:
    assert ics.escape(raw) == escaped


@pytest.mark.parametrize(
    "line",
    ["X" * 200, "SUMMARY:" + "æ" * 80, "SUMMARY:" + "a" + "€" * 60, "D:" + "😀" * 40, "A:b"],
    ids=["ascii", "two-byte", "three-byte-offset", "four-byte", "short"],
)
def test_ics_folding_keeps_characters_whole(line: str) -> None:
    folded = ics.fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert folded.replace("\r\n ", "") == line


def test_ics_parses_in_icalendar(small: Registry) -> None:
    icalendar = pytest.importorskip("icalendar", reason="icalendar is a dev dependency")
    text = _render("ics", small, ["weekly"])
    calendar = icalendar.Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    today = CHRISTMAS_WEEK.date()
    spans = open_spans(small.unit("weekly").schedule, today, today + timedelta(days=83))
    assert [int(e.decoded("DTSTART").timestamp()) for e in events] == [s.start for s in spans]
    assert str(events[0]["SUMMARY"]) == "Borgerservice; test, linje – telefontid"
    assert str(events[0]["DESCRIPTION"]).splitlines()[:2] == [
        "Telefon: +45 11 22 33 44",
        "Menu: tast 1",
    ]


# --- Asterisk -----------------------------------------------------------------------------

GOTO_IF_TIME = re.compile(
    r"GotoIfTime\((?P<times>\*|\d\d:\d\d-\d\d:\d\d),(?P<days>\*|[a-z]{3}(?:-[a-z]{3})?),"
    r"(?P<mdays>\*|\d{1,2}(?:-\d{1,2})?),(?P<months>\*|[a-z]{3}),Europe/Copenhagen"
    r"\?(?P<label>open|closed)\)(?: ; .*)?"
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _apps(text: str) -> list[str]:
    """The applications of a context's priorities."""
    return [line.split(",", 1)[1] for line in text.splitlines() if line.startswith(" same => n")]


def _in_range(value: int, spec: str, names: tuple[str, ...] = ()) -> bool:
    """Asterisk's inclusive range match; named ranges (mon-fri) may wrap around."""
    if spec == "*":
        return True
    low_text, _, high_text = spec.partition("-")
    index = names.index if names else int
    low, high = index(low_text), index(high_text or low_text)
    return low <= value <= high if low <= high else value >= low or value <= high


def _pbx_says(apps: list[str], local: datetime) -> str:
    """Run the GotoIfTime lines as Asterisk would at a local wall-clock time."""
    minute = local.hour * 60 + local.minute
    for app in apps:
        match = GOTO_IF_TIME.fullmatch(app)
        if match is None:
            continue
        times = match["times"]
        start, end = ("00:00", "23:59") if times == "*" else times.split("-")
        in_time = _minute(start) <= minute <= _minute(end)
        if (
            in_time
            and _in_range(local.weekday(), match["days"], _DAYS)
            and _in_range(local.day, match["mdays"])
            and _in_range(local.month - 1, match["months"], _MONTHS)
        ):
            return match["label"]
    return "closed"


def _minute(text: str) -> int:
    """``HH:MM`` as minutes."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def test_asterisk_context_shape(small: Registry) -> None:
    text = _render("asterisk", small, ["weekly"])
    lines = text.splitlines()
    assert lines[0] == "; Borgerservice; test, linje (weekly), Testkommune"
    assert lines[1].startswith("; Phone hours valid 2026-12-21 to 2027-12-20 (Europe/Copenhagen)")
    assert lines[2].startswith("; Regenerate before 2027-12-21")
    assert lines[4:6] == [
        "[phoneservice-hours-weekly]",
        "exten => s,1,NoOp(phoneservice hours of weekly)",
    ]
    apps = _apps(text)
    goto = [app for app in apps if app.startswith("GotoIfTime")]
    assert len(goto) == len(apps) - 5
    assert all(GOTO_IF_TIME.fullmatch(app) for app in goto)


def test_asterisk_context_ends_with_labels(small: Registry) -> None:
    lines = _render("asterisk", small, ["weekly"]).splitlines()
    assert lines[-5:] == [
        " same => n,Goto(closed)",
        " same => n(open),Set(PHONE_HOURS=open)",
        " same => n,Return()",
        " same => n(closed),Set(PHONE_HOURS=closed)",
        " same => n,Return()",
    ]


ASTERISK_WEEK = [
    ("half-day", "GotoIfTime(10:00-11:59,*,23,dec,Europe/Copenhagen?open)"),
    ("half-day-rest", "GotoIfTime(*,*,23,dec,Europe/Copenhagen?closed)"),
    ("closed-day", "GotoIfTime(*,*,24,dec,Europe/Copenhagen?closed)"),
    ("holiday", "GotoIfTime(*,*,25,dec,Europe/Copenhagen?closed)"),
    ("closure", "GotoIfTime(*,*,28-30,dec,Europe/Copenhagen?closed)"),
    ("weekly", "GotoIfTime(10:00-13:59,mon-wed,*,*,Europe/Copenhagen?open)"),
    ("weekly-thu", "GotoIfTime(10:00-16:59,thu,*,*,Europe/Copenhagen?open)"),
]


@pytest.mark.parametrize(
    "expected", [c[1] for c in ASTERISK_WEEK], ids=[c[0] for c in ASTERISK_WEEK]
)
def test_asterisk_lines_for_a_week_with_a_holiday_and_a_half_day(
    small: Registry, expected: str
) -> None:
    apps = [app.split(" ; ")[0] for app in _apps(_render("asterisk", small, ["weekly"]))]
    assert expected in apps


def test_asterisk_dated_lines_come_before_weekly_lines(small: Registry) -> None:
    apps = _apps(_render("asterisk", small, ["weekly"]))
    dated = [
        n
        for n, app in enumerate(apps)
        if re.search(r",\*,\*,Europe", app) is None and app.startswith("GotoIfTime")
    ]
    weekly = [n for n, app in enumerate(apps) if ",*,*,Europe" in app]
    assert dated and weekly and max(dated) < min(weekly)


def test_asterisk_splits_overnight_hours_at_midnight(small: Registry) -> None:
    apps = _apps(_render("asterisk", small, ["night"]))
    weekly = [app for app in apps if ",*,*,Europe" in app]
    assert weekly == [
        "GotoIfTime(22:00-23:59,mon,*,*,Europe/Copenhagen?open)",
        "GotoIfTime(00:00-01:59,tue-fri,*,*,Europe/Copenhagen?open)",
        "GotoIfTime(22:00-23:59,tue-fri,*,*,Europe/Copenhagen?open)",
        "GotoIfTime(00:00-01:59,sat,*,*,Europe/Copenhagen?open)",
        "GotoIfTime(10:00-23:59,sat,*,*,Europe/Copenhagen?open)",
    ]
    # Tuesday 22 is closed for service; its early hours still belong to Monday's night.
    assert "GotoIfTime(00:00-01:59,*,22,dec,Europe/Copenhagen?open)" in apps
    assert "GotoIfTime(*,*,23,dec,Europe/Copenhagen?closed) ; 2026-12-23 telefontid" in apps


PBX_UNITS = [
    ("small", "weekly"),
    ("small", "night"),
    ("small", "season"),
    ("small", "always"),
    ("small", "never"),
    ("small", "allday-municipal"),
    ("shipped", "borgerservice"),
    ("shipped", "tandpinevagt"),
    ("shipped", "ppr"),
    ("shipped", "ydelsescenter"),
]


@pytest.mark.parametrize(("registry_name", "unit"), PBX_UNITS, ids=[u for _, u in PBX_UNITS])
def test_asterisk_dialplan_agrees_with_status_all_year(
    request: pytest.FixtureRequest, registry_name: str, unit: str
) -> None:
    """At every change of the year and a minute either side, the PBX says what we say."""
    registry: Registry = request.getfixturevalue(registry_name)
    apps = _apps(_render("asterisk", registry, [unit]))
    schedule = registry.unit(unit).schedule
    wrong = []
    for n in range(365):
        day = CHRISTMAS_WEEK.date() + timedelta(days=n)
        for minute in _probe_minutes(schedule, day):
            at = wall_datetime(day, minute, TZ)
            if at.hour * 60 + at.minute != minute:
                continue  # a wall-clock time that does not exist (spring forward)
            ours = "open" if status(schedule, at).open else "closed"
            if _pbx_says(apps, at) != ours:
                wrong.append(f"{at.isoformat()}: pbx says {_pbx_says(apps, at)}, we say {ours}")
    assert wrong == []


def _probe_minutes(schedule: Schedule, day: date) -> set[int]:
    """Noon, midnight and every interval boundary of the date, with a minute either side."""
    plan, before = schedule.day_plan(day), schedule.day_plan(day - timedelta(days=1))
    edges = {0, 720, 1439}
    for interval in (*plan.intervals, *before.intervals):
        for edge in (interval.start, interval.end):
            edges |= {(edge + d) % 1440 for d in (-1, 0, 1)}
    return edges


# --- JSON-LD ------------------------------------------------------------------------------


def test_jsonld_contact_point(small: Registry) -> None:
    document = json.loads(_render("jsonld", small, ["weekly"]))
    assert document["@context"] == "https://schema.org"
    assert document["@type"] == "ContactPoint"
    assert (document["name"], document["telephone"]) == (
        "Borgerservice; test, linje",
        "+45 11 22 33 44",
    )
    assert document["hoursAvailable"] == [
        {
            "@type": "OpeningHoursSpecification",
            "opens": "10:00:00",
            "closes": "14:00:00",
            "dayOfWeek": [
                "https://schema.org/Monday",
                "https://schema.org/Tuesday",
                "https://schema.org/Wednesday",
            ],
        },
        {
            "@type": "OpeningHoursSpecification",
            "opens": "10:00:00",
            "closes": "17:00:00",
            "dayOfWeek": ["https://schema.org/Thursday"],
        },
        {
            "@type": "OpeningHoursSpecification",
            "opens": "10:00:00",
            "closes": "13:00:00",
            "dayOfWeek": ["https://schema.org/Friday"],
        },
    ]


SPECIAL = [
    ("2026-12-23", "10:00:00", "12:00:00"),
    ("2026-12-24", "00:00:00", "00:00:00"),
    ("2026-12-25", "00:00:00", "00:00:00"),
    ("2026-12-28", "00:00:00", "00:00:00"),
    ("2027-01-01", "00:00:00", "00:00:00"),
]


def test_jsonld_special_hours_of_the_next_30_days(small: Registry) -> None:
    document = json.loads(_render("jsonld", small, ["weekly"]))
    found = [
        (s["validFrom"], s["opens"], s["closes"])
        for s in document["specialOpeningHoursSpecification"]
    ]
    assert all(special in found for special in SPECIAL)
    assert all(
        s["validFrom"] == s["validThrough"] for s in document["specialOpeningHoursSpecification"]
    )
    assert max(f[0] for f in found) < "2027-01-20"
    assert "2026-12-22" not in [f[0] for f in found]


def test_jsonld_overnight_and_midnight_closing(small: Registry) -> None:
    document = json.loads(_render("jsonld", small, ["night"]))
    times = [(s["opens"], s["closes"]) for s in document["hoursAvailable"]]
    assert times == [("22:00:00", "02:00:00"), ("10:00:00", "23:59:59")]


def test_jsonld_several_units_form_a_graph(small: Registry) -> None:
    document = json.loads(_render("jsonld", small, ["weekly", "never"]))
    assert [p["identifier"] for p in document["@graph"]] == ["weekly", "never"]
    assert document["@graph"][1]["hoursAvailable"] == []


# --- command line ---------------------------------------------------------------------------


CLI_CASES = [
    ("ics", "UID:borgerservice-20261221-1000@phoneservice\r\n"),
    ("osm", "Mo-We 10:00-14:00; Th 10:00-17:00; Fr 10:00-13:00; Jul 01-31"),
    ("asterisk", "[phoneservice-hours-borgerservice]\n"),
    ("jsonld", '"@type": "ContactPoint"'),
]


@pytest.mark.parametrize(("kind", "expected"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_export(capsys: pytest.CaptureFixture[str], kind: str, expected: str) -> None:
    code = cli.main(
        ["export", kind, "borgerservice", "--config", str(SHIPPED_CONFIG)],
        clock=lambda: CHRISTMAS_WEEK.astimezone(UTC),
    )
    out = capsys.readouterr().out
    assert code == 0
    assert expected in out


def test_export_modules_name_their_formats() -> None:
    assert exports.FORMATS == ("ics", "jsonld", "osm", "asterisk")
    assert {asterisk.render, ics.render, jsonld.render, osm.render} == set(
        exports._renderers().values()
    )
