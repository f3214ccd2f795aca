"""Callbacks (SPEC §6): one acknowledgement task per citizen and unit, and its rules.

Pure: every function takes the time it needs as an aware datetime and returns a new
:class:`Callback`; the service stores it. A broken rule raises :class:`CallbackError`
with a message that can be shown to staff as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from phoneservice.domain.calls.records import ANSWERED, CLOSED, CallRecord
from phoneservice.domain.errors import DomainError, require_aware
from phoneservice.domain.hours.calendar import Calendar
from phoneservice.domain.hours.workdays import deadline

OPEN, DONE, UNREACHABLE, CANCELLED = "open", "done", "unreachable", "cancelled"
STATES = (OPEN, DONE, UNREACHABLE, CANCELLED)
CALLER_REACHED_US, CALLED_BACK = "caller_reached_us", "called_back"
# SPEC §13: open longer than ``retention_days``; closed as unreachable by the purge.
EXPIRED = "expired"
RESOLUTIONS = (CALLER_REACHED_US, CALLED_BACK, UNREACHABLE, CANCELLED, EXPIRED)

REACHED, NO_ANSWER, BUSY, VOICEMAIL, WRONG_NUMBER = (
    "reached",
    "no_answer",
    "busy",
    "voicemail",
    "wrong_number",
)
ATTEMPT_OUTCOMES = (REACHED, NO_ANSWER, BUSY, VOICEMAIL, WRONG_NUMBER)
FAILED_OUTCOMES = frozenset({NO_ANSWER, BUSY, VOICEMAIL, WRONG_NUMBER})

# What became of a call placed through the PBX (Attempt.status; None for a manual attempt).
REQUESTED = "requested"  # asked for by staff; the worker has not taken it yet
SENT = "sent"  # the worker took it: the Originate is on its way, or was sent
AGENT_ANSWERED = "agent_answered"  # the agent's phone answered: the citizen's phone rings
RESOLVED = "resolved"  # the PBX told the outcome: it is the attempt's ``outcome``
AGENT_NO_ANSWER = "agent_no_answer"  # the agent's own phone was not answered: not counted
CALL_FAILED = "failed"  # the PBX refused the call, or the action failed: not counted
LOST = "lost"  # no outcome will come (connection lost, or stale): not counted
IN_FLIGHT = (REQUESTED, SENT, AGENT_ANSWERED)
NOT_COUNTED = (AGENT_NO_ANSWER, CALL_FAILED)
ATTEMPT_STATUSES = (REQUESTED, SENT, AGENT_ANSWERED, RESOLVED, AGENT_NO_ANSWER, CALL_FAILED, LOST)

OUTSIDE_HOURS_CALLBACK, OUTSIDE_HOURS_LOG = "callback", "log"
NOTE_LIMIT = 280  # a note is a reminder for colleagues, never case content

# What a newly stored call means for the callback queue.
MISSED = "missed"  # opens a task or joins the open one of its (number, unit)
REACHED_US = "reached_us"  # an answered call: closes the open task of its (number, unit)
WITHHELD = "withheld"  # missed without a callable number: counted, no task
IGNORED = "ignored"  # no unit, or a closed-hours call where such calls are only logged


class CallbackError(DomainError):
    """A callback action that the task's state or the rules do not allow."""


class InvalidTransition(CallbackError):
    """An action on a task in a state that does not allow it (e.g. a closed task)."""


class ClaimConflict(CallbackError):
    """Another member of staff holds the task."""


class CallInFlight(CallbackError):
    """The task already has a placed call without an outcome."""


