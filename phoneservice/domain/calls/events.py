"""The domain's call events: what a witness (the AMI stream, queue_log) saw happen to a call.

One vocabulary for every witness (SPEC §5.2 as amended in §13): :mod:`phoneservice.pbx.translate`
turns AMI events into these, :mod:`phoneservice.pbx.queue_log` turns queue_log lines into
the same ones, and the tracker, the queue_log rebuild and the originate watch consume
them. No PBX header name or line format reaches the domain.

``at`` is the PBX's own instant of the event when it stated one (AMI ``Timestamp``,
queue_log's epoch), else None; ``wait_s`` and ``talk_s`` are the PBX's own figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Channel:
    """The channel an event is about, as the PBX described it in that event."""

    uniqueid: str
    linkedid: str = ""
    context: str = ""
    exten: str = ""
    caller_number: str | None = None  # as received; the record reads its E.164 form
    caller_name: str | None = None  # None when the PBX had none ("<unknown>")
    withheld: bool = False  # the caller asked for the number not to be shown


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Something a witness saw happen to one channel of a call."""

    at: datetime | None
    channel: Channel


@dataclass(frozen=True, slots=True)
class DialplanEntered(CallEvent):
    """The channel runs dialplan; ``dialing`` when it is the dialing side of a Dial/Queue."""

    dialing: bool = False


@dataclass(frozen=True, slots=True)
class CallerIdentified(CallEvent):
    """The channel's caller ID was set, changed or withheld."""


@dataclass(frozen=True, slots=True)
class HoursDecided(CallEvent):
    """The dialplan decided the phone hours (its hours variable) as ``value``."""

    value: str | None = None


@dataclass(frozen=True, slots=True)
class QueueEvent(CallEvent):
    """Something that happened to the caller in one queue (``queue`` empty: the latest)."""

    queue: str = ""


@dataclass(frozen=True, slots=True)
class Joined(QueueEvent):
    """The caller entered the queue."""


@dataclass(frozen=True, slots=True)
class Rung(QueueEvent):
    """An agent was rung for the caller (one ring attempt)."""


@dataclass(frozen=True, slots=True)
class RingUnanswered(QueueEvent):
    """A rung agent did not pick up within the queue's ring timeout."""


@dataclass(frozen=True, slots=True)
class Abandoned(QueueEvent):
    """The caller hung up while queued, after ``wait_s`` seconds in the queue."""

    wait_s: int | None = None


@dataclass(frozen=True, slots=True)
class TimedOut(QueueEvent):
    """The queue gave up on the caller (its maximum wait), after ``wait_s`` when known."""

    wait_s: int | None = None


@dataclass(frozen=True, slots=True)
class LeftUnanswered(QueueEvent):
    """The caller left the queue unanswered by the queue's rule (empty queue, a key)."""

    wait_s: int | None = None


@dataclass(frozen=True, slots=True)
class Left(QueueEvent):
    """The caller left the queue; what follows (a connect, a hang-up) tells why."""


@dataclass(frozen=True, slots=True)
class Connected(QueueEvent):
    """An agent answered after ``wait_s`` seconds in the queue."""

    wait_s: int | None = None
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class Completed(QueueEvent):
    """The talk with the agent ended (hang-up or transfer) after ``talk_s`` seconds."""

    wait_s: int | None = None
    talk_s: int | None = None
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class HungUp(CallEvent):
    """The channel hung up."""


@dataclass(frozen=True, slots=True)
class ChannelListed(CallEvent):
    """A resync snapshot: the channel is live, ``age_s`` old when the listing was made.

    ``queue`` names the queue it waits or talks in (empty when not in ``Queue()``),
    ``bridged`` that it is bridged to another channel (an agent answered).
    """

    age_s: int = 0
    queue: str = ""
    bridged: bool = False
    dialing: bool = False


@dataclass(frozen=True, slots=True)
class QueueEntryListed(CallEvent):
    """A resync snapshot: the caller waits in ``queue``, for ``wait_s`` seconds so far."""

    queue: str = ""
    wait_s: int | None = None


@dataclass(frozen=True, slots=True)
class ListingEnded(CallEvent):
    """A resync listing is complete: of the live channels, or of the queues' callers."""

    of_queues: bool = False


@dataclass(frozen=True, slots=True)
class OriginateAnswered(CallEvent):
    """The answer to one of our Originates: ``success`` when the agent's device answered.

    ``action_id`` ties it to the request; ``reason`` is the PBX's failure code.
    """

    action_id: str = ""
    success: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DialEnded(CallEvent):
    """A dial ended with ``status`` (answered, no answer, busy...).

    ``outbound`` when a dialplan channel dialled out (a callback's citizen leg), not the
    PBX dialling a device for an Originate.
    """

    status: str = ""
    outbound: bool = False
