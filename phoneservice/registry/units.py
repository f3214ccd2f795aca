"""Reading ``[[unit]]`` entries: contact data, weekly hours, seasons and exceptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from phoneservice.domain.evaluation.model import NO_GOALS, Goals
from phoneservice.domain.hours.calendar import MUNICIPAL, NATIONAL, Calendar, MonthDay
from phoneservice.domain.hours.schedule import (
    CLOSED_WEEK,
    DatedHours,
    Day,
    Interval,
    Schedule,
    Season,
    WeekHours,
)
from phoneservice.domain.units import CENTRE, KINDS, Unit
from phoneservice.registry.calendars import (
    DEFAULT_VERIFY_AFTER_DAYS,
    check_verified,
    read_date_span,
)
from phoneservice.registry.checker import Checker, Table
from phoneservice.registry.coverage import warn_hours_run_out, warn_no_hours
from phoneservice.registry.fields import (
    DAY_NAMES,
    UNIT_ID,
    parse_day_key,
    parse_interval,
    parse_month_day,
    parse_transfer,
    parse_weeks,
)
from phoneservice.registry.goals import read_goals
from phoneservice.registry.problems import MISSING, Path, format_value

UNIT_KEYS = {
    "id": True,
    "name": True,
    "kind": True,
    "phone": True,
    "menu": False,
    "email": False,
    "url": False,
    "notes": False,
    "after_hours": False,
    "tags": False,
    "queues": False,
    "dids": False,
    "calendar": False,
    "verified": False,
    "transfer": False,
    "transfer_public": False,
    "service_level_seconds": False,
    "goals": False,
    "hours": False,
    "season": False,
    "exception": False,
}
SEASON_KEYS = {"name": True, "from": False, "to": False, "weeks": False, "hours": True}
EXCEPTION_KEYS = {"date": False, "from": False, "to": False, "hours": True, "reason": True}
_OPTIONAL_TEXT = ("menu", "email", "url", "notes", "after_hours")
MAX_EXCEPTION_DAYS = 3660
LINK_SCHEMES = ("https://", "http://")

_Entry = tuple[Interval, str, int]  # an interval, its day key and its place in the list


@dataclass
class _Seen:
    """Ids, queues and numbers already taken by earlier units."""

    ids: dict[str, int]
    queues: dict[str, str]
    dids: dict[str, str]


def read_units(
    ck: Checker,
    raw: object,
    calendars: Mapping[str, Calendar],
    tz: ZoneInfo,
    verify_after_days: int = DEFAULT_VERIFY_AFTER_DAYS,
    goals: Goals = NO_GOALS,
) -> list[Unit]:
    """Every ``[[unit]]``; problems are recorded and bad units left out.

    A unit's ``verified`` is warned about when older than ``verify_after_days``; its
    ``goals`` are put over the registry's ``goals``.
    """
    if isinstance(raw, dict):
        ck.error(("unit",), MISSING, "must be an array of tables: write [[unit]], not [unit]")
        return []
    if not isinstance(raw, list) or not raw:
        ck.error(
            ("unit",),
            MISSING if raw is None else raw,
            "is required: the file must have at least one [[unit]]",
        )
        return []
    seen = _Seen({}, {}, {})
    units = []
    for n, item in enumerate(raw):
        unit = _read_unit(ck, item, ("unit", n), calendars, tz, seen, verify_after_days, goals)
        if unit is not None:
            units.append(unit)
    return units


def _read_unit(
    ck: Checker,
    raw: object,
    path: Path,
    calendars: Mapping[str, Calendar],
    tz: ZoneInfo,
    seen: _Seen,
    verify_after_days: int,
    goals: Goals,
) -> Unit | None:
    """One unit; None when it has errors."""
    before = len(ck.errors())
    table = ck.table(raw, path, UNIT_KEYS)
    if table is None:
        return None
    unit_id = _unit_id(ck, table, path, seen)
    kind = ck.choice(table, "kind", path, KINDS)
    default_calendar = MUNICIPAL if kind == CENTRE else NATIONAL
    calendar = ck.choice(table, "calendar", path, tuple(calendars), default_calendar)
    schedule = Schedule(
        tz,
        calendars[calendar or default_calendar],
        _week(ck, table.get("hours"), (*path, "hours")) if "hours" in table else CLOSED_WEEK,
        _seasons(ck, table.get("season", []), (*path, "season")),
        _exceptions(ck, table.get("exception", []), (*path, "exception")),
    )
    texts = {key: ck.text(table, key, path) for key in _OPTIONAL_TEXT}
    _check_link(ck, (*path, "url"), texts["url"])
    unit = Unit(
        id=unit_id or "?",
        name=ck.text(table, "name", path) or "?",
        kind=kind or CENTRE,
        phone=ck.text(table, "phone", path) or "?",
        schedule=schedule,
        calendar=calendar or default_calendar,
        **texts,
        tags=tuple(ck.strings(table, "tags", path)),
        queues=_owned(ck, table, "queues", path, unit_id, seen.queues),
        dids=_owned(ck, table, "dids", path, unit_id, seen.dids),
        verified=ck.get(table, "verified", path, date),
        service_level_seconds=_threshold(ck, table, path),
        transfer=_transfer(ck, table, path),
        transfer_public=bool(ck.get(table, "transfer_public", path, bool, False)),
        goals=read_goals(ck, table.get("goals"), (*path, "goals"), goals),
    )
    check_verified(ck, (*path, "verified"), unit.verified, verify_after_days)
    if len(ck.errors()) > before:
        return None
    warn_no_hours(ck, path, unit)
    warn_hours_run_out(ck, path, unit)
    return unit


def _transfer(ck: Checker, table: Table, path: Path) -> str | None:
    """``transfer``: the extension or direct number staff transfer callers to, or None."""
    if "transfer" not in table:
        if table.get("transfer_public") is True:
            ck.warn((*path, "transfer_public"), True, "has no effect: the unit has no transfer")
        return None
    return ck.parsed((*path, "transfer"), table["transfer"], parse_transfer)


def _check_link(ck: Checker, path: Path, url: str | None) -> None:
    """A unit's web address becomes a link on the pages: http(s) only, never ``javascript:``."""
    if url is not None and not url.lower().startswith(LINK_SCHEMES):
        ck.error(path, url, "must be a web address starting with https:// or http://")


