"""Buckets of the time to acknowledge a callback, and the median read from them.

The callback roll-up counts tasks per bucket of the time to acknowledge instead of per
second, so a report sums a few rows per unit and day. The median is then computed as
PostgreSQL's ``percentile_cont(0.5)`` over the values with each bucket's values spread
evenly over the bucket (:func:`bucket_median`). Each of the one or two middle values it
interpolates between is then off by less than the width of its bucket, so the median is
off by less than that width (one middle value), or half the sum of the two widths:

- 1 minute wide below 10 minutes, 5 minutes wide to 1 hour: within 5 minutes;
- from 1 hour to 72 hours each edge is the one before plus 10 %, rounded down to a whole
  minute: within 10 %;
- then 3, 4, 5, 7, 10, 14, 21 and 30 days: a task acknowledged after days is late by
  any measure, so these are coarse; a median in the last (open) bucket reads 30 days.

Two middle values on either side of 1 hour: within 2½ minutes plus 5 % of the upper one.

74 buckets in all, so the roll-up has at most days × units × statuses × 75 rows (with
:data:`NOT_ACKNOWLEDGED`), and far fewer in practice.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence

NOT_ACKNOWLEDGED = -1  # the bucket key of a task that was never acknowledged

# The lower edges, in seconds; each bucket runs to the next edge (the last one has no end).
EDGES: tuple[int, ...] = (
    *range(0, 600, 60),
    *range(600, 3600, 300),
    *(3600, 3960, 4320, 4740, 5160, 5640, 6180, 6780, 7440, 8160, 8940, 9780, 10740),
    *(11760, 12900, 14160, 15540, 17040, 18720, 20580, 22620, 24840, 27300, 30000),
    *(33000, 36300, 39900, 43860, 48240, 53040, 58320, 64140, 70500, 77520, 85260),
    *(93780, 103140, 113400, 124740, 137160, 150840, 165900, 182460, 200700, 220740),
    *(242760, 259200, 345600, 432000, 604800, 864000, 1209600, 1814400, 2592000),
)
FINE_UNTIL = 3600  # below: absolute precision (seconds); from here: relative
ABSOLUTE_PRECISION = 300
RELATIVE_PRECISION = 0.10
PRECISE_UNTIL = 259200  # 72 hours: the last edge of the fine buckets


def bucket_of(seconds: int | None) -> int:
    """The bucket key (its lower edge) of a time to acknowledge; None: not acknowledged.

    A negative time (an attempt logged before the first call's clock) counts as 0.
    """
    if seconds is None:
        return NOT_ACKNOWLEDGED
    return EDGES[max(bisect_right(EDGES, seconds) - 1, 0)]


def bucket_end(lower: int) -> int | None:
    """The upper edge (exclusive) of the bucket with this lower edge; None for the last."""
    index = EDGES.index(lower)
    return EDGES[index + 1] if index + 1 < len(EDGES) else None


def bucket_median(histogram: Iterable[tuple[int, int]]) -> float | None:
    """The median of the values counted per bucket ``(lower edge, count)``, interpolated.

    As ``percentile_cont(0.5)`` over the values, each bucket's values taken as spread
    evenly over it (the k-th of n at ``lower + width × (k + ½) / n``). Rows with
    :data:`NOT_ACKNOWLEDGED` are ignored; None when nothing is counted.
    """
    counts = Counter[int]()
    for lower, count in histogram:
        if lower != NOT_ACKNOWLEDGED and count > 0:
            counts[lower] += count
    items = sorted(counts.items())
    total = sum(counts.values())
    if total == 0:
        return None
    rank = (total - 1) / 2
    low, high = _spread_value(items, math.floor(rank)), _spread_value(items, math.ceil(rank))
    return low + (high - low) * (rank - math.floor(rank))


def _spread_value(items: Sequence[tuple[int, int]], rank: int) -> float:
    """The value at 0-based ``rank``, the values of each bucket spread evenly over it."""
    before = 0
    for lower, count in items:
        if rank < before + count:
            end = bucket_end(lower)
            if end is None:  # the last bucket has no width: its lower edge
                return float(lower)
            return lower + (end - lower) * (rank - before + 0.5) / count
        before += count
    raise ValueError(f"rank {rank} is beyond the {before} values counted")


def precision(seconds: float) -> float:
    """The width bound of the bucket holding ``seconds``: 5 min below 1 h, then 10 %."""
    if seconds < FINE_UNTIL:
        return float(ABSOLUTE_PRECISION)
    return RELATIVE_PRECISION * seconds


def bucket_width(seconds: float) -> float:
    """The width of the bucket holding ``seconds`` (infinite for the last)."""
    lower = bucket_of(math.floor(seconds))
    end = bucket_end(lower)
    return math.inf if end is None else float(end - lower)
