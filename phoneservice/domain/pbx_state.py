"""One PBX's AMI connection as the active worker last saw it (``/readyz``, ``/metrics``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PbxState:
    """One PBX's connection as the worker last wrote it."""

    pbx: str
    connected: bool
    reconnects: int  # logins after the first one, since the writing worker started
    last_event_at: datetime | None  # None: keep the stored one (no event seen yet)
    updated_at: datetime
    worker: str | None = None  # host:pid of the worker that wrote it
    queue_depth: int = 0  # AMI messages received, not handled yet
    dropped: int = 0  # AMI messages dropped (oversized, or the queue full), since it started
