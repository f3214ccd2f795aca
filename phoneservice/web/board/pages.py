"""The HTML pages without login: the board ``/``, its live rows, and ``/units/<id>``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext

from phoneservice.domain.hours.schedule import (
    LAYER_CALENDAR,
    LAYER_EXCEPTION,
    LAYER_HALF_DAY,
    DayPlan,
)
from phoneservice.domain.hours.status import Status
from phoneservice.domain.units import KINDS, Unit
from phoneservice.present.shapes import interval_text
from phoneservice.services.hours import HoursService, UnitStatus
from phoneservice.web.board.api import known, optional_instant, service
from phoneservice.web.i18n import words

blueprint = Blueprint("board", __name__)

NO_STORE = {"Cache-Control": "no-store"}
POLL_SETTING = "BOARD_POLL_SECONDS"  # app.config: how often the board asks anyway
DEFAULT_POLL_SECONDS = 60
WEEK_DAYS, SPECIAL_DAYS = 7, 30
SPECIAL_LAYERS = frozenset({LAYER_EXCEPTION, LAYER_CALENDAR, LAYER_HALF_DAY})
Page = tuple[str, int, dict[str, str]]


@dataclass(frozen=True, slots=True)
class Row:
    """One unit on the board, with its status already put into words."""

    unit: Unit
    status: Status
    change: str
    reason: str | None
    override: str | None
    hidden: bool

    @property
    def search(self) -> str:
        """What the search box matches, as ``Unit.matches`` does: id, name, each tag."""
        return "|".join((self.unit.id, self.unit.name, *self.unit.tags)).lower()


@dataclass(frozen=True, slots=True)
class Board:
    """Every row of the board at one instant, and when it must be asked again."""

    now: datetime
    refresh_at: datetime
    groups: Sequence[tuple[str, Sequence[Row]]]
    open_count: int
    total: int


@blueprint.get("/")
def board_page() -> Page:
    """The board: every unit open or closed, searchable, updating itself."""
    query = request.args.get("q", "")
    poll = current_app.config.get(POLL_SETTING, DEFAULT_POLL_SECONDS)
    page = render_template("board.html", board=build(query), query=query, poll=poll)
    return page, 200, NO_STORE


@blueprint.get("/board/rows")
def board_rows() -> Page:
    """The board's rows alone: what ``board.js`` swaps in at each change."""
    return render_template("_rows.html", board=build("")), 200, NO_STORE


@blueprint.get("/units/<unit_id>")
def unit_page(unit_id: str) -> Page:
    """One unit: status, the week, special days ahead, contact data and a time picker."""
    unit = known(unit_id)
    hours, asked = service(), optional_instant("at")
    now = hours.now()
    asked = None if asked is None else asked.astimezone(now.tzinfo)
    (entry,) = hours.status((unit.id,), now)
    checked = None if asked is None else row(hours.status((unit.id,), asked)[0], asked)
    week, special = days_ahead(hours, unit.id, now.date())
    page = render_template(
        "unit.html",
        unit=unit,
        row=row(entry, now),
        now=now,
        asked=asked,
        checked=checked,
        week=week,
        special=special,
        picker_value=f"{asked or now:%Y-%m-%dT%H:%M}",
    )
    return page, 200, NO_STORE


def days_ahead(
    hours: HoursService, unit_id: str, today: date
) -> tuple[list[DayPlan], list[DayPlan]]:
    """A unit's week table (7 days from today) and the special days of the next 30 days
    (holidays, closing days, half days, exceptions), as the hours service answers them:
    the unit page and the directory show the same days."""
    plans = hours.hours(unit_id, today, SPECIAL_DAYS + 1)
    return plans[:WEEK_DAYS], [plan for plan in plans if plan.layer in SPECIAL_LAYERS]


def build(query: str) -> Board:
    """The board now; units not matching ``query`` are marked hidden."""
    hours = service()
    now = hours.now()
    entries = hours.status((), now)
    rows = [row(entry, now, query) for entry in entries]
    groups = [(words().GROUPS[kind], [r for r in rows if r.unit.kind == kind]) for kind in KINDS]
    opened = sum(r.status.open for r in rows)
    return Board(now, refresh_at(entries, now), groups, opened, len(rows))


def row(entry: UnitStatus, now: datetime, query: str = "") -> Row:
    """A unit's status in words as seen at ``now``."""
    state = entry.status
    return Row(
        unit=entry.unit,
        status=state,
        change=words().change(state, now),
        reason=words().reason(state),
        override=words().override(state, now),
        hidden=bool(query.strip()) and not entry.unit.matches(query),
    )


def refresh_at(entries: Sequence[UnitStatus], now: datetime) -> datetime:
    """The first instant the board's words change: a unit opens or closes, or midnight."""
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0), now.tzinfo)
    changes = [next_change(entry.status) for entry in entries]
    return min([midnight, *(c for c in changes if c is not None and c > now)])


def next_change(state: Status) -> datetime | None:
    """When this status ends, if within the horizon."""
    return state.closes_at if state.open else state.next_open


@blueprint.app_template_filter("hours")
def hours_filter(plan: DayPlan) -> str:
    """A day's intervals as ``10:00–14:00``, or ``lukket``."""
    if not plan.intervals:
        return str(gettext("lukket"))
    return ", ".join(interval_text(i).replace("-", "–") for i in plan.intervals)


@blueprint.app_context_processor
def wording_for_templates() -> dict[str, object]:
    """The phrase helpers and the registry's name in every template."""
    name = service().registry.name
    return {"wording": words(), "registry_name": name}