@dataclass(frozen=True, slots=True)
class CallbackRules:
    """The ``[callbacks]`` settings the rules need, as plain data."""

    outside_hours: str = OUTSIDE_HOURS_CALLBACK
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if self.outside_hours not in (OUTSIDE_HOURS_CALLBACK, OUTSIDE_HOURS_LOG):
            mode = self.outside_hours
            raise CallbackError(f"outside_hours must be 'callback' or 'log', not {mode!r}")
        if self.max_attempts < 1:
            raise CallbackError(f"max_attempts must be at least 1, not {self.max_attempts}")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try to reach the citizen; ``outcome`` is None while a placed call is pending."""

    at: datetime
    by: str
    outcome: str | None
    note: str | None = None
    channel_id: str | None = None
    status: str | None = None
    agent_device: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        require_aware(self.at, "at")
        if self.outcome is not None and self.outcome not in ATTEMPT_OUTCOMES:
            listed = ", ".join(ATTEMPT_OUTCOMES)
            raise CallbackError(f"attempt outcome must be one of {listed}, not {self.outcome!r}")
        if self.status is not None and self.status not in ATTEMPT_STATUSES:
            listed = ", ".join(ATTEMPT_STATUSES)
            raise CallbackError(f"attempt status must be one of {listed}, not {self.status!r}")

    def in_flight(self, now: datetime, lost_after: timedelta) -> bool:
        """A placed call without an outcome that may still ring (younger than ``lost_after``)."""
        require_aware(now, "now")
        return self.outcome is None and self.status in IN_FLIGHT and now - self.at < lost_after

    @property
    def failed(self) -> bool:
        """Whether this attempt did not reach the citizen."""
        return self.outcome in FAILED_OUTCOMES


@dataclass(frozen=True, slots=True)
class Callback:
    """One acknowledgement task for a ``(caller_number, unit)`` pair."""

    unit: str
    caller_number: str | None
    created_at: datetime
    due_at: datetime
    first_call_at: datetime
    state: str = OPEN
    id: int | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    resolution: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    note: str | None = None
    cancel_reason: str | None = None
    overdue_at: datetime | None = None
    number_erased_at: datetime | None = None
    attempts: tuple[Attempt, ...] = ()
    missed_calls: int = 0
    short_abandons: int = 0

    def __post_init__(self) -> None:
        for name in ("created_at", "due_at", "first_call_at"):
            require_aware(getattr(self, name), name)
        if self.state not in STATES:
            raise CallbackError(f"callback state must be one of {', '.join(STATES)}")

    @property
    def is_open(self) -> bool:
        """Whether the task still waits for an acknowledgement."""
        return self.state == OPEN

    @property
    def failed_attempts(self) -> int:
        """How many attempts did not reach the citizen."""
        return sum(attempt.failed for attempt in self.attempts)

    def overdue(self, now: datetime) -> bool:
        """Open and past its deadline."""
        require_aware(now, "now")
        return self.is_open and now > self.due_at

    def on_time(self) -> bool | None:
        """Done at or before ``due_at``; None while the task is open."""
        if self.is_open:
            return None
        return self.state == DONE and self.closed_at is not None and self.closed_at <= self.due_at


def meaning(call: CallRecord, rules: CallbackRules) -> str:
    """What a newly stored call means for callbacks: MISSED, REACHED_US, WITHHELD or IGNORED."""
    if call.unit is None:
        return IGNORED
    if call.outcome == ANSWERED:
        return REACHED_US if call.caller_number else IGNORED
    if call.outcome == CLOSED and rules.outside_hours == OUTSIDE_HOURS_LOG:
        return IGNORED
    return MISSED if call.caller_number else WITHHELD


def answered_at(arrived_at: datetime, wait_s: int | None) -> datetime:
    """When an answered call reached an agent: arrival plus its wait."""
    require_aware(arrived_at, "arrived_at")
    return arrived_at + timedelta(seconds=wait_s or 0)


def open_callback(call: CallRecord, calendar: Calendar, tz: ZoneInfo, now: datetime) -> Callback:
    """A new task for a missed call, due before the end of the next working day."""
    require_aware(now, "now")
    if call.unit is None or not call.caller_number:
        raise CallbackError(f"call {call.uniqueid} has no unit or no callable number")
    return Callback(
        unit=call.unit,
        caller_number=call.caller_number,
        created_at=now,
        due_at=deadline(calendar, call.arrived_at, tz),
        first_call_at=call.arrived_at,
        missed_calls=1,
        short_abandons=int(call.short_abandon),
    )


def join(callback: Callback, call: CallRecord) -> Callback:
    """The task with one more missed call as evidence; ``due_at`` does not move."""
    _require_open(callback, "join a missed call to")
    if (call.caller_number, call.unit) != (callback.caller_number, callback.unit):
        raise CallbackError(f"call {call.uniqueid} is not from this task's number and unit")
    return replace(
        callback,
        missed_calls=callback.missed_calls + 1,
        short_abandons=callback.short_abandons + int(call.short_abandon),
    )


def caller_reached_us(callback: Callback, reached_at: datetime) -> Callback:
    """Closed as done when the citizen got through after the first missed call; else as it was."""
    require_aware(reached_at, "reached_at")
    if not callback.is_open or reached_at <= callback.first_call_at:
        return callback
    return _close(callback, DONE, CALLER_REACHED_US, reached_at, None)


def claim(callback: Callback, user: str, now: datetime, *, force: bool = False) -> Callback:
    """The task held by ``user``; another's claim is refused unless ``force`` (an admin)."""
    _require_open(callback, "claim")
    require_aware(now, "now")
    user = _user(user)
    if callback.claimed_by == user:
        return callback
    if callback.claimed_by is not None and not force:
        raise ClaimConflict(f"callback {callback.id} is claimed by {callback.claimed_by}")
    return replace(callback, claimed_by=user, claimed_at=now)


