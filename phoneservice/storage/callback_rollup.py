"""The roll-up of closed callbacks (``callback_day_cells``). Never commits.

A task's cell (:mod:`phoneservice.domain.reports.callback_rollup`) depends on its row
and on its first real attempt, and only a closed task has one. Whatever changes a task
or its attempts goes through :meth:`CallbackRollup.changing`: it locks the tasks, reads
their cells before the change and after it, in the same transaction, and adds the difference
(``INSERT ... ON CONFLICT DO UPDATE``, rows left at 0 deleted). So closing, reopening,
the purge's expiry and an attempt decided after the closing all keep the roll-up in
step without each knowing the rules. :func:`backfill_callbacks` fills an empty roll-up:
one ``INSERT ... SELECT ... GROUP BY`` on PostgreSQL (``AT TIME ZONE``, the bucket by
``width_bucket``), Python in batches on SQLite.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, Table, delete, func, inspect, select, text
from sqlalchemy import tuple_ as sql_tuple

from phoneservice.domain.callbacks.rules import OPEN
from phoneservice.domain.reports.buckets import EDGES, NOT_ACKNOWLEDGED
from phoneservice.domain.reports.callback_rollup import (
    CallbackFacts,
    CallbackKey,
    callbacks_rolled_up,
)
from phoneservice.storage.bulk import upsert_sums
from phoneservice.storage.models import (
    CALLBACK_KEY,
    AttemptRow,
    CallbackDayCellRow,
    CallbackRow,
)

CALLBACK_CELLS = cast(Table, inspect(CallbackDayCellRow).local_table)
_CALLBACKS = cast(Table, inspect(CallbackRow).local_table)
_ATTEMPTS = cast(Table, inspect(AttemptRow).local_table)
_BATCH = 20_000  # tasks read per round of the Python backfill
_IN_CHUNK = 500  # ids per IN (...) list

_EDGES_SQL = "ARRAY[" + ", ".join(str(edge) for edge in EDGES) + "]"
# PostgreSQL: the same cell as the domain's callback_key, for every closed task at once.
_BACKFILL = f"""
INSERT INTO callback_day_cells (day, unit, status, ack_bucket, callbacks)
SELECT CAST(first_call_at AT TIME ZONE :tz AS date), unit,
    CASE WHEN state <> 'done' THEN state
         WHEN closed_at <= due_at THEN 'on_time' ELSE 'late' END,
    CASE WHEN ack IS NULL THEN {NOT_ACKNOWLEDGED}
         ELSE ({_EDGES_SQL})[greatest(width_bucket(
             floor(date_part('epoch', ack)) - floor(date_part('epoch', first_call_at)),
             {_EDGES_SQL}), 1)] END,
    count(*)
FROM (
    SELECT c.unit, c.state, c.first_call_at, c.due_at, c.closed_at,
        least(a.attempted_at, CASE WHEN c.resolution = 'expired' THEN NULL
                                   ELSE c.closed_at END) AS ack
    FROM callbacks AS c
    LEFT JOIN (SELECT callback_id, min(at) AS attempted_at FROM callback_attempts
               WHERE outcome IS NOT NULL GROUP BY callback_id) AS a
        ON a.callback_id = c.id
    WHERE c.state <> 'open'
) AS closed
GROUP BY 1, 2, 3, 4
"""  # noqa: S608 (constants only, no input)


def task_facts() -> Select[Any]:
    """The columns of :class:`CallbackFacts` (and the id) of tasks: add a WHERE.

    The first real attempt is a correlated subquery on ``ix_callback_attempts_callback_id``,
    so reading a few tasks never aggregates every attempt.
    """
    cb, at = _CALLBACKS.c, _ATTEMPTS.c
    attempted = (
        select(func.min(at.at))
        .where(at.callback_id == cb.id, at.outcome.is_not(None))
        .scalar_subquery()
        .label("attempted_at")
    )
    columns = (cb.id, cb.unit, cb.state, cb.first_call_at, cb.due_at, cb.closed_at)
    return select(*columns, cb.resolution, attempted)


class CallbackRollup:
    """Keeps ``callback_day_cells`` in step with changes to tasks, in one transaction."""

    def __init__(self, connection: Connection, timezone: ZoneInfo) -> None:
        self._connection = connection
        self._timezone = timezone

    @contextmanager
    def changing(self, ids: Collection[int]) -> Iterator[None]:
        """Around a change of these tasks (or their attempts): move their counts.

        The tasks' rows are locked first (PostgreSQL: ``FOR UPDATE``; SQLite has one
        writer), so the cells read before are those of the last committed state even
        when another transaction changed a task meanwhile: the counts always follow
        the rows.
        """
        ordered = sorted(ids)
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start : start + _IN_CHUNK]
            locking = select(_CALLBACKS.c.id).where(_CALLBACKS.c.id.in_(chunk))
            self._connection.execute(locking.order_by(_CALLBACKS.c.id).with_for_update())
        before = self.cells_of(ids)
        yield
        self.move(before, self.cells_of(ids))

    def cells_of(self, ids: Collection[int]) -> Counter[CallbackKey]:
        """How many of these tasks count in each cell now (open tasks count nowhere)."""
        found = Counter[CallbackKey]()
        ordered = sorted(ids)
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start : start + _IN_CHUNK]
            query = task_facts().where(_CALLBACKS.c.id.in_(chunk), _CALLBACKS.c.state != OPEN)
            rows = cast(Sequence[CallbackFacts], list(self._connection.execute(query)))
            found.update(callbacks_rolled_up(rows, self._timezone))
        return found

    def move(self, before: Counter[CallbackKey], after: Counter[CallbackKey]) -> None:
        """Take the ``before`` counts out of their cells and put the ``after`` ones in."""
        change = {k: after[k] - before[k] for k in before | after if after[k] != before[k]}
        upsert_sums(self._connection, CALLBACK_CELLS, CALLBACK_KEY, change)
        emptied = [key for key, n in change.items() if n < 0]
        if emptied:
            columns = [CALLBACK_CELLS.c[name] for name in CALLBACK_KEY]
            self._connection.execute(
                delete(CALLBACK_CELLS).where(
                    sql_tuple(*columns).in_(emptied), CALLBACK_CELLS.c.callbacks == 0
                )
            )


def backfill_callbacks(connection: Connection, timezone: ZoneInfo) -> None:
    """Fill the (empty) callback roll-up from every closed task, in ``timezone``."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(_BACKFILL), {"tz": timezone.key})
        return
    found = Counter[CallbackKey]()
    for batch in _closed_batches(connection):
        found.update(callbacks_rolled_up(batch, timezone))
    upsert_sums(connection, CALLBACK_CELLS, CALLBACK_KEY, found)


def _closed_batches(connection: Connection) -> Iterable[list[CallbackFacts]]:
    """Every closed task's facts, in batches by id."""
    cb, last = _CALLBACKS.c, 0
    while True:
        query = task_facts().where(cb.state != OPEN, cb.id > last)
        batch = list(connection.execute(query.order_by(cb.id).limit(_BATCH)))
        if not batch:
            return
        last = batch[-1].id
        yield cast(list[CallbackFacts], batch)