def _unit_id(ck: Checker, table: Table, path: Path, seen: _Seen) -> str | None:
    """A unique, URL-safe unit id."""
    unit_id = ck.get(table, "id", path, str)
    if unit_id is None:
        return None
    if not UNIT_ID.fullmatch(unit_id):
        ck.error(
            (*path, "id"), unit_id, "must use only lower-case a-z, 0-9 and - (it is used in URLs)"
        )
    elif unit_id in seen.ids:
        ck.error((*path, "id"), unit_id, f"is already the id of unit[{seen.ids[unit_id]}]")
    else:
        seen.ids[unit_id] = int(path[1])
    return unit_id


def _owned(
    ck: Checker, table: Table, key: str, path: Path, owner: str | None, taken: dict[str, str]
) -> tuple[str, ...]:
    """Queue names or DIDs, each owned by one unit only."""
    values = ck.strings(table, key, path)
    for n, value in enumerate(values):
        if value in taken and taken[value] != owner:
            ck.error((*path, key, n), value, f"already belongs to unit {_q(taken[value])}")
        taken.setdefault(value, owner or "?")
    return tuple(values)


def _week(ck: Checker, raw: object, path: Path) -> WeekHours:
    """An hours table: day keys to interval lists, no day given twice."""
    if not isinstance(raw, dict):
        ck.error(path, raw, 'must be a table of days, e.g. { "mon-fri" = ["09:00-15:00"] }')
        return CLOSED_WEEK
    days: list[list[_Entry]] = [[] for _ in range(7)]
    owner: dict[int, str] = {}
    for key, value in raw.items():
        weekdays = ck.parsed((*path, key), key, parse_day_key) or ()
        taken = [owner[d] for d in weekdays if d in owner]
        if taken:
            ck.error(
                (*path, key),
                key,
                f"overlaps the day key {_q(taken[0])}: each day may be given only once",
            )
        intervals = _numbered_intervals(ck, value, (*path, key))
        for weekday in weekdays:
            if weekday not in owner:
                owner[weekday] = key
                days[weekday].extend((interval, key, n) for n, interval in intervals)
    _check_week_overlaps(ck, days, path)
    week: WeekHours = (
        _day(days[0]),
        _day(days[1]),
        _day(days[2]),
        _day(days[3]),
        _day(days[4]),
        _day(days[5]),
        _day(days[6]),
    )
    return week


