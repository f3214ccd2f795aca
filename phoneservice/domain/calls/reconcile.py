"""Which witness decides what when the AMI stream and queue_log both saw a call.

The rules (docs/calls.md, "Which witness decides what"), in one place for ``ingest``, the
worker's resync after a gap and its check of calls as they are stored:

- queue_log's terminal line decides timeout against abandon (``EXITWITHTIMEOUT`` or
  ``ABANDON``); live, ``QUEUESTATUS`` decided it before queue_log was read.
- An end the AMI stream did not see (``unknown``) is queue_log's.
- Figures the AMI stream observed are kept; the ones it lacks (talk time when
  ``AgentComplete`` came without channel fields, wait, agent) are filled from queue_log.
- The caller (number and name), linkedid, arrival and the dialplan's hours decision
  stay the AMI's: queue_log has no name and starts at the queue.
- Queue visits the AMI stream did not see (joined during a gap) are queue_log's, with
  their queue and unit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from phoneservice.domain.calls.classify import pbx_says_open
from phoneservice.domain.calls.queuelog import SOURCE_QUEUE_LOG
from phoneservice.domain.calls.records import (
    ABANDONED,
    ANSWERED,
    TIMEOUT,
    UNKNOWN,
    CallRecord,
    Segment,
)

_GAVE_UP = frozenset({ABANDONED, TIMEOUT})  # left the queue unanswered: the witnesses differ


def needs_witness(record: CallRecord) -> bool:
    """Whether queue_log may change an AMI record: an end or a figure it may decide."""
    if record.source == SOURCE_QUEUE_LOG:
        return False
    if record.outcome in _GAVE_UP or record.outcome == UNKNOWN:
        return True
    return record.outcome == ANSWERED and (record.talk_s is None or record.wait_s is None)


def witnessed(records: Sequence[CallRecord], rebuilt: Iterable[CallRecord]) -> list[CallRecord]:
    """``records`` (the AMI's), each merged with queue_log's record of the same call."""
    by_id = {r.uniqueid: r for r in rebuilt}
    return [merge(r, by_id[r.uniqueid]) if r.uniqueid in by_id else r for r in records]


def merge(ami: CallRecord, queue_log: CallRecord) -> CallRecord:
    """One call both witnesses saw, by the rules above."""
    if ami.source == SOURCE_QUEUE_LOG or ami.uniqueid != queue_log.uniqueid:
        return ami
    outcome = _outcome(ami.outcome, queue_log.outcome)
    segments = _segments(ami.segments, queue_log.segments)
    first = segments[0] if segments else None
    took_queue = not ami.segments and bool(queue_log.segments)
    unit = (queue_log.unit or ami.unit) if took_queue else ami.unit
    during_hours = queue_log.during_hours if took_queue else ami.during_hours
    return replace(
        ami,
        unit=unit,
        queue=first.queue if first else ami.queue,
        during_hours=during_hours,
        hours_disagree=_disagree(unit, ami.pbx_hours, during_hours),
        outcome=outcome,
        short_abandon=_short(ami, queue_log, outcome),
        wait_s=_fill(ami.wait_s, queue_log.wait_s),
        talk_s=_fill(ami.talk_s, queue_log.talk_s),
        agent=ami.agent or queue_log.agent,
        ring_attempts=max(ami.ring_attempts, queue_log.ring_attempts),
        ended_at=queue_log.ended_at if _end_unseen(ami) else ami.ended_at,
        segments=segments,
        source=ami.source if outcome == ami.outcome else SOURCE_QUEUE_LOG,
    )


def reconcile(
    vanished: Sequence[CallRecord],
    rebuilt: Sequence[CallRecord],
    in_flight: Collection[str],
    since: datetime,
) -> list[CallRecord]:
    """Complete calls that ended in a gap from queue_log, and add the calls it hid.

    ``vanished`` are the tracker's records for calls that disappeared during the gap,
    ``rebuilt`` the queue_log calls, ``in_flight`` the calls the tracker still follows.
    Calls rebuilt from queue_log that ended before ``since`` were seen live and are left
    out (storage ignores duplicates anyway).
    """
    result = witnessed(vanished, rebuilt)
    known = {r.uniqueid for r in vanished} | set(in_flight)
    result += [r for r in rebuilt if r.uniqueid not in known and r.ended_at >= since]
    return result


def _short(ami: CallRecord, queue_log: CallRecord, outcome: str) -> bool:
    """A short abandon as the witness whose outcome and wait the merged record keeps says."""
    if outcome == ami.outcome and ami.wait_s is not None:
        return ami.short_abandon
    return queue_log.short_abandon if outcome == queue_log.outcome else ami.short_abandon


def _end_unseen(ami: CallRecord) -> bool:
    """Whether the AMI missed the call's end: undecided, or answered without its talk time."""
    return ami.outcome == UNKNOWN or (ami.outcome == ANSWERED and ami.talk_s is None)


def _outcome(ami: str, queue_log: str) -> str:
    """queue_log decides an end the AMI did not see, and timeout against abandon."""
    if ami == UNKNOWN or (ami in _GAVE_UP and queue_log in _GAVE_UP):
        return queue_log
    return ami


def _segments(ami: Sequence[Segment], queue_log: Sequence[Segment]) -> tuple[Segment, ...]:
    """The AMI's visits, each merged with queue_log's, then the visits only queue_log saw."""
    if not _same_visits(ami, queue_log):
        return tuple(ami) or tuple(queue_log)
    merged = tuple(_segment(a, q) for a, q in zip(ami, queue_log, strict=False))
    return merged + tuple(queue_log[len(ami) :])


def _same_visits(ami: Sequence[Segment], queue_log: Sequence[Segment]) -> bool:
    """Whether the AMI's visits are the first of queue_log's, queue by queue."""
    return len(ami) <= len(queue_log) and all(
        a.queue == q.queue for a, q in zip(ami, queue_log, strict=False)
    )


def _segment(ami: Segment, queue_log: Segment) -> Segment:
    """One queue visit both witnesses saw."""
    return replace(
        ami,
        left_at=ami.left_at or queue_log.left_at,
        outcome=_outcome(ami.outcome, queue_log.outcome),
        wait_s=_fill(ami.wait_s, queue_log.wait_s),
        ring_attempts=max(ami.ring_attempts, queue_log.ring_attempts),
        ring_no_answers=max(ami.ring_no_answers, queue_log.ring_no_answers),
        agent=ami.agent or queue_log.agent,
        talk_s=_fill(ami.talk_s, queue_log.talk_s),
    )


def _disagree(unit: str | None, pbx_hours: str | None, during_hours: bool) -> bool:
    """Whether the dialplan's hours decision differs from the registry's for a known unit."""
    says_open = pbx_says_open(pbx_hours)
    return unit is not None and says_open is not None and says_open != during_hours


def _fill(observed: int | None, other: int | None) -> int | None:
    """An observed figure stays; a missing one is the other witness's."""
    return other if observed is None else observed
