"""``phoneservice evaluation``: the service evaluation for the council (SPEC §13).

``--from`` and ``--to`` are local dates, both included; the period is compared with the
previous period of the same number of days. Text output is a table of goals per unit
(target, this period, the previous one, met), then the demand outside phone hours and the
callbacks; ``--json`` is the shape of ``GET /api/v1/evaluation``; ``--pdf FILE`` writes
the printable document the page ``/evaluation.pdf`` gives (the same template). Like
``report``, the command line has no size limit.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from phoneservice.cli.common import EXIT_OK, Clock, UsageError, common_options, day, services
from phoneservice.cli.report import DASH, _table, duration, percent, seconds
from phoneservice.domain.evaluation.model import SHARE_GOALS, Evaluation, Figure, GoalResult
from phoneservice.domain.evaluation.model import UnitEvaluation as Unit
from phoneservice.domain.localtime import iso
from phoneservice.domain.reports.periods import ReportError
from phoneservice.present.evaluation import (
    DAY_NAMES,
    GOAL_LABELS,
    evaluation_shape,
    shown_units,
)
from phoneservice.settings import Settings


def register(commands: Any) -> None:
    """Add ``evaluation`` to the parser."""
    command = commands.add_parser("evaluation", parents=[common_options()])
    command.add_argument("--unit", help="one unit (default: all, and the total)")
    command.add_argument("--from", dest="first", required=True, help="first date (YYYY-MM-DD)")
    command.add_argument("--to", dest="last", required=True, help="last date, inclusive")
    command.add_argument("--pdf", metavar="FILE", help="also write the printable PDF to FILE")
    command.set_defaults(run=cmd_evaluation)


def cmd_evaluation(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Print the evaluation as text or JSON; with ``--pdf`` write the document too."""
    first, last = day(args.first, "--from"), day(args.last, "--to")
    found = services(args, settings, clock)
    try:
        evaluation = found.evaluations.evaluation(first, last, args.unit, limited=False)
    except ReportError as exc:
        raise UsageError(str(exc)) from exc
    if args.pdf:
        from phoneservice.web.evaluation.document import evaluation_pdf

        _write(Path(args.pdf), evaluation_pdf(found, evaluation, args.unit))
    if args.json:
        shape = evaluation_shape(evaluation, found.reports.parameters(), args.unit)
        print(json.dumps(shape, ensure_ascii=False, indent=2))
    else:
        print("\n".join(text_lines(evaluation)))
    return EXIT_OK


def _write(path: Path, document: bytes) -> None:
    """Write the PDF; a path that cannot be written is invalid input (exit 2)."""
    try:
        path.write_bytes(document)
    except OSError as exc:
        raise UsageError(f"--pdf: cannot write {path}: {exc.strerror}") from exc


def text_lines(evaluation: Evaluation) -> Iterator[str]:
    """The evaluation as text: heading, then per unit and in total its goals and demand."""
    first, last = evaluation.first, evaluation.last
    yield f"Evaluering for {evaluation.municipality}: {first} til og med {last}"
    yield f"Forrige periode: {evaluation.previous_first} til og med {evaluation.previous_last}"
    yield f"Lavet {iso(evaluation.generated_at)}"
    shown = shown_units(evaluation)
    if quiet := len(evaluation.units) - len(shown):
        yield f"Enheder uden opkald i begge perioder er udeladt ({quiet})."
    for unit in (*shown, evaluation.total):
        yield from _unit_lines(unit)


def _unit_lines(unit: Unit) -> Iterator[str]:
    """One unit: its goals table, the busiest hours outside phone hours, the callbacks."""
    yield ""
    yield f"{unit.name}: {unit.calls} opkald (forrige periode {unit.previous_calls})"
    headers = ["mål", "målet", "denne periode", "forrige periode", "nået"]
    rows = [_goal_row(goal) for goal in unit.goals]
    if rows:
        yield from _table(headers, rows)
    else:
        yield "Ingen mål og ingen tal at vise."
    if unit.top_hours:
        yield "Flest opkald uden for telefontiden: " + "; ".join(
            demand_sentence(h.hour_of_week, h.per_year) for h in unit.top_hours
        )
    b = unit.callbacks
    yield (
        f"Tilbagekald: oprettet {b.created}, til tiden {b.on_time}, for sent {b.late}, "
        f"ikke nået {b.unreachable}, åbne {b.open}, median kvittering {duration(b.ack_median_s)}"
    )


def _goal_row(goal: GoalResult) -> list[str]:
    """One goal as text: its name, the target, this period and the previous with their calls."""
    return [
        GOAL_LABELS[goal.key],
        _value(goal.key, goal.target),
        _figure(goal.key, goal.this),
        _figure(goal.key, goal.previous),
        met_word(goal),
    ]


def _value(key: str, value: float | None) -> str:
    """A share in per cent or a wait in seconds; a dash for none."""
    return percent(value) if key in SHARE_GOALS else seconds(value)


def _figure(key: str, figure: Figure) -> str:
    """A figure with the number of calls (or tasks) behind it."""
    if figure.value is None:
        return DASH
    return f"{_value(key, figure.value)} ({figure.basis})"


def met_word(goal: GoalResult) -> str:
    """ja, nej, usikker (few calls) or a dash."""
    if goal.met is None:
        return DASH
    if goal.uncertain:
        return f"usikker: få opkald ({'ja' if goal.met else 'nej'})"
    return "ja" if goal.met else "nej"


def demand_sentence(hour_of_week: int, per_year: float) -> str:
    """``Mandag 15–16: 412 opkald om året``."""
    hour = hour_of_week % 24
    name = DAY_NAMES[hour_of_week // 24]
    return f"{name} {hour}–{hour + 1}: {round(per_year)} opkald om året"
