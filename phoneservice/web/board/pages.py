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
from phoneservice.web.board.api import known, optional_instant, reader_is_staff, service
from phoneservice.web.i18n import words

blueprint = Blueprint("board", __name__)

NO_STORE = {"Cache-Control": "no-store"}
ONLY_OPEN = "open"  # ?open=1: the board shows the open units only
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

    @property
    def numbers(self) -> str:
        """The digit forms a number search matches (``Unit.numbers``), space-separated."""
        return " ".join(self.unit.numbers)


@dataclass(frozen=True, slots=True)
class Board:
    """Every row of the board at one instant, and when it must be asked again."""

    now: datetime
    refresh_at: datetime
    groups: Sequence[tuple[str, Sequence[Row]]]
    open_count: int
    total: int

    @property
    def shown(self) -> int:
        """How many rows are not hidden by the search or the open filter."""
        return sum(not r.hidden for _title, rows in self.groups for r in rows)


@blueprint.get("/")
def board_page() -> Page:
    """The board: every unit open or closed, searchable, updating itself."""
    query = request.args.get("q", "")
    only_open = request.args.get(ONLY_OPEN) == "1"
    poll = current_app.config.get(POLL_SETTING, DEFAULT_POLL_SECONDS)
    board = build(query, only_open=only_open)
    page = render_template("board.html", board=board, query=query, only_open=only_open, poll=poll)
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
    staff = reader_is_staff()
    checked = None if asked is None else row(hours.status((unit.id,), asked)[0], asked)
    week, special = days_ahead(hours, unit.id, now.date())
    page = render_template(
        "unit.html",
        unit=unit.seen_by(staff),
        row=row(entry, now, staff=staff),
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


def build(query: str, *, only_open: bool = False) -> Board:
    """The board now; units not matching ``query`` (or closed, with ``only_open``) are hidden."""
    hours = service()
    now = hours.now()
    entries = hours.status((), now)
    staff = reader_is_staff()
    rows = [row(entry, now, query, staff=staff, only_open=only_open) for entry in entries]
    groups = [(words().GROUPS[kind], [r for r in rows if r.unit.kind == kind]) for kind in KINDS]
    opened = sum(r.status.open for r in rows)
    return Board(now, refresh_at(entries, now), groups, opened, len(rows))


def row(
    entry: UnitStatus,
    now: datetime,
    query: str = "",
    *,
    staff: bool = False,
    only_open: bool = False,
) -> Row:
    """A unit's status in words as seen at ``now``, by staff or a visitor.

    The row's unit is the one the reader may see: a hidden transfer number is neither
    shown nor found by the search.
    """
    state, unit = entry.status, entry.unit.seen_by(staff)
    return Row(
        unit=unit,
        status=state,
        change=words().change(state, now),
        reason=words().reason(state),
        override=words().override(state, now),
        hidden=(bool(query.strip()) and not unit.matches(query)) or (only_open and not state.open),
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
