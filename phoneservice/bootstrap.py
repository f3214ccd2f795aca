"""The composition root: every collaborator is built and wired here, and only here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from phoneservice.domain.calls.queuelog import QueueLogCalls, QueueLogEntry, parse_queue_log
from phoneservice.domain.calls.tracker import CallTracker
from phoneservice.domain.hours.status import Override, status
from phoneservice.registry import Registry
from phoneservice.registry.holder import RegistryHolder, current
from phoneservice.services.calllog import CallLog, QueueLogReader, Store

Overrides = Callable[[], Sequence[Override]]
# A holder: units and hours are looked up in the registry in use at each call, so a hot
# reload applies to the next call. Its [pbx] settings and short_abandon_seconds are read
# when the tracker is built: they change with a worker restart (docs/worker.md).
Source = Registry | RegistryHolder


def _no_overrides() -> Sequence[Override]:
    """The override source when none is stored yet."""
    return ()


def is_open_function(
    registry: Source, overrides: Overrides = _no_overrides
) -> Callable[[str, datetime], bool]:
    """The registry's answer to "was this unit in phone hours at this instant?"."""

    def is_open(unit_id: str, at: datetime) -> bool:
        unit = current(registry).units.get(unit_id)
        if unit is None:
            return False
        active = [o for o in overrides() if o.unit == unit_id]
        return status(unit.schedule, at, active).open

    return is_open


def _unit_id(found: object) -> str | None:
    """The id of a unit found in the registry, or None."""
    return getattr(found, "id", None)


def build_tracker(registry: Source, pbx: str, overrides: Overrides = _no_overrides) -> CallTracker:
    """A call tracker for one PBX, asking the registry for units and phone hours."""
    settings = current(registry)
    return CallTracker(
        pbx=pbx,
        unit_for_queue=lambda queue: _unit_id(current(registry).unit_for_queue(queue)),
        unit_for_did=lambda did: _unit_id(current(registry).unit_for_did(did)),
        is_open=is_open_function(registry, overrides),
        inbound_contexts=frozenset(settings.pbx.inbound_contexts),
        hours_variable=settings.pbx.hours_variable,
        short_abandon_seconds=settings.callbacks.short_abandon_seconds,
    )


def build_queue_log_calls(
    registry: Source, pbx: str, overrides: Overrides = _no_overrides
) -> QueueLogCalls:
    """Rebuilds calls from queue_log for one PBX."""
    return QueueLogCalls(
        pbx=pbx,
        unit_for_queue=lambda queue: _unit_id(current(registry).unit_for_queue(queue)),
        is_open=is_open_function(registry, overrides),
        short_abandon_seconds=current(registry).callbacks.short_abandon_seconds,
    )


def queue_log_file(paths: Iterable[Path]) -> QueueLogReader:
    """A reader over queue_log files, read afresh each time it is asked."""

    def read() -> list[QueueLogEntry]:
        entries: list[QueueLogEntry] = []
        for path in paths:
            with path.open(encoding="utf-8", errors="replace") as lines:
                entries += parse_queue_log(lines)[0]
        return entries

    return read


def build_call_log(
    registry: Source,
    pbx: str,
    store: Store,
    *,
    queue_log: QueueLogReader | None = None,
    since: datetime | None = None,
    overrides: Overrides = _no_overrides,
) -> CallLog:
    """The call-log pipeline for one PBX."""
    return CallLog(
        build_tracker(registry, pbx, overrides),
        build_queue_log_calls(registry, pbx, overrides),
        store,
        queue_log,
        since,
    )


def restart_settings(registry: Registry) -> tuple[object, ...]:
    """What a running call log took from the registry when it was built (see ``Source``)."""
    return (registry.pbx, registry.callbacks.short_abandon_seconds)