def release(callback: Callback, user: str) -> Callback:
    """The task free again; only its holder can release it."""
    _require_open(callback, "release")
    if callback.claimed_by is None:
        raise InvalidTransition(f"callback {callback.id} is not claimed")
    _require_holder(callback, _user(user))
    return replace(callback, claimed_by=None, claimed_at=None)


def record_attempt(callback: Callback, attempt: Attempt, max_attempts: int) -> Callback:
    """The task after an attempt: reached → done; wrong number or max failures → unreachable."""
    _require_open(callback, "record an attempt on")
    _require_holder(callback, _user(attempt.by))
    if attempt.outcome is None:
        raise CallbackError("an attempt needs an outcome")
    checked = replace(attempt, note=_note(attempt.note))
    updated = replace(callback, attempts=(*callback.attempts, checked))
    if attempt.outcome == REACHED:
        return _close(updated, DONE, CALLED_BACK, attempt.at, attempt.by)
    if attempt.outcome == WRONG_NUMBER or updated.failed_attempts >= max_attempts:
        return _close(updated, UNREACHABLE, UNREACHABLE, attempt.at, attempt.by)
    return updated


def place_call(
    callback: Callback, attempt: Attempt, now: datetime, lost_after: timedelta
) -> Callback:
    """The task with a placed call requested (claimed by its caller when nobody holds it).

    Refused on a closed task, an erased number, another's claim, or while an earlier
    placed call still has no outcome.
    """
    _require_open(callback, "call the citizen of")
    require_aware(now, "now")
    user = _user(attempt.by)
    _require_holder(callback, user)
    if not callback.caller_number:
        raise CallbackError(f"callback {callback.id} has no number to call")
    if attempt.outcome is not None or attempt.status != REQUESTED or not attempt.channel_id:
        raise CallbackError("a placed call starts as a requested attempt with a channel id")
    if any(earlier.in_flight(now, lost_after) for earlier in callback.attempts):
        raise CallInFlight(f"callback {callback.id} has a call in progress already")
    claimed = claim(callback, user, now)
    return replace(claimed, attempts=(*claimed.attempts, replace(attempt, by=user)))


