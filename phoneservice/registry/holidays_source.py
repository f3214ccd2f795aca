"""Statutory holidays from the ``holidays`` package, handed to the domain as lookups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import holidays

from phoneservice.domain.hours.calendar import HolidayLookup, MonthDay

_REFERENCE_YEARS = range(2024, 2028)


def holiday_source(
    country: str,
) -> tuple[HolidayLookup, Callable[[MonthDay], str | None]] | None:
    """A date → holiday-name lookup (public category), and a name for a fixed MM-DD day.

    Names are always Danish for Denmark: without ``language`` the package follows the
    process locale and may answer in English.
    """
    try:
        public = _country(country, ("public",))
        optional = _country(country, ("optional",))
    except NotImplementedError:
        return None
    return _lookup(public), _month_day_namer(public, optional)


def country_code(country: str) -> str:
    """The two-letter ISO 3166 code of a country the package knows by any name (DNK: DK)."""
    if country not in holidays.list_supported_countries(include_aliases=True):
        return country
    return str(getattr(holidays, country).country)


def _country(country: str, categories: tuple[str, ...]) -> holidays.HolidayBase:
    """The holidays of a country in the given categories, Danish names where possible."""
    supported = holidays.list_supported_countries(include_aliases=True)
    if country not in supported:
        raise NotImplementedError(country)
    cls = holidays.country_holidays(country)
    language = "da" if "da" in (cls.supported_languages or ()) else None
    wanted = tuple(c for c in categories if c in cls.supported_categories)
    if not wanted:
        return holidays.country_holidays(country, years=(), language=language)
    return holidays.country_holidays(country, categories=wanted, language=language)


def _lookup(public: holidays.HolidayBase) -> HolidayLookup:
    """A plain function over the holidays object (it expands to new years by itself)."""

    def lookup(day: date) -> str | None:
        name = public.get(day)
        return str(name) if name is not None else None

    return lookup


def _month_day_namer(
    public: holidays.HolidayBase, optional: holidays.HolidayBase
) -> Callable[[MonthDay], str | None]:
    """Name a fixed MM-DD day after the holiday that falls on it in recent years."""

    def name_of(month_day: MonthDay) -> str | None:
        for year in _REFERENCE_YEARS:
            day = date(year, *month_day) if month_day != (2, 29) else date(2024, 2, 29)
            name = optional.get(day) or public.get(day)
            if name is not None:
                return str(name)
        return None

    return name_of
