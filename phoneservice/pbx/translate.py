"""The one table from AMI events to the domain's call events (and back, for an Originate).

Every AMI header name the call log, the resync and the originate watch depend on is read
here and nowhere else; what comes out is a frozen event of
:mod:`phoneservice.domain.calls.events`. An event the table does not list (Cdr, CEL,
DeviceStateChange, Dial begins, bridges...) translates to None at the cost of one lookup.

Asterisk 22 forms relied on (tests/data/ami-traces/README.md): ``Timestamp`` is epoch
seconds; ``QUEUESTATUS=TIMEOUT`` after ``QueueCallerAbandon`` is a queue timeout; a
CoreShowChannel's ``Duration`` is ``HH:MM:SS``; the dialing side of a Dial or Queue shows
``(Outgoing Line)`` or an ``AppDial``/``AppQueue`` application.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from phoneservice.domain.callbacks.originate import OriginateRequest
from phoneservice.domain.calls.events import (
    Abandoned,
    CallerIdentified,
    CallEvent,
    Channel,
    ChannelListed,
    Completed,
    Connected,
    DialEnded,
    DialplanEntered,
    HoursDecided,
    HungUp,
    Joined,
    Left,
    ListingEnded,
    OriginateAnswered,
    QueueEntryListed,
    RingUnanswered,
    Rung,
    TimedOut,
)
from phoneservice.pbx.protocol import Wanted

_log = logging.getLogger(__name__)

Headers = Mapping[str, str]
_Make = Callable[["Translator", Headers, datetime | None], CallEvent | None]

_NO_NAME = frozenset(
    {"", "<unknown>", "unknown", "anonymous", "restricted", "private", "unavailable", "withheld"}
)
_OUTGOING_LINE = "(Outgoing Line)"
_TIMEOUT_VARIABLE = "QUEUESTATUS"


def instant(stamp: str | None) -> datetime | None:
    """An AMI ``Timestamp`` (epoch seconds) as an aware UTC instant; None when absent or bad."""
    if stamp is None:
        return None
    try:
        return datetime.fromtimestamp(float(stamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def seconds(value: str | None) -> int | None:
    """A whole number of seconds from an AMI field, or None when absent or not a number."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdecimal() else None


def clock_seconds(value: str | None) -> int | None:
    """Seconds from an ``HH:MM:SS`` duration (CoreShowChannel ``Duration``)."""
    parts = (value or "").strip().split(":")
    if len(parts) != 3 or not all(part.isascii() and part.isdecimal() for part in parts):
        return None
    hours, minutes, secs = (int(part) for part in parts)
    return hours * 3600 + minutes * 60 + secs


def display_name(raw: str | None) -> str | None:
    """A caller name, or None for Asterisk's ``<unknown>`` and the words for a hidden one."""
    text = (raw or "").strip()
    return None if text.casefold() in _NO_NAME else text


def channel_of(headers: Headers) -> Channel:
    """The channel fields every channel event carries."""
    return Channel(
        uniqueid=headers.get("Uniqueid", ""),
        linkedid=headers.get("Linkedid", ""),
        context=headers.get("Context", ""),
        exten=headers.get("Exten", ""),
        caller_number=headers.get("CallerIDNum"),
        caller_name=display_name(headers.get("CallerIDName")),
        withheld="Prohibited" in headers.get("CID-CallingPres", ""),
    )


def _dialing(headers: Headers) -> bool:
    """Whether a channel shows the dialing side of a Dial or Queue, not dialplan it runs."""
    data = headers.get("AppData", headers.get("ApplicationData", ""))
    return data == _OUTGOING_LINE or headers.get("Application", "").startswith(
        ("AppDial", "AppQueue")
    )


def _agent(headers: Headers) -> str | None:
    """The agent of an Agent* event: the member name, else the member interface."""
    return headers.get("MemberName") or headers.get("Interface") or None


class Translator:
    """AMI events in, domain call events out; ``hours_variable`` is the registry's."""

    def __init__(self, hours_variable: str | None = None) -> None:
        """Take the dialplan variable that holds the phone-hours decision (if any)."""
        self.hours_variable = hours_variable.lstrip("_") if hours_variable else None
        self.rejected = 0
        self.stamped = False  # whether the latest message stated its instant
        self._stamp: str | None = None  # the latest Timestamp seen, read only when asked

    def __call__(self, headers: Headers) -> CallEvent | None:
        """The domain event of one AMI message; None for one that tells a call nothing.

        Every message's ``Timestamp`` is remembered (unread: most messages are dropped),
        so :meth:`last_instant` tells how far the stream has been read.
        """
        stamp = headers.get("Timestamp")
        self.stamped = stamp is not None
        if stamp is not None:
            self._stamp = stamp
        make = TABLE.get(headers.get("Event", ""))
        if make is None:
            return None
        try:
            return make(self, headers, instant(stamp))
        except (AttributeError, TypeError, ValueError) as exc:
            self.rejected += 1
            _log.warning("skipped a malformed AMI event %r: %s", headers.get("Event"), exc)
            return None

    def last_instant(self) -> datetime | None:
        """The instant of the latest message that stated one."""
        return instant(self._stamp)

    def var_set(self, headers: Headers, at: datetime | None) -> CallEvent | None:
        """VarSet: the dialplan's hours decision, or a queue's timeout; else nothing."""
        name = headers.get("Variable", "").lstrip("_")
        if self.hours_variable and name == self.hours_variable:
            return HoursDecided(at, channel_of(headers), headers.get("Value") or None)
        if name == _TIMEOUT_VARIABLE and headers.get("Value") == "TIMEOUT":
            return TimedOut(at, channel_of(headers))
        return None