def _day(entries: list[_Entry]) -> Day:
    """The sorted intervals of one weekday."""
    return tuple(sorted(interval for interval, _key, _n in entries))


def _numbered_intervals(ck: Checker, raw: object, path: Path) -> list[tuple[int, Interval]]:
    """A list of ``HH:MM-HH:MM`` strings, each with its place in the list."""
    if not isinstance(raw, list):
        example = f"[{_q(raw)}]" if isinstance(raw, str) else '["09:00-12:00", "13:00-15:00"]'
        ck.error(path, raw, f"must be a list of intervals, e.g. {example}")
        return []
    parsed = ((n, ck.parsed((*path, n), item, parse_interval)) for n, item in enumerate(raw))
    return [(n, interval) for n, interval in parsed if interval is not None]


def _check_week_overlaps(ck: Checker, days: list[list[_Entry]], path: Path) -> None:
    """No two intervals may overlap, including a night interval running into the next day.

    Each clash is reported once, at the later interval, even when a key such as
    ``mon-fri`` repeats it on several days.
    """
    reported: set[tuple[_Entry, _Entry]] = set()
    for weekday in range(7):
        before = (weekday - 1) % 7
        spill = [(Interval(0, e[0].end - 1440), e, True) for e in days[before] if e[0].end > 1440]
        today = [(e[0], e, False) for e in days[weekday]]
        latest: tuple[Interval, _Entry, bool] | None = None
        for clipped, entry, spills in sorted(spill + today, key=lambda t: (t[0], t[2], t[1][2])):
            if latest is not None and clipped.start < latest[0].end:
                other, other_spills = latest[1], latest[2]
                if (entry, other) not in reported:
                    reported.add((entry, other))
                    where = (
                        (
                            f" from {_q(other[1])}, which runs past midnight into "
                            f"{DAY_NAMES[weekday]}"
                        )
                        if other_spills
                        else ""
                    )
                    ck.error(
                        (*path, entry[1], entry[2]),
                        _fmt(entry[0]),
                        f"overlaps {_q(_fmt(other[0]))}{where}: intervals must not overlap",
                    )
            if latest is None or clipped.end > latest[0].end:
                latest = (clipped, entry, spills)


def _first_overlap(intervals: list[Interval]) -> tuple[Interval, Interval] | None:
    """The first interval that starts before an earlier one ends, and that earlier one."""
    latest: Interval | None = None
    for interval in intervals:
        if latest is not None and interval.start < latest.end:
            return interval, latest
        if latest is None or interval.end > latest.end:
            latest = interval
    return None


def _fmt(interval: Interval) -> str:
    """An interval back in HH:MM-HH:MM form."""
    end = interval.end if interval.end <= 1440 else interval.end - 1440
    return f"{interval.start // 60:02d}:{interval.start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def _seasons(ck: Checker, raw: object, path: Path) -> tuple[Season, ...]:
    """``[[unit.season]]`` entries."""
    if not isinstance(raw, list):
        ck.error(path, raw, "must be an array of tables ([[unit.season]])")
        return ()
    seasons = [s for n, item in enumerate(raw) if (s := _season(ck, item, (*path, n)))]
    _warn_season_overlaps(ck, seasons, path)
    return tuple(seasons)


def _season(ck: Checker, raw: object, path: Path) -> Season | None:
    """One season: from/to (MM-DD) or ISO weeks, and its hours."""
    table = ck.table(raw, path, SEASON_KEYS)
    if table is None:
        return None
    name = ck.text(table, "name", path) or "?"
    week = _week(ck, table.get("hours", {}), (*path, "hours"))
    has_dates, has_weeks = "from" in table or "to" in table, "weeks" in table
    if has_dates and has_weeks:
        ck.error(
            (*path, "weeks"),
            table["weeks"],
            "cannot be combined with from/to: give "
            'either from and to (MM-DD) or weeks (ISO weeks, e.g. "28-31")',
        )
        return None
    if not has_dates and not has_weeks:
        ck.error(path, MISSING, 'needs from and to (MM-DD) or weeks (ISO weeks, e.g. "28-31")')
        return None
    if has_weeks:
        weeks = ck.parsed((*path, "weeks"), table["weeks"], parse_weeks)
        return Season(name, week, weeks=weeks) if weeks else None
    first = _season_day(ck, table, path, "from", "to")
    last = _season_day(ck, table, path, "to", "from")
    return Season(name, week, first, last) if first and last else None


