"""The service evaluation (SPEC §13) as machines read it, and the words every door shares.

:func:`evaluation_shape` is ``phoneservice evaluation --json`` and ``GET
/api/v1/evaluation``: dates ISO 8601, shares as numbers from 0 to 1, null where there is
nothing to compute a figure from, the staffing as a list of hours per unit, and the
``definitions`` of every figure like the report's JSON (the report's texts, then the
evaluation's own). The texts are Danish message ids (``N_``) that the page and the PDF
translate; the JSON carries them in Danish.
"""

from __future__ import annotations

from typing import Any

from phoneservice.domain.evaluation.model import (
    GOAL_KEYS,
    CallbackSummary,
    DemandHour,
    Evaluation,
    Figure,
    GoalResult,
    Month,
    StaffingHour,
    UnitEvaluation,
)
from phoneservice.domain.localtime import iso
from phoneservice.domain.reports.definitions import filled_definitions
from phoneservice.domain.reports.figures import ReportParameters
from phoneservice.present.reports import week_grid

_RATE_DIGITS, _SECONDS_DIGITS, _COUNT_DIGITS = 4, 1, 2
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def N_(text: str) -> str:
    """Mark ``text`` as a message id; it is translated where it is shown."""
    return text


# The goals' names, and the weekdays of "Mandag 15–16: 412 opkald om året".
GOAL_LABELS = {
    "answer_rate": N_("Svarprocent i telefontiden"),
    "service_level": N_("Serviceniveau"),
    "acknowledged_on_time": N_("Tilbagekald til tiden"),
    "max_wait_p90_seconds": N_("Ventetid for 9 ud af 10"),
}
DAY_NAMES = (
    N_("Mandag"),
    N_("Tirsdag"),
    N_("Onsdag"),
    N_("Torsdag"),
    N_("Fredag"),
    N_("Lørdag"),
    N_("Søndag"),
)

# What the evaluation adds to the report's definitions, in the order they are shown.
EVALUATION_FIGURES = {
    "previous_period": N_(
        "Forrige periode: lige så mange dage, der slutter dagen før perioden begynder "
        "(%(previous_first)s til og med %(previous_last)s)."
    ),
    "goal_answer_rate": N_("Mål for svarprocent: andelen af opkald i telefontiden, der besvares."),
    "goal_service_level": N_(
        "Mål for serviceniveau: andelen af besvarede opkald, der besvares inden for enhedens T."
    ),
    "goal_acknowledged_on_time": N_(
        "Mål for tilbagekald til tiden: andelen af afgjorte tilbagekald, hvor borgeren blev "
        "nået senest ved udgangen af næste arbejdsdag."
    ),
    "goal_max_wait_p90_seconds": N_(
        "Mål for ventetid: 9 ud af 10 besvarede opkald venter højst så mange sekunder."
    ),
    "met": N_(
        "Nået: tallet for perioden er mindst målet (for ventetid: højst målet). Står der "
        "usikker, er der så få opkald bag en andel, at dens 95 %%-interval rummer målet."
    ),
    "top_hours": N_(
        "Efterspørgsel uden for telefontiden: opkald, mens der var lukket, efter ugedag og "
        "time; de tre timer, hvor en længere telefontid ville have fanget flest opkald, "
        "omregnet til opkald om året."
    ),
    "staffing": N_(
        "Bemanding: pr. time i ugen ankomster pr. time og gennemsnitlig samtaletid fra "
        "periodens opkald i telefontiden; med Erlang C de medarbejdere, der skal til for at "
        "nå enhedens serviceniveau-mål, og ved siden af de medarbejdere, der faktisk "
        "besvarede opkald i den time (gennemsnit)."
    ),
}


def evaluation_definitions(evaluation: Evaluation, params: ReportParameters) -> dict[str, Any]:
    """The ``definitions`` member: the parameters, the report's texts and the evaluation's."""
    filled = definition_values(evaluation, params)
    thresholds = {u.unit: u.threshold_s for u in evaluation.units if u.unit}
    return {
        **filled_definitions(params, filled, thresholds),
        "evaluation": {key: text % filled for key, text in EVALUATION_FIGURES.items()},
    }


def definition_values(evaluation: Evaluation, params: ReportParameters) -> dict[str, Any]:
    """The values the definition texts are filled from."""
    return {
        "first": evaluation.first.isoformat(),
        "last": evaluation.last.isoformat(),
        "previous_first": evaluation.previous_first.isoformat(),
        "previous_last": evaluation.previous_last.isoformat(),
        "timezone": params.timezone.key,
        "threshold": params.default_threshold_s,
        "short": params.short_abandon_s,
    }


def shown_units(evaluation: Evaluation) -> list[UnitEvaluation]:
    """The units a person is shown: those with calls in this period or the previous one."""
    return [u for u in evaluation.units if u.calls or u.previous_calls]


