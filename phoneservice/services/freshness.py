"""Units whose registry entry needs a look: ``verified`` too old, or dated hours running out.

The rules are the registry's own (the warnings of ``check-config``), asked for today's
date rather than the date the file was loaded, so ``/admin`` and ``check-config`` run on
the same day give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from phoneservice.domain.units import Unit
from phoneservice.registry import Registry
from phoneservice.registry.calendars import verification_due
from phoneservice.registry.coverage import RUN_OUT_DAYS, hours_run_out

__all__ = ["RUNS_OUT", "RUN_OUT_DAYS", "VERIFY", "Finding", "needs_look"]

VERIFY = "verify"  # ``verified`` is older than ``[registry] verify_after_days``
RUNS_OUT = "runs-out"  # the last dated hours end within the warning period (or have ended)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to look at for a unit.

    ``VERIFY``: ``since`` is the day after ``verified`` stopped holding (``day`` is
    ``verified``). ``RUNS_OUT``: ``day`` is the last day with hours and ``since`` the first
    day the unit is shown as closed for good.
    """

    unit: Unit
    kind: str
    day: date
    since: date


def needs_look(registry: Registry, today: date) -> list[Finding]:
    """Every finding, unit by unit in file order; within a unit, verification first."""
    found: list[Finding] = []
    for unit in registry.units.values():
        if unit.verified is not None:
            due = verification_due(unit.verified, today, registry.verify_after_days)
            if due is not None:
                found.append(Finding(unit, VERIFY, unit.verified, due + _DAY))
        run_out = hours_run_out(unit, today)
        if run_out is not None:
            found.append(Finding(unit, RUNS_OUT, run_out.last, run_out.closed_from))
    return found