def _season_day(ck: Checker, table: Table, path: Path, key: str, other: str) -> MonthDay | None:
    """A season's ``from`` or ``to`` (MM-DD); the one is required with the other."""
    if key not in table:
        ck.error((*path, key), MISSING, f"is required when {other} is given (MM-DD)")
        return None
    return ck.parsed((*path, key), table[key], parse_month_day)


def _warn_season_overlaps(ck: Checker, seasons: list[Season], path: Path) -> None:
    """Warn when two seasons of a unit share a day (the first one wins there)."""
    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(366)]
    for i, first in enumerate(seasons):
        for j, second in enumerate(seasons[i + 1 :], start=i + 1):
            if any(first.covers(d) and second.covers(d) for d in days):
                ck.warn(
                    (*path, j),
                    second.name,
                    f"overlaps season[{i}] {_q(first.name)}, which wins on the days they share",
                )


def _exceptions(ck: Checker, raw: object, path: Path) -> dict[date, DatedHours]:
    """``[[unit.exception]]`` entries, indexed by every date they cover."""
    if not isinstance(raw, list):
        ck.error(path, raw, "must be an array of tables ([[unit.exception]])")
        return {}
    by_date: dict[date, DatedHours] = {}
    index_of: dict[date, int] = {}
    for n, item in enumerate(raw):
        exception = _exception(ck, item, (*path, n))
        if exception is None:
            continue
        days = [
            exception.first + timedelta(days=k)
            for k in range((exception.last - exception.first).days + 1)
        ]
        clash = next((day for day in days if day in by_date), None)
        if clash is not None:
            single = exception.first == exception.last
            key, shown = ("date", "it") if single else ("from", f"the span to {exception.last}")
            ck.error(
                (*path, n, key),
                exception.first,
                f"overlaps exception[{index_of[clash]}] ({_q(by_date[clash].reason)}): "
                f"{shown} includes {clash}, which that exception already covers",
            )
        for day in days:
            by_date.setdefault(day, exception)
            index_of.setdefault(day, n)
    return by_date


def _exception(ck: Checker, raw: object, path: Path) -> DatedHours | None:
    """One dated exception: a date or from/to, its intervals and a reason."""
    table = ck.table(raw, path, EXCEPTION_KEYS)
    if table is None:
        return None
    span = read_date_span(ck, table, path)
    reason = ck.text(table, "reason", path)
    numbered = _numbered_intervals(ck, table.get("hours", []), (*path, "hours"))
    intervals: Day = tuple(sorted(interval for _n, interval in numbered))
    clash = _first_overlap(list(intervals))
    if clash is not None:
        place = max(n for n, interval in numbered if interval == clash[0])
        ck.error(
            (*path, "hours", place),
            _fmt(clash[0]),
            f"overlaps {_q(_fmt(clash[1]))}: intervals must not overlap",
        )
    if span is None or reason is None:
        return None
    if (span[1] - span[0]).days >= MAX_EXCEPTION_DAYS:
        ck.error(
            (*path, "to"),
            span[1],
            f"is too far from {span[0].isoformat()}: an exception "
            f"may cover at most {MAX_EXCEPTION_DAYS} days (use hours or a season)",
        )
        return None
    if span[1] < ck.today:
        ck.warn(
            (*path, "to" if "to" in table else "date"),
            span[1],
            "is in the past: the exception no longer applies and can be removed",
        )
    return DatedHours(span[0], span[1], intervals, reason)


def _q(text: str) -> str:
    """A name or value quoted the way TOML writes strings."""
    return format_value(text)


def _threshold(ck: Checker, table: Table, path: Path) -> int | None:
    """``service_level_seconds``: the unit's T for the service level (1 to 3600 s), or None."""
    value = ck.get(table, "service_level_seconds", path, int)
    if value is not None and not 1 <= value <= 3600:
        ck.error((*path, "service_level_seconds"), value, "must be a whole number from 1 to 3600")
        return None
    return value
