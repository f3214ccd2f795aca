"""The buckets of the time to acknowledge and the median read from them.

The bucketed median must stay within the documented bound of the exact median
(``percentile_cont``): each middle value it interpolates is off by less than its
bucket's width, so 5 minutes below 1 hour and 10 % from 1 to 72 hours.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from phoneservice.domain.reports.buckets import (
    EDGES,
    NOT_ACKNOWLEDGED,
    PRECISE_UNTIL,
    bucket_end,
    bucket_median,
    bucket_of,
    bucket_width,
    precision,
)
from phoneservice.domain.reports.callback_rollup import (
    CallbackKey,
    callback_key,
    seconds_to_acknowledge,
)
from phoneservice.domain.reports.percentiles import percentile
from tests.conftest import TZ

FIRST = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # Sunday 25 October 00:30 local


def test_the_edges_hold_the_documented_widths() -> None:
    assert EDGES[0] == 0 and list(EDGES) == sorted(set(EDGES)) and len(EDGES) == 74
    for lower, upper in pairwise(EDGES):
        if upper <= 600:
            assert upper - lower == 60
        elif upper <= 3600:
            assert upper - lower == 300
        elif upper <= PRECISE_UNTIL:
            assert upper - lower <= 0.1 * lower and upper % 60 == 0
    assert EDGES[-1] == 30 * 86400 and bucket_end(EDGES[-1]) is None


def test_a_time_falls_in_the_bucket_of_its_lower_edge() -> None:
    assert [bucket_of(s) for s in (None, -5, 0, 59, 60, 3599, 3600, 3959, 10**8)] == [
        NOT_ACKNOWLEDGED,
        0,
        0,
        0,
        60,
        3300,
        3600,
        3600,
        2592000,
    ]


def test_the_median_of_nothing_is_none_and_unacknowledged_tasks_do_not_count() -> None:
    assert bucket_median([]) is None
    assert bucket_median([(NOT_ACKNOWLEDGED, 5)]) is None
    assert bucket_median([(NOT_ACKNOWLEDGED, 5), (1800, 1)]) == 1950.0  # the midpoint
    assert bucket_median([(2592000, 3)]) == 2592000.0  # the open bucket: its lower edge


@given(st.lists(st.integers(0, PRECISE_UNTIL - 1), min_size=1, max_size=300))
def test_the_bucketed_median_is_within_its_buckets_of_the_exact_one(values: list[int]) -> None:
    exact = percentile([(float(v), 1) for v in values], 0.5)
    bucketed = bucket_median(Counter(bucket_of(v) for v in values).items())
    assert exact is not None and bucketed is not None
    ordered = sorted(values)
    rank = (len(values) - 1) / 2
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    share = rank - math.floor(rank)
    bound = (1 - share) * bucket_width(low) + share * bucket_width(high)
    assert abs(bucketed - exact) <= bound + 1e-6
    if high < 3600:
        assert abs(bucketed - exact) <= 300
    if low >= 3600:
        assert abs(bucketed - exact) <= precision(exact) + 1e-6


class Task:
    """The facts of a task, as a row of the roll-up's query gives them."""

    def __init__(self, state: str, **changes: object) -> None:
        self.unit, self.state, self.first_call_at = "jobcenter", state, FIRST
        self.due_at = FIRST + timedelta(days=1)
        self.closed_at: datetime | None = None
        self.resolution: str | None = None
        self.attempted_at: datetime | None = None
        self.__dict__.update(changes)


def test_a_closed_task_counts_in_the_cell_of_its_local_day_status_and_bucket() -> None:
    day = FIRST.astimezone(TZ).date()
    assert callback_key(Task("open"), TZ) is None
    closed = FIRST + timedelta(hours=2)
    done = Task("done", closed_at=closed, resolution="called_back")
    assert callback_key(done, TZ) == CallbackKey(day, "jobcenter", "on_time", 6780)
    late = Task("done", closed_at=FIRST + timedelta(days=2), resolution="caller_reached_us")
    assert callback_key(late, TZ) == CallbackKey(day, "jobcenter", "late", 165900)
    attempted = Task("cancelled", closed_at=closed, resolution="cancelled")
    attempted.attempted_at = FIRST + timedelta(minutes=3, seconds=30)
    assert callback_key(attempted, TZ) == CallbackKey(day, "jobcenter", "cancelled", 180)


def test_the_purge_expiring_a_task_acknowledges_nothing() -> None:
    expired = Task("unreachable", closed_at=FIRST + timedelta(days=400), resolution="expired")
    assert seconds_to_acknowledge(expired) is None
    assert callback_key(expired, TZ) == CallbackKey(
        FIRST.astimezone(TZ).date(), "jobcenter", "unreachable", NOT_ACKNOWLEDGED
    )
    expired.attempted_at = FIRST + timedelta(seconds=61)
    assert seconds_to_acknowledge(expired) == 61
