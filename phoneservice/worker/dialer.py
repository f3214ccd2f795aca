"""The outbox of callback calls one PBX places: what the callback service asked to dial.

A staff member's "call" stores a requested attempt (``CallbackService.place_call``); the
active worker's follower of the first PBX takes each one here, sends its Originate and
records what became of it (docs/callbacks.md).

The device was checked when the call was asked for; it is checked again against the
registry's ``[pbx] agent_device_pattern`` here, right before it would go to the PBX. A call
whose device fails is never sent: the attempt is marked failed, with the reason as its note.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from phoneservice.domain.callbacks.originate import (
    DEVICE_REFUSED,
    FAILED,
    DeviceRefused,
    OriginateRequest,
    check_device,
)
from phoneservice.services.callbacks import CallbackService, OriginateJob

_log = logging.getLogger(__name__)
NOT_SENT = f"not sent: {DEVICE_REFUSED}"  # the refused attempt's note


class OriginateOutbox:
    """The placed calls of one PBX's units, kept by the callback service (docs/callbacks.md)."""

    def __init__(
        self,
        service: CallbackService,
        units: Collection[str] | None = None,
        *,
        context: str = "callback",
        caller_id: str = "",
        limit: int = 20,
    ) -> None:
        self.service, self.units, self.limit = service, units, limit
        self.context, self.caller_id = context, caller_id

    def due(self) -> list[OriginateJob]:
        """Requested calls to place now, oldest first; one whose device fails is refused."""
        return [
            job for job in self.service.due_originates(self.units, self.limit) if self.allowed(job)
        ]

    def allowed(self, job: OriginateJob) -> bool:
        """Whether the job's device matches the pattern now; if not, its attempt fails."""
        try:
            check_device(job.agent_device, self.service.device_pattern)
        except DeviceRefused:
            _log.warning(
                "callback %s: call %s not sent: %s", job.callback_id, job.channel_id, DEVICE_REFUSED
            )
            if self.service.mark_sent(job.channel_id):
                self.service.resolve(job.channel_id, FAILED, None, NOT_SENT)
            return False
        return True

    def sent(self) -> list[str]:
        """ChannelIds sent to this PBX (by this worker or one before it) still undecided."""
        return self.service.sent_calls(self.units)

    def mark_sent(self, channel_id: str) -> bool:
        """Take one (committed); False when another worker took it."""
        return self.service.mark_sent(channel_id)

    def agent_answered(self, channel_id: str) -> None:
        """Record that the agent answered one: the citizen's phone rings."""
        self.service.agent_answered(channel_id)

    def resolve(self, channel_id: str, outcome: str, at: datetime | None) -> None:
        """Record what became of one."""
        self.service.resolve(channel_id, outcome, at)

    def request(self, job: OriginateJob) -> OriginateRequest:
        """The Originate of a job: the agent's device first (checked again), then the citizen."""
        return OriginateRequest(
            job.channel_id,
            check_device(job.agent_device, self.service.device_pattern),
            job.citizen_number,
            context=self.context,
            caller_id=self.caller_id,
            variables={"CALLBACK_ID": str(job.callback_id)},
        )