def resolve_call(
    callback: Callback,
    channel_id: str,
    result: str,
    at: datetime,
    max_attempts: int,
    reason: str | None = None,
) -> Callback:
    """The task after the PBX told what became of a placed call; unchanged when told twice.

    ``reached``, ``no_answer`` and ``busy`` (any attempt outcome) become the attempt's
    outcome with the rules of :func:`record_attempt` (on an open task); ``agent_no_answer``,
    ``failed`` and ``lost`` only set its status: they do not count against the citizen.
    A ``reason`` (why the call was never sent) becomes the attempt's note.
    """
    require_aware(at, "at")
    found = [a for a in callback.attempts if a.channel_id == channel_id]
    if not found:
        raise CallbackError(f"callback {callback.id} placed no call {channel_id!r}")
    pending = found[0]
    if pending.outcome is not None or pending.status not in IN_FLIGHT:
        return callback  # decided already
    if result in ATTEMPT_OUTCOMES:
        decided = replace(pending, outcome=result, status=RESOLVED)
    elif result in (*NOT_COUNTED, LOST):
        decided = replace(pending, status=result, note=_note(reason) or pending.note)
    else:
        raise CallbackError(f"unknown result {result!r} of a placed call")
    attempts = tuple(decided if a is pending else a for a in callback.attempts)
    updated = replace(callback, attempts=attempts)
    if decided.outcome is None or not updated.is_open:
        return updated
    if decided.outcome == REACHED:
        return _close(updated, DONE, CALLED_BACK, at, decided.by)
    if decided.outcome == WRONG_NUMBER or updated.failed_attempts >= max_attempts:
        return _close(updated, UNREACHABLE, UNREACHABLE, at, decided.by)
    return updated


def set_note(callback: Callback, user: str, text: str | None) -> Callback:
    """The task with a new short note (empty clears it); no case content belongs here."""
    _require_open(callback, "add a note to")
    _require_holder(callback, _user(user))
    return replace(callback, note=_note(text))


def cancel(callback: Callback, user: str, reason: str, now: datetime) -> Callback:
    """The task cancelled by staff; a reason is required."""
    _require_open(callback, "cancel")
    require_aware(now, "now")
    user = _user(user)
    _require_holder(callback, user)
    why = _note(reason)
    if why is None:
        raise CallbackError("a cancellation needs a reason")
    cancelled = _close(callback, CANCELLED, CANCELLED, now, user)
    return replace(cancelled, cancel_reason=why)


def mark_overdue(callback: Callback, now: datetime) -> Callback:
    """The task marked overdue once (for alerts); unchanged when not overdue or already marked."""
    if not callback.overdue(now) or callback.overdue_at is not None:
        return callback
    return replace(callback, overdue_at=now)


def _close(
    callback: Callback, state: str, resolution: str, at: datetime, by: str | None
) -> Callback:
    """The task closed; the claim is kept as the record of who worked on it."""
    require_aware(at, "closed_at")
    return replace(callback, state=state, resolution=resolution, closed_at=at, closed_by=by)


def _require_open(callback: Callback, action: str) -> None:
    """Refuse to act on a closed task."""
    if not callback.is_open:
        raise InvalidTransition(f"cannot {action} callback {callback.id}: it is {callback.state}")


def _require_holder(callback: Callback, user: str) -> None:
    """While a task is claimed, only its holder acts on it."""
    if callback.claimed_by is not None and callback.claimed_by != user:
        raise ClaimConflict(f"callback {callback.id} is claimed by {callback.claimed_by}")


def _user(user: str) -> str:
    """A non-empty user name."""
    name = (user or "").strip()
    if not name:
        raise CallbackError("a user is required")
    return name


def _note(text: str | None) -> str | None:
    """A short note, stripped; None when empty; refused beyond NOTE_LIMIT characters."""
    cleaned = (text or "").strip()
    if len(cleaned) > NOTE_LIMIT:
        raise CallbackError(f"a note holds at most {NOTE_LIMIT} characters, not {len(cleaned)}")
    return cleaned or None
