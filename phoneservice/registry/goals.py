"""Reading the service goals: ``[goals]`` (the defaults) and ``[[unit]] goals`` (overrides).

A unit's goals are the defaults with its own keys put over them, key by key, so the
council can set one promise for the municipality and a stricter one for one line.
"""

from __future__ import annotations

from dataclasses import replace

from phoneservice.domain.evaluation.model import GOAL_KEYS, SHARE_GOALS, Goals
from phoneservice.registry.checker import Checker, Table
from phoneservice.registry.problems import Path

GOALS_KEYS = dict.fromkeys(GOAL_KEYS, False)
MAX_WAIT_GOAL_S = 3600
WAIT_KEY = "max_wait_p90_seconds"


def read_goals(ck: Checker, raw: object, path: Path, defaults: Goals | None = None) -> Goals:
    """A goals table at ``path``; keys it does not give keep ``defaults`` (none: no goal)."""
    base = defaults if defaults is not None else Goals()
    if raw is None:
        return base
    table = ck.table(raw, path, GOALS_KEYS)
    if table is None:
        return base
    given = [key for key in GOAL_KEYS if key in SHARE_GOALS and key in table]
    shares = {key: _share(ck, table, key, path) for key in given}
    wait = _wait(ck, table, path) if WAIT_KEY in table else None
    overrides: dict[str, float | int] = {k: v for k, v in shares.items() if v is not None}
    if wait is not None:
        overrides[WAIT_KEY] = wait
    return replace(base, **overrides)  # type: ignore[arg-type]


def _wait(ck: Checker, table: Table, path: Path) -> int | None:
    """The 90 % wait goal in whole seconds, 1 to :data:`MAX_WAIT_GOAL_S`."""
    value = ck.get(table, WAIT_KEY, path, int)
    if value is not None and not 1 <= value <= MAX_WAIT_GOAL_S:
        message = f"must be a whole number of seconds from 1 to {MAX_WAIT_GOAL_S}"
        ck.error((*path, WAIT_KEY), value, message)
        return None
    return value


def _share(ck: Checker, table: Table, key: str, path: Path) -> float | None:
    """A share from 0 to 1 (``0.9``, not ``90`` or ``"90 %"``)."""
    value = table[key]
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    hint = ""
    if isinstance(value, int | float) and not isinstance(value, bool) and _percent_like(value):
        hint = f" (write {value / 100:g} for {value:g} %)"
    ck.error((*path, key), value, f"must be a share from 0 to 1, e.g. 0.9{hint}")
    return None


def _percent_like(value: float) -> bool:
    """A whole number from 2 to 100: a percentage written where a share belongs."""
    return 1 < value <= 100 and value == int(value)
