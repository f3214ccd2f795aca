"""Ratios and percentiles over counted values, as PostgreSQL computes them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide by (never a false 0 %)."""
    return None if whole == 0 else part / whole


def percentile(histogram: Iterable[tuple[float, int]], fraction: float) -> float | None:
    """The ``fraction`` percentile of values given with counts, as ``percentile_cont``.

    Linear interpolation between the two values closest to rank ``fraction * (n - 1)``
    (0-based), which is what PostgreSQL's ``percentile_cont`` computes; None if empty.
    """
    items = sorted((value, count) for value, count in histogram if count > 0)
    total = sum(count for _, count in items)
    if total == 0:
        return None
    rank = fraction * (total - 1)
    low, high = _value_at(items, math.floor(rank)), _value_at(items, math.ceil(rank))
    return low + (high - low) * (rank - math.floor(rank))


def _value_at(items: Sequence[tuple[float, int]], rank: int) -> float:
    """The value at 0-based ``rank`` of sorted values with counts."""
    seen = 0
    for value, count in items:
        seen += count
        if rank < seen:
            return value
    return items[-1][0]