def evaluation_shape(
    evaluation: Evaluation, params: ReportParameters, unit: str | None = None
) -> dict[str, Any]:
    """``evaluation --json`` and ``GET /api/v1/evaluation``."""
    return {
        "municipality": evaluation.municipality,
        "from": evaluation.first.isoformat(),
        "to": evaluation.last.isoformat(),
        "unit": unit,
        "previous_from": evaluation.previous_first.isoformat(),
        "previous_to": evaluation.previous_last.isoformat(),
        "generated_at": iso(evaluation.generated_at),
        "goal_keys": list(GOAL_KEYS),
        "definitions": evaluation_definitions(evaluation, params),
        "units": [unit_shape(u) for u in evaluation.units],
        "total": unit_shape(evaluation.total),
    }


def unit_shape(unit: UnitEvaluation) -> dict[str, Any]:
    """One unit's (or the total's) evaluation."""
    return {
        "unit": unit.unit,
        "name": unit.name,
        "threshold_s": unit.threshold_s,
        "calls": unit.calls,
        "previous_calls": unit.previous_calls,
        "goals": [goal_shape(goal) for goal in unit.goals],
        "trend": [month_shape(month) for month in unit.trend],
        "outside_hours": week_grid(unit.outside_hours),
        "top_hours": [demand_shape(hour) for hour in unit.top_hours],
        "callbacks": callbacks_shape(unit.callbacks),
        "staffing": [staffing_shape(hour) for hour in unit.staffing],
    }


def goal_shape(goal: GoalResult) -> dict[str, Any]:
    """One goal: target, this period, the previous one, met, uncertain."""
    digits = _RATE_DIGITS if goal.key != "max_wait_p90_seconds" else _SECONDS_DIGITS
    return {
        "key": goal.key,
        "target": _round(goal.target, digits),
        "this": figure_shape(goal.this, digits),
        "previous": figure_shape(goal.previous, digits),
        "met": goal.met,
        "uncertain": goal.uncertain,
    }


def figure_shape(figure: Figure, digits: int) -> dict[str, Any]:
    """A figure with its basis and, over few calls, its 95 % interval."""
    return {
        "value": _round(figure.value, digits),
        "basis": figure.basis,
        "low": _round(figure.low, digits),
        "high": _round(figure.high, digits),
    }


def month_shape(month: Month) -> dict[str, Any]:
    """One month of the trend."""
    return {
        "from": month.first.isoformat(),
        "to": month.last.isoformat(),
        "calls": month.calls,
        "answer_rate": _round(month.answer_rate, _RATE_DIGITS),
        "service_level": _round(month.service_level, _RATE_DIGITS),
        "acknowledged_on_time": _round(month.acknowledged_on_time, _RATE_DIGITS),
        "wait_p90_s": _round(month.wait_p90_s, _SECONDS_DIGITS),
    }


def demand_shape(hour: DemandHour) -> dict[str, Any]:
    """One of the hours outside phone hours with most calls."""
    return {
        **hour_of_week_shape(hour.hour_of_week),
        "calls": hour.calls,
        "per_year": _round(hour.per_year, _SECONDS_DIGITS),
    }


def callbacks_shape(summary: CallbackSummary) -> dict[str, Any]:
    """The callback tasks of the period."""
    return {
        "created": summary.created,
        "on_time": summary.on_time,
        "late": summary.late,
        "unreachable": summary.unreachable,
        "open": summary.open,
        "ack_median_s": _round(summary.ack_median_s, _SECONDS_DIGITS),
    }


def staffing_shape(hour: StaffingHour) -> dict[str, Any]:
    """One hour of the week of a unit's staffing table."""
    return {
        **hour_of_week_shape(hour.hour_of_week),
        "hours": hour.hours,
        "arrivals_per_hour": _round(hour.arrivals_per_hour, _COUNT_DIGITS),
        "handling_s": _round(hour.handling_s, _SECONDS_DIGITS),
        "patience_s": _round(hour.patience_s, _SECONDS_DIGITS),
        "needed_erlang_c": hour.needed_erlang_c,
        "needed_erlang_a": hour.needed_erlang_a,
        "seen": _round(hour.seen, _COUNT_DIGITS),
    }


def hour_of_week_shape(hour_of_week: int) -> dict[str, Any]:
    """An hour of the week as its number, its weekday and its hour of the day."""
    return {
        "hour_of_week": hour_of_week,
        "weekday": WEEKDAY_KEYS[hour_of_week // 24],
        "hour": hour_of_week % 24,
    }


def _round(value: float | None, digits: int) -> float | None:
    """A number rounded for JSON; None stays null."""
    return None if value is None else round(float(value), digits)
