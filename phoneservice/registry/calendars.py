"""Reading ``[registry]``, ``[calendar]``, ``[callbacks]`` and ``[pbx]``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from phoneservice.domain.callbacks.originate import DEFAULT_DEVICE_PATTERN
from phoneservice.domain.hours.calendar import (
    MUNICIPAL,
    NATIONAL,
    NONE,
    RULES,
    Calendar,
    Closure,
    HalfDay,
    HolidayLookup,
    MonthDay,
)
from phoneservice.registry.checker import Checker, Table
from phoneservice.registry.fields import parse_month_day, parse_time
from phoneservice.registry.model import CallbackSettings, PbxSettings
from phoneservice.registry.problems import MISSING, Path, format_value

HolidaySource = Callable[[str], tuple[HolidayLookup, Callable[[MonthDay], str | None]] | None]

REGISTRY_KEYS = {"name": True, "timezone": True, "verified": False, "verify_after_days": False}
DEFAULT_VERIFY_AFTER_DAYS = 365
CALENDAR_KEYS = {
    "country": False,
    "closed": False,
    "closes_early": False,
    "rules": False,
    "workday_end": False,
    "closure": False,
}
CLOSURE_KEYS = {"date": False, "from": False, "to": False, "reason": True}
CALLBACK_KEYS = {
    "short_abandon_seconds": False,
    "outside_hours": False,
    "max_attempts": False,
    "retention_days": False,
}
PBX_KEYS = {"hours_variable": False, "inbound_contexts": False, "agent_device_pattern": False}


@dataclass(frozen=True, slots=True)
class Header:
    """The ``[registry]`` table."""

    name: str
    timezone: ZoneInfo
    verified: date | None
    verify_after_days: int


def read_registry(ck: Checker, raw: object) -> Header:
    """The ``[registry]`` table: name, time zone, verification date and how long it holds."""
    path: Path = ("registry",)
    table = (ck.table(raw, path, REGISTRY_KEYS) or {}) if raw is not None else {}
    name = ck.text(table, "name", path) or "?"
    zone = ck.text(table, "timezone", path)
    tz = ZoneInfo("Europe/Copenhagen")
    if zone is not None:
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            ck.error(
                (*path, "timezone"), zone, "is not a known IANA time zone (e.g. Europe/Copenhagen)"
            )
    verified = ck.get(table, "verified", path, date)
    after = _count(ck, table, "verify_after_days", path, 1, DEFAULT_VERIFY_AFTER_DAYS)
    check_verified(ck, (*path, "verified"), verified, after)
    return Header(name, tz, verified, after)


def check_verified(
    ck: Checker, path: Path, verified: date | None, after_days: int = DEFAULT_VERIFY_AFTER_DAYS
) -> None:
    """Warn when a ``verified`` date is more than ``after_days`` old (a year by default)."""
    if verified is not None and verification_due(verified, ck.today, after_days) is not None:
        age = "a year" if after_days == DEFAULT_VERIFY_AFTER_DAYS else f"{after_days} days"
        ck.warn(path, verified, f"was verified more than {age} ago: check the entry again")


def verification_due(verified: date, today: date, after_days: int) -> date | None:
    """The last day ``verified`` held, when it is more than ``after_days`` old on ``today``.

    None while it still holds. One rule for ``check-config`` and for ``/admin``.
    """
    due = verified + timedelta(days=after_days)
    return due if today > due else None


def calendar_country(raw: object) -> str:
    """``[calendar] country`` as written, DK when absent; :func:`read_calendars` checks it."""
    country = raw.get("country") if isinstance(raw, dict) else None
    return country.strip() if isinstance(country, str) and country.strip() else "DK"


def read_calendars(ck: Checker, raw: object, holidays: HolidaySource) -> dict[str, Calendar]:
    """The municipal calendar from ``[calendar]``, and the built-in national and none."""
    path: Path = ("calendar",)
    table = ck.table(raw if raw is not None else {}, path, CALENDAR_KEYS) or {}
    end = _time(ck, table, "workday_end", path, "15:00")
    country = ck.text(table, "country", path, "DK") or "DK"
    source = holidays(country)
    if source is None:
        ck.error(
            (*path, "country"),
            country,
            "is not a country code the holidays package knows (e.g. DK)",
        )
    lookup, name_of = source or (_none, _none)
    municipal = Calendar(
        MUNICIPAL,
        end,
        lookup,
        closed=_closed_days(ck, table, path, name_of),
        closes_early=_half_days(ck, table, path, name_of),
        rules=_rules(ck, table, path),
        closures=_closures(ck, table.get("closure", []), (*path, "closure")),
    )
    return {
        MUNICIPAL: municipal,
        NATIONAL: Calendar(NATIONAL, end, lookup),
        NONE: Calendar(NONE, end),
    }


def _none(_key: object) -> None:
    """A lookup that finds nothing."""
    return None


def _time(ck: Checker, table: Table, key: str, path: Path, default: str) -> int:
    """A time of day in minutes."""
    value = table.get(key, default)
    minutes = ck.parsed((*path, key), value, parse_time)
    return minutes if minutes is not None else parse_time(default)


def _closed_days(
    ck: Checker, table: Table, path: Path, name_of: Callable[[MonthDay], str | None]
) -> dict[MonthDay, str]:
    """``closed``: days closed every year, named after the holiday they are, if any."""
    days = {}
    for n, text in enumerate(ck.strings(table, "closed", path)):
        month_day = ck.parsed((*path, "closed", n), text, parse_month_day)
        if month_day is not None:
            days[month_day] = name_of(month_day) or "Lukkedag"
    return days


def _half_days(
    ck: Checker, table: Table, path: Path, name_of: Callable[[MonthDay], str | None]
) -> dict[MonthDay, HalfDay]:
    """``closes_early``: half days and the time every interval is cut at."""
    raw = table.get("closes_early", {})
    if not isinstance(raw, dict):
        ck.error(
            (*path, "closes_early"),
            raw,
            'must be a table of MM-DD = "HH:MM", e.g. { "05-01" = "12:00" }',
        )
        raw = {}
    days = {}
    for key, value in raw.items():
        month_day = ck.parsed((*path, "closes_early", key), key, parse_month_day)
        cut = ck.parsed((*path, "closes_early", key), value, parse_time)
        if month_day is not None and cut is not None:
            days[month_day] = HalfDay(cut, name_of(month_day) or "Halv dag")
    return days


def _rules(ck: Checker, table: Table, path: Path) -> tuple:  # type: ignore[type-arg]
    """``rules``: named movable closing days."""
    rules = []
    for n, name in enumerate(ck.strings(table, "rules", path)):
        if name in RULES:
            rules.append(RULES[name])
        else:
            ck.error((*path, "rules", n), name, f"is not a known rule (known: {', '.join(RULES)})")
    return tuple(rules)


def _closures(ck: Checker, raw: object, path: Path) -> tuple[Closure, ...]:
    """``[[calendar.closure]]``: dated closures."""
    if not isinstance(raw, list):
        ck.error(path, raw, "must be an array of tables ([[calendar.closure]])")
        return ()
    closures = []
    for n, item in enumerate(raw):
        table = ck.table(item, (*path, n), CLOSURE_KEYS)
        span = read_date_span(ck, table, (*path, n)) if table is not None else None
        reason = ck.text(table, "reason", (*path, n)) if table is not None else None
        if span is not None and reason is not None:
            closures.append(Closure(span[0], span[1], reason))
    return tuple(closures)


def read_date_span(ck: Checker, table: Table, path: Path) -> tuple[date, date] | None:
    """``date = D`` or ``from = D`` and ``to = D`` (inclusive)."""
    has_range = [key for key in ("from", "to") if key in table]
    if "date" in table and has_range:
        key = has_range[0]
        ck.error(
            (*path, key),
            table[key],
            f"cannot be combined with date = {format_value(table['date'])}: "
            "give date for one day, or from and to for several",
        )
        return None
    if "date" in table:
        day = ck.get(table, "date", path, date)
        return (day, day) if day is not None else None
    if not has_range:
        ck.error(path, MISSING, "needs date = YYYY-MM-DD for one day, or from and to for several")
        return None
    first, last = ck.get(table, "from", path, date), ck.get(table, "to", path, date)
    for key, other in (("from", "to"), ("to", "from")):
        if key not in table:
            ck.error(
                (*path, key),
                MISSING,
                f"is required when {other} is given (or use date = YYYY-MM-DD for a single day)",
            )
    if first is None or last is None:
        return None
    if last < first:
        ck.error((*path, "to"), last, f"is before from ({first.isoformat()})")
        return None
    return first, last


def read_callbacks(ck: Checker, raw: object) -> CallbackSettings:
    """The ``[callbacks]`` table."""
    path: Path = ("callbacks",)
    table = ck.table(raw if raw is not None else {}, path, CALLBACK_KEYS) or {}
    defaults = CallbackSettings()
    return CallbackSettings(
        short_abandon_seconds=_count(
            ck, table, "short_abandon_seconds", path, 0, defaults.short_abandon_seconds
        ),
        outside_hours=ck.choice(
            table, "outside_hours", path, ("callback", "log"), defaults.outside_hours
        )
        or defaults.outside_hours,
        max_attempts=_count(ck, table, "max_attempts", path, 1, defaults.max_attempts),
        retention_days=_count(ck, table, "retention_days", path, 1, defaults.retention_days),
    )


def _count(ck: Checker, table: Table, key: str, path: Path, low: int, default: int) -> int:
    """A whole number no lower than ``low``."""
    value = ck.get(table, key, path, int, default)
    if value is None or value < low:
        ck.error((*path, key), value, f"must be a whole number of at least {low}")
        return default
    return value


def read_pbx(ck: Checker, raw: object) -> PbxSettings:
    """The ``[pbx]`` table."""
    path: Path = ("pbx",)
    table = ck.table(raw if raw is not None else {}, path, PBX_KEYS) or {}
    contexts = (
        tuple(ck.strings(table, "inbound_contexts", path))
        if "inbound_contexts" in table
        else PbxSettings().inbound_contexts
    )
    return PbxSettings(
        ck.text(table, "hours_variable", path),
        contexts,
        _device_pattern(ck, table, path),
    )


def _device_pattern(ck: Checker, table: Table, path: Path) -> re.Pattern[str]:
    """``agent_device_pattern``: a regular expression (matched in full); the default without."""
    default = PbxSettings().agent_device_pattern
    text = ck.text(table, "agent_device_pattern", path)
    if text is None:
        return default
    try:
        return re.compile(text)
    except re.error as exc:
        ck.error(
            (*path, "agent_device_pattern"),
            text,
            f"is not a regular expression: {exc.msg} (e.g. '{DEFAULT_DEVICE_PATTERN}')",
        )
        return default
