"""``/directory`` (SPEC §13): every unit's phone hours, numbers and closures, to print.

No login: it holds nothing personal. Units are grouped as the board groups them; each one
shows the week table and the special days of the next 30 days exactly as its unit page
does (:func:`phoneservice.web.board.pages.days_ahead`, asking the hours service), and its
phone number and menu path. ``directory.css`` lays it out for A4 when printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, render_template

from phoneservice.domain.hours.schedule import DayPlan
from phoneservice.domain.units import KINDS, Unit
from phoneservice.web.board.api import service
from phoneservice.web.board.pages import NO_STORE, Page, days_ahead
from phoneservice.web.i18n import words

blueprint = Blueprint("directory", __name__)


@dataclass(frozen=True, slots=True)
class Entry:
    """One unit of the directory with its days ahead."""

    unit: Unit
    week: Sequence[DayPlan]
    special: Sequence[DayPlan]


@blueprint.get("/directory")
def directory_page() -> Page:
    """The printable directory of every unit, as of today."""
    hours = service()
    now = hours.now()
    entries = [entry(unit, now.date()) for unit in hours.units()]
    groups = [(words().GROUPS[kind], [e for e in entries if e.unit.kind == kind]) for kind in KINDS]
    page = render_template("directory.html", groups=groups, now=now)
    return page, 200, NO_STORE


def entry(unit: Unit, today: date) -> Entry:
    """A unit with its week table and special days, as its unit page shows them."""
    week, special = days_ahead(service(), unit.id, today)
    return Entry(unit, week, special)
