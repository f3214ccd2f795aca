"""The form of the page ``/reports``: what was typed, what it asks for, what is wrong with it.

The page answers bad input on the form itself (status 400): every field keeps what the
user chose, and each error is named beside the field it concerns, in the page's language.
The CSV, XLSX and the API read the same parameters strictly and answer their own 400.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from phoneservice.domain.localtime import parse_day
from phoneservice.domain.reports.periods import (
    GROUPINGS,
    MAX_RANGE_DAYS,
    RangeTooLong,
    ReportError,
    ReversedRange,
)
from phoneservice.domain.reports.report import ReportRequest
from phoneservice.web.board.api import FIRST_YEAR, LAST_YEAR

FIELDS = ("unit", "from", "to", "by")


@dataclass(slots=True)
class ReportForm:
    """The fields as typed (defaults filled in) and the error of each field, if any."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def asked(self) -> ReportRequest:
        """The report the fields ask for (only when there are no errors)."""
        found = self.values
        first, last = date.fromisoformat(found["from"]), date.fromisoformat(found["to"])
        return ReportRequest(first, last, found["unit"] or None, found["by"] or None)

    def refuse(self, exc: ReportError) -> None:
        """Name the domain's reason for refusing the range beside the field it concerns."""
        if isinstance(exc, ReversedRange):
            self.errors["to"] = _("Til og med ligger før fra og med: vælg en senere slutdato.")
        elif isinstance(exc, RangeTooLong):
            self.errors["to"] = _(
                "Perioden er for lang: en rapport dækker højst %(days)s dage.",
                days=MAX_RANGE_DAYS,
            )
        else:  # more periods than a report holds
            self.errors["by"] = _("Vælg en længere opdeling.")


def read(args: Mapping[str, str], today: date, units: Collection[str]) -> ReportForm:
    """The page's query as a form: empty dates default to this month up to today."""
    values = {name: args.get(name, "").strip() for name in FIELDS}
    values["from"] = values["from"] or today.replace(day=1).isoformat()
    values["to"] = values["to"] or today.isoformat()
    form = ReportForm(values)
    for name in ("from", "to"):
        if not _is_day(values[name]):
            form.errors[name] = _("Skriv en dato som 2026-01-31.")
    if values["unit"] and values["unit"] not in units:
        form.errors["unit"] = _("Enheden findes ikke: vælg en enhed på listen.")
    if values["by"] and values["by"] not in GROUPINGS:
        form.errors["by"] = _("Vælg en opdeling på listen.")
    return form


def _is_day(text: str) -> bool:
    """Whether ``text`` is a date (YYYY-MM-DD) in the years the web accepts."""
    try:
        day = parse_day(text)
    except ValueError:
        return False
    return FIRST_YEAR <= day.year <= LAST_YEAR
