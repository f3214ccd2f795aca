"""The clock the services read: a callable that returns the current aware instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current instant (UTC)."""
    return datetime.now(UTC)
