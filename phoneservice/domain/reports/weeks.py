"""The local hour of the week (0 is Monday 00:00-01:00), as the SQL of the reports counts it."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

HOURS_PER_WEEK = 168
# The Unix epoch (1970-01-01 00:00) was a Thursday: 72 hours after the Monday before it.
EPOCH_HOUR_OF_WEEK = 72


def hour_of_week(instant: datetime, tz: ZoneInfo) -> int:
    """The local hour of the week of an instant: 0 is Monday 00:00-01:00, 167 Sunday 23-24.

    The same arithmetic as the SQL: whole local seconds since the epoch, in hours, from
    Monday. In the hour that occurs twice in autumn both occurrences fall in one bucket.
    """
    epoch = math.floor(instant.timestamp())
    offset = instant.astimezone(tz).utcoffset() or timedelta(0)
    local = epoch + int(offset.total_seconds())
    return (local // 3600 + EPOCH_HOUR_OF_WEEK) % HOURS_PER_WEEK
