"""``phoneservice ingest``: recorded AMI streams and queue_log files, logged as live."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from phoneservice.domain.calls.queuelog import parse_queue_log
from phoneservice.pbx.protocol import BANNER_PREFIX, parse_banner, parse_dicts
from phoneservice.services.calllog import CallLog

BANNER = BANNER_PREFIX.encode()
READ_SIZE = 1 << 20


class IngestError(ValueError):
    """A file that cannot be ingested; the message names it."""


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest run read and stored."""

    files: int
    messages: int
    added: int


def is_recording(path: Path) -> bool:
    """Whether a file is a recorded AMI stream (it starts with the AMI banner)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(BANNER)) == BANNER
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read: {exc.strerror}") from exc


def split_inputs(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """Recordings and queue_log files, each in the order given."""
    recordings = [path for path in paths if is_recording(path)]
    return recordings, [path for path in paths if path not in recordings]


def ingest(
    call_log: CallLog, recordings: Sequence[Path], queue_logs: Sequence[Path]
) -> IngestReport:
    """Log recordings through the live path; queue_log alone is logged as it stands."""
    messages = sum(_replay(call_log, path) for path in recordings)
    if recordings:
        call_log.finish(call_log.last_seen or datetime.now(UTC))
    else:
        messages += _queue_log_only(call_log, queue_logs)
    call_log.flush(final=True)
    return IngestReport(len(recordings) + len(queue_logs), messages, call_log.stored)


def _replay(call_log: CallLog, path: Path) -> int:
    """Feed one recording; its end is a dropped connection, as it was for the recorder."""
    count = 0
    for batch in _messages(path):
        for headers in batch:
            call_log.message(headers)
        count += len(batch)
        if call_log.due():
            call_log.flush()
    call_log.disconnected(call_log.last_seen or datetime.now(UTC))
    return count


def _messages(path: Path) -> Iterator[list[dict[str, str]]]:
    """The messages of a recording, a read at a time (a torn last message is left out)."""
    with path.open("rb") as handle:
        banner, buffer = parse_banner(handle.read(READ_SIZE))
        if banner is None or not banner.startswith(BANNER_PREFIX):
            raise IngestError(f"{path}: not an AMI recording (no banner)")
        while True:
            messages, buffer = parse_dicts(buffer)
            yield messages
            chunk = handle.read(READ_SIZE)
            if not chunk:
                return
            buffer += chunk


def _queue_log_only(call_log: CallLog, paths: Sequence[Path]) -> int:
    """Store every finished call of queue_log files (source ``queue_log``)."""
    entries = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            found, _bad = parse_queue_log(lines)
            entries += found
    records, _pending = call_log.rebuild.calls(entries)
    call_log.pending += records
    return len(entries)