def _queue(headers: Headers) -> str:
    """The queue a Queue*/Agent* event names."""
    return headers.get("Queue", "")


def _listed_queue(headers: Headers) -> str:
    """The queue a listed channel is in: ``Queue(name,...)``'s first argument."""
    if headers.get("Application") != "Queue":
        return ""
    return headers.get("ApplicationData", "").split(",")[0].strip()


TABLE: Mapping[str, _Make] = {
    "Newexten": lambda t, h, at: DialplanEntered(at, channel_of(h), _dialing(h)),
    "VarSet": Translator.var_set,
    "NewCallerid": lambda t, h, at: CallerIdentified(at, channel_of(h)),
    "QueueCallerJoin": lambda t, h, at: Joined(at, channel_of(h), _queue(h)),
    "AgentCalled": lambda t, h, at: Rung(at, channel_of(h), _queue(h)),
    "AgentRingNoAnswer": lambda t, h, at: RingUnanswered(at, channel_of(h), _queue(h)),
    "QueueCallerAbandon": lambda t, h, at: Abandoned(
        at, channel_of(h), _queue(h), seconds(h.get("HoldTime"))
    ),
    "QueueCallerLeave": lambda t, h, at: Left(at, channel_of(h), _queue(h)),
    "AgentConnect": lambda t, h, at: Connected(
        at, channel_of(h), _queue(h), seconds(h.get("HoldTime")), _agent(h)
    ),
    "AgentComplete": lambda t, h, at: Completed(
        at,
        channel_of(h),
        _queue(h),
        seconds(h.get("HoldTime")),
        seconds(h.get("TalkTime")),
        _agent(h),
    ),
    "Hangup": lambda t, h, at: HungUp(at, channel_of(h)),
    "CoreShowChannel": lambda t, h, at: ChannelListed(
        at,
        channel_of(h),
        clock_seconds(h.get("Duration")) or 0,
        _listed_queue(h),
        bool(h.get("BridgeId")),
        _dialing(h),
    ),
    "QueueEntry": lambda t, h, at: QueueEntryListed(
        at, channel_of(h), _queue(h), seconds(h.get("Wait"))
    ),
    "CoreShowChannelsComplete": lambda t, h, at: ListingEnded(at, Channel("")),
    "QueueStatusComplete": lambda t, h, at: ListingEnded(at, Channel(""), of_queues=True),
    "OriginateResponse": lambda t, h, at: OriginateAnswered(
        at,
        Channel(h.get("Uniqueid", "")),
        h.get("ActionID", ""),
        h.get("Response") == "Success",
        h.get("Reason", ""),
    ),
    "DialEnd": lambda t, h, at: DialEnded(
        at, channel_of(h), h.get("DialStatus", ""), bool(h.get("Channel"))
    ),
}


def originate_fields(request: OriginateRequest) -> list[tuple[str, str]]:
    """The AMI Originate headers of a callback attempt: the agent's device first, then the
    citizen through the ``[callback]`` dialplan, asynchronously, with fixed channel ids."""
    pairs = [
        ("Channel", request.agent_device),
        ("Context", request.context),
        ("Exten", request.citizen_number),
        ("Priority", "1"),
        ("CallerID", request.caller_id or f"Tilbagekald <{request.citizen_number}>"),
        ("Timeout", str(request.timeout_s * 1000)),
        ("Async", "true"),
        ("ChannelId", request.channel_id),
        ("OtherChannelId", f"{request.channel_id}-2"),
    ]
    return pairs + [("Variable", f"{k}={v}") for k, v in request.variables.items()]


def wanted(hours_variable: str | None) -> Wanted:
    """The AMI events the call log, the resync and the originate watch read, for a framer
    to drop the rest unparsed (Cdr, CEL, DeviceStateChange, RTCP...): of ``VarSet``, only
    the queue's status and the dialplan's hours decision."""
    keep: dict[str, tuple[str, ...]] = dict.fromkeys(TABLE, ())
    keep["VarSet"] = (f"Variable: {_TIMEOUT_VARIABLE}",)
    if hours_variable and hours_variable.lstrip("_"):
        keep["VarSet"] += (hours_variable.lstrip("_"),)
    return keep
