"""A unit: a municipal centre or an outside authority, and how to reach it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from phoneservice.domain.hours.schedule import Schedule

CENTRE = "centre"
AUTHORITY = "authority"
KINDS = (CENTRE, AUTHORITY)


@dataclass(frozen=True, eq=False)
class Unit:
    """One phone line in the registry with its contact data and its schedule."""

    id: str
    name: str
    kind: str
    phone: str
    schedule: Schedule
    calendar: str
    menu: str | None = None
    email: str | None = None
    url: str | None = None
    notes: str | None = None
    after_hours: str | None = None
    tags: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    dids: tuple[str, ...] = ()
    verified: date | None = None
    service_level_seconds: int | None = None  # T of the service level; None: the default

    def matches(self, query: str) -> bool:
        """Whether a search word matches the id, the name or a tag (case-insensitive)."""
        needle = query.casefold().strip()
        haystack = (self.id, self.name, *self.tags)
        return any(needle in text.casefold() for text in haystack)
