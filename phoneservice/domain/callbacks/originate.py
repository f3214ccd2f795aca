"""Placing a callback call through the PBX: the Originate action, and what became of it.

The agent's own device rings first; when the agent answers, the dialplan dials the
citizen. The answer to the Originate (:class:`OriginateAnswered`) tells whether the agent
answered; the citizen's dial end (:class:`DialEnded`, on the same linkedid, which is the
originated channel's uniqueid) tells whether the citizen did. Every attempt has a fixed
``ChannelId``, so an attempt can never ring a citizen twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from phoneservice.domain.callbacks.rules import AGENT_ANSWERED, CallbackError
from phoneservice.domain.calls.events import CallEvent, DialEnded, HungUp, OriginateAnswered
from phoneservice.domain.errors import DomainError

REACHED = "reached"
NO_ANSWER = "no_answer"
BUSY = "busy"
AGENT_NO_ANSWER = "agent_no_answer"
FAILED = "failed"
# The citizen's leg's dial status (Asterisk's DIALSTATUS words) → the attempt's outcome
_DIAL_STATUS = {
    "ANSWER": REACHED,
    "NOANSWER": NO_ANSWER,
    "BUSY": BUSY,
    "CONGESTION": FAILED,
    "CHANUNAVAIL": FAILED,
    "CANCEL": NO_ANSWER,
}
_ORIGINATE_FAILURE = {"3": AGENT_NO_ANSWER, "5": AGENT_NO_ANSWER, "8": FAILED, "1": FAILED}
# Where the shipped ``[callback]`` dialplan keeps each attempt's DIALSTATUS (AstDB, by ChannelId).
OUTCOME_FAMILY = "phoneservice_callback"
# The registry's ``[pbx] agent_device_pattern`` when it has none: an agent's own SIP phone.
DEFAULT_DEVICE_PATTERN = r"(PJSIP|SIP)/[A-Za-z0-9_.-]{1,40}"
# Whatever the pattern allows, a device is one AMI header value: printable ASCII, no spaces.
_ONE_WORD = re.compile(r"[!-~]{1,100}", re.ASCII)
DEVICE_REFUSED = "the agent device does not match [pbx] agent_device_pattern"


class DeviceRefused(CallbackError):
    """An agent device the registry's pattern does not allow (the message never names it)."""


def check_device(device: str | None, pattern: re.Pattern[str]) -> str:
    """``device`` when it matches ``pattern`` in full; :class:`DeviceRefused` otherwise."""
    if device is None or not _ONE_WORD.fullmatch(device) or not pattern.fullmatch(device):
        raise DeviceRefused(DEVICE_REFUSED)
    return device


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """One attempt to call a citizen back, from an agent's device."""

    channel_id: str
    agent_device: str
    citizen_number: str = field(repr=False)  # never in a log line (SPEC §11)
    context: str = "callback"
    caller_id: str = ""
    timeout_s: int = 15
    variables: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.channel_id or not self.agent_device or not self.citizen_number:
            raise DomainError("an originate needs a channel id, an agent device and a number")
        if not _ONE_WORD.fullmatch(self.agent_device):
            raise DeviceRefused("an agent device is one word of printable ASCII")


@dataclass(frozen=True, slots=True)
class OriginateResult:
    """What became of one attempt, or (``AGENT_ANSWERED``) how far it got: the agent
    answered and the citizen's phone rings; the attempt is still watched."""

    action_id: str
    channel_id: str | None
    outcome: str
    uniqueid: str | None
    at: datetime | None

    @property
    def final(self) -> bool:
        """Whether this decides the attempt (anything but the agent answering)."""
        return self.outcome != AGENT_ANSWERED


@dataclass
class _Pending:
    """An attempt on its way: its ids, and the originated channel once known."""

    action_id: str
    channel_id: str | None
    uniqueid: str | None = None


def stored_outcome(dial_status: str) -> str:
    """The outcome of the DIALSTATUS the dialplan stored: empty when the citizen was never
    dialled (the agent hung up first), as a live ``Hangup`` before any ``DialEnd`` says."""
    status = dial_status.strip().upper()
    return _DIAL_STATUS.get(status, FAILED) if status else NO_ANSWER


class OriginateWatch:
    """Follows our own originates through the event stream; other clients' are ignored."""

    def __init__(self) -> None:
        self._by_action: dict[str, _Pending] = {}
        self._by_uniqueid: dict[str, _Pending] = {}

    def expect(self, action_id: str, channel_id: str | None = None) -> None:
        """Watch for the answers to an Originate sent with ``action_id``."""
        self._by_action[action_id] = _Pending(action_id, channel_id)

    def follow(self, channel_id: str) -> None:
        """Watch a call still up after a reconnect: its originated channel's Uniqueid is
        ``channel_id``, so the citizen's ``DialEnd`` (or the agent's ``Hangup``) decides."""
        self._by_uniqueid[channel_id] = _Pending("", channel_id, channel_id)

    def pending(self) -> int:
        """How many attempts have no outcome yet."""
        return len(self._by_action) + len(self._by_uniqueid)

    def feed(self, event: CallEvent | None) -> OriginateResult | None:
        """One event; the result of an attempt when this event decided it."""
        if isinstance(event, OriginateAnswered):
            return self._on_answer(event)
        if isinstance(event, DialEnded):
            return self._on_dial_end(event)
        if isinstance(event, HungUp):
            return self._on_hangup(event)
        return None

    def _on_answer(self, event: OriginateAnswered) -> OriginateResult | None:
        """Success: the agent answered, the citizen is being dialled (a step, not the end).
        Failure: decided."""
        pending = self._by_action.pop(event.action_id, None)
        if pending is None:
            return None  # another client's originate
        if not event.success:
            return _result(pending, _ORIGINATE_FAILURE.get(event.reason, FAILED), event)
        pending.uniqueid = event.channel.uniqueid or pending.channel_id
        if pending.uniqueid:
            self._by_uniqueid[pending.uniqueid] = pending
        return _result(pending, AGENT_ANSWERED, event)

    def _on_dial_end(self, event: DialEnded) -> OriginateResult | None:
        """The citizen's leg ended ringing: answered, no answer, busy..."""
        if not event.outbound:
            return None  # the originate dialling the agent's own device
        pending = self._by_uniqueid.pop(event.channel.linkedid, None)
        if pending is None:
            return None
        return _result(pending, _DIAL_STATUS.get(event.status, FAILED), event)

    def _on_hangup(self, event: HungUp) -> OriginateResult | None:
        """The agent's leg hung up before the citizen was dialled at all."""
        pending = self._by_uniqueid.pop(event.channel.uniqueid, None)
        return None if pending is None else _result(pending, NO_ANSWER, event)


def _result(pending: _Pending, outcome: str, event: CallEvent) -> OriginateResult:
    """An attempt's result at the event that decided it."""
    return OriginateResult(
        pending.action_id, pending.channel_id, outcome, pending.uniqueid, event.at
    )
