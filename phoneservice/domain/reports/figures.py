"""The figures of SPEC §7, folded from the cells of one unit (or of all) in one period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from phoneservice.domain.calls.records import (
    ABANDONED,
    ANSWERED,
    CLOSED,
    TIMEOUT,
    UNANSWERED,
    UNKNOWN,
)
from phoneservice.domain.reports.cells import (
    CallbackCell,
    CallCell,
    HourCell,
    ReportData,
    WithheldCell,
)
from phoneservice.domain.reports.percentiles import percentile, ratio
from phoneservice.domain.reports.weeks import HOURS_PER_WEEK

DEFAULT_THRESHOLD_S = 60  # SPEC §7: service level "answered within T seconds", T default 60
WAIT_PERCENTILE = 0.9


@dataclass(frozen=True, slots=True)
class ReportParameters:
    """What the figures depend on besides the data: thresholds, limits, the time zone."""

    timezone: ZoneInfo
    short_abandon_s: int
    thresholds: Mapping[str, int]
    default_threshold_s: int = DEFAULT_THRESHOLD_S
    withheld_closed_count: bool = True  # outside_hours = "callback": closed calls are owed one

    def threshold(self, unit: str | None) -> int:
        """The service-level threshold T of ``unit`` in seconds."""
        return self.thresholds.get(unit or "", self.default_threshold_s)


@dataclass(frozen=True, slots=True)
class CallFigures:
    """The call figures of one unit (or the total) in one period; None where 0 ÷ 0."""

    calls: int
    answered: int
    abandoned: int
    short_abandons: int
    timeouts: int
    closed: int
    unanswered: int
    unknown: int
    calls_during_hours: int
    answered_during_hours: int
    short_abandons_during_hours: int
    answer_rate: float | None
    answered_with_wait: int
    answered_within_threshold: int
    service_level: float | None
    wait_avg_s: float | None
    wait_p90_s: float | None
    unacknowledgeable: int
    closed_by_hour_of_week: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CallbackFigures:
    """The callback figures of one unit (or the total) in one period; None where 0 ÷ 0."""

    created: int
    on_time: int
    late: int
    overdue: int
    pending: int
    unreachable: int
    cancelled: int
    on_time_rate: float | None
    acknowledged: int
    ack_median_s: float | None


def call_figures(data: ReportData, params: ReportParameters) -> CallFigures:
    """Every call figure of SPEC §7 from the cells of one unit (or of all) in one period."""
    by_outcome, during = _tally(data.calls)
    calls_during, answered_during, short_during = (during[k] for k in ("all", ANSWERED, "short"))
    waits = _waits(data.calls, params)
    with_wait = sum(n for _, n, _ in waits)
    within = sum(n for wait, n, limit in waits if wait <= limit)
    return CallFigures(
        calls=by_outcome.total(),
        answered=by_outcome[ANSWERED],
        abandoned=by_outcome[ABANDONED],
        short_abandons=by_outcome[_SHORT],
        timeouts=by_outcome[TIMEOUT],
        closed=by_outcome[CLOSED],
        unanswered=by_outcome[UNANSWERED],
        unknown=by_outcome[UNKNOWN],
        calls_during_hours=calls_during,
        answered_during_hours=answered_during,
        short_abandons_during_hours=short_during,
        answer_rate=ratio(answered_during, calls_during - short_during),
        answered_with_wait=with_wait,
        answered_within_threshold=within,
        service_level=ratio(within, with_wait),
        wait_avg_s=None if not with_wait else sum(w * n for w, n, _ in waits) / with_wait,
        wait_p90_s=percentile([(w, n) for w, n, _ in waits], WAIT_PERCENTILE),
        unacknowledgeable=sum(c.count for c in data.withheld if _owed(c, params)),
        closed_by_hour_of_week=_by_hour_of_week(data.closed_hours),
    )


_SHORT = "short"  # an abandon before the short-abandon limit: its own class, not "abandoned"


def _tally(cells: Sequence[CallCell]) -> tuple[Counter[str], Counter[str]]:
    """In one pass: calls per outcome (short abandons apart) and, during phone hours, all
    of them (``all``), the answered ones and the short abandons (``short``).
    """
    by_outcome, during = Counter[str](), Counter[str]()
    for cell in cells:
        kind = _SHORT if _short(cell) else cell.outcome
        by_outcome[kind] += cell.count
        if cell.during_hours:
            during["all"] += cell.count
            during[kind] += cell.count
    return by_outcome, during


def _waits(cells: Sequence[CallCell], params: ReportParameters) -> list[tuple[int, int, int]]:
    """``(wait, calls, threshold)`` of answered calls with a known wait."""
    return [
        (c.wait_s, c.count, params.threshold(c.unit))
        for c in cells
        if c.outcome == ANSWERED and c.wait_s is not None
    ]


def _short(cell: CallCell) -> bool:
    """A short abandon: the caller hung up before the short-abandon limit."""
    return cell.outcome == ABANDONED and cell.short_abandon


def _owed(cell: WithheldCell, params: ReportParameters) -> bool:
    """Whether withheld calls of this outcome count: closed ones only when owed a callback."""
    return params.withheld_closed_count or cell.outcome != CLOSED


def _by_hour_of_week(cells: Sequence[HourCell]) -> tuple[int, ...]:
    """Calls outside phone hours per local hour of the week, Monday 00:00 first."""
    counts = [0] * HOURS_PER_WEEK
    for cell in cells:
        counts[cell.hour_of_week] += cell.count
    return tuple(counts)


def callback_figures(cells: Sequence[CallbackCell], ack_median_s: float | None) -> CallbackFigures:
    """Every callback figure from the cells of one unit (or of all) in one period."""
    by_status = Counter[str]()
    for cell in cells:
        by_status.update(cell.statuses)
    created = sum(by_status.values())
    decided = created - by_status["pending"] - by_status["cancelled"]
    return CallbackFigures(
        created=created,
        on_time=by_status["on_time"],
        late=by_status["late"],
        overdue=by_status["overdue"],
        pending=by_status["pending"],
        unreachable=by_status["unreachable"],
        cancelled=by_status["cancelled"],
        on_time_rate=ratio(by_status["on_time"], decided),
        acknowledged=sum(cell.acknowledged for cell in cells),
        ack_median_s=ack_median_s,
    )
