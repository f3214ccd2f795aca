"""``phoneservice ingest``: recorded AMI streams and queue_log files, logged as live.

Reading a recording's bytes is the AMI transport's business: the composition root hands
in a :class:`Recordings` (``phoneservice.pbx.recorded``, and the one queue_log reader,
``phoneservice.pbx.queue_log``), so this use case knows no PBX.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from phoneservice.domain.calls.events import QueueEvent
from phoneservice.services.calllog import CallLog
from phoneservice.services.clock import system_clock

Batches = Iterable[list[dict[str, str]]]


class IngestError(ValueError):
    """A file that cannot be ingested; the message names it."""


@dataclass(frozen=True, slots=True)
class Recordings:
    """How recorded AMI streams are told apart and read (either may raise ValueError),
    and how queue_log lines are read (into call events, and a count of unreadable lines)."""

    is_recording: Callable[[Path], bool]
    messages: Callable[[Path], Batches]
    queue_log: Callable[[Iterable[str]], tuple[list[QueueEvent], int]]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest run read and stored."""

    files: int
    messages: int
    added: int


def _is_recording(path: Path, reader: Recordings) -> bool:
    """Whether a file is a recorded AMI stream; a file that cannot be read is named."""
    try:
        return reader.is_recording(path)
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read: {exc.strerror}") from exc


def split_inputs(paths: Sequence[Path], reader: Recordings) -> tuple[list[Path], list[Path]]:
    """Recordings and queue_log files, each in the order given."""
    recordings = [path for path in paths if _is_recording(path, reader)]
    return recordings, [path for path in paths if path not in recordings]


def ingest(
    call_log: CallLog,
    recordings: Sequence[Path],
    queue_logs: Sequence[Path],
    reader: Recordings,
) -> IngestReport:
    """Log recordings through the live path; queue_log alone is logged as it stands."""
    messages = sum(_replay(call_log, path, reader) for path in recordings)
    if recordings:
        call_log.finish(call_log.last_seen or system_clock())
    else:
        messages += _queue_log_only(call_log, queue_logs, reader)
    call_log.flush(final=True)
    return IngestReport(len(recordings) + len(queue_logs), messages, call_log.stored)


def _replay(call_log: CallLog, path: Path, reader: Recordings) -> int:
    """Feed one recording; its end is a dropped connection, as it was for the recorder."""
    count = 0
    for batch in _messages(path, reader):
        for headers in batch:
            call_log.message(headers)
        count += len(batch)
        if call_log.due():
            call_log.flush()
    call_log.disconnected(call_log.last_seen or system_clock())
    return count


def _messages(path: Path, reader: Recordings) -> Batches:
    """The messages of a recording; one that does not read as such is named."""
    try:
        yield from reader.messages(path)
    except ValueError as exc:
        raise IngestError(f"{path}: {exc}") from exc


def _queue_log_only(call_log: CallLog, paths: Sequence[Path], reader: Recordings) -> int:
    """Store every finished call of queue_log files (source ``queue_log``)."""
    entries: list[QueueEvent] = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            found, _bad = reader.queue_log(lines)
            entries += found
    records, _pending = call_log.rebuild.calls(entries)
    call_log.pending += records
    return len(entries)
