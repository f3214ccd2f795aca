"""The outbox of callback calls one PBX places: what the callback service asked to dial.

A staff member's "call" stores a requested attempt (``CallbackService.place_call``); the
active worker's follower of the first PBX takes each one here, sends its Originate and
records what became of it (docs/callbacks.md).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from phoneservice.domain.callbacks.originate import OriginateRequest
from phoneservice.services.callbacks import CallbackService, OriginateJob


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
        """Requested calls to place now, oldest first."""
        return self.service.due_originates(self.units, self.limit)

    def mark_sent(self, channel_id: str) -> bool:
        """Take one (committed); False when another worker took it."""
        return self.service.mark_sent(channel_id)

    def resolve(self, channel_id: str, outcome: str, at: datetime | None) -> None:
        """Record what became of one."""
        self.service.resolve(channel_id, outcome, at)

    def request(self, job: OriginateJob) -> OriginateRequest:
        """The Originate of a job: the agent's device first, then the citizen."""
        return OriginateRequest(
            job.channel_id,
            job.agent_device,
            job.citizen_number,
            context=self.context,
            caller_id=self.caller_id,
            variables={"CALLBACK_ID": str(job.callback_id)},
        )
