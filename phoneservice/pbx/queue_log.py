"""The one reader of Asterisk's queue_log: its lines as the domain's call events.

Lines are ``epoch|callid|queue|agent|event|data...``; the data fields by event (Asterisk
22 ``app_queue``):

===================  ==============================================  ===================
line                 data                                            event
===================  ==============================================  ===================
ENTERQUEUE           url|callerid|position                           Joined
RINGNOANSWER         ringtime                                        RingUnanswered
RINGCANCELED         ringtime                                        Rung
CONNECT              holdtime|bridged uniqueid|ringtime              Connected
COMPLETEAGENT/-CALLER  holdtime|calltime|origposition                Completed
(BLIND|ATTENDED)TRANSFER  extension|context|holdtime|calltime|...   Completed
ABANDON              position|origposition|waittime                  Abandoned
EXITWITHTIMEOUT      position|origposition|waittime                  TimedOut
EXITEMPTY            position|origposition|waittime                  LeftUnanswered
EXITWITHKEY          key|position|origposition|waittime              LeftUnanswered
===================  ==============================================  ===================

Other lines (agent logins, pauses, ``NONE`` callids) tell a call nothing and are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from phoneservice.domain.calls.events import (
    Abandoned,
    Channel,
    Completed,
    Connected,
    Joined,
    LeftUnanswered,
    QueueEvent,
    RingUnanswered,
    Rung,
    TimedOut,
)

KEEP = timedelta(hours=26)  # how much queue_log a tail keeps: a day and the check's margin
_NEWEST_AMONG = 64  # the newest instant is looked for among the last lines read
_EPOCH_DIGITS = 11  # beyond year 5000: not a PBX clock
_Make = Callable[[datetime, Channel, str, str, list[str]], QueueEvent]


def _field(data: list[str], index: int) -> int | None:
    """A data field as a whole number, or None."""
    text = data[index].strip() if len(data) > index else ""
    return int(text) if text.isascii() and text.isdecimal() else None


def _text(data: list[str], index: int) -> str | None:
    """A data field as text, or None when absent or empty."""
    return data[index] if len(data) > index and data[index] else None


TABLE: Mapping[str, _Make] = {
    "RINGNOANSWER": lambda at, ch, queue, agent, data: RingUnanswered(at, ch, queue),
    "RINGCANCELED": lambda at, ch, queue, agent, data: Rung(at, ch, queue),
    "CONNECT": lambda at, ch, queue, agent, data: Connected(
        at, ch, queue, _field(data, 0), agent or None
    ),
    **{
        name: lambda at, ch, queue, agent, data: Completed(
            at, ch, queue, _field(data, 0), _field(data, 1), agent or None
        )
        for name in ("COMPLETEAGENT", "COMPLETECALLER")
    },
    **{
        name: lambda at, ch, queue, agent, data: Completed(
            at, ch, queue, _field(data, 2), _field(data, 3), agent or None
        )
        for name in ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER")
    },
    "ABANDON": lambda at, ch, queue, agent, data: Abandoned(at, ch, queue, _field(data, 2)),
    "EXITWITHTIMEOUT": lambda at, ch, queue, agent, data: TimedOut(at, ch, queue, _field(data, 2)),
    "EXITEMPTY": lambda at, ch, queue, agent, data: LeftUnanswered(at, ch, queue, _field(data, 2)),
    "EXITWITHKEY": lambda at, ch, queue, agent, data: LeftUnanswered(
        at, ch, queue, _field(data, 3)
    ),
}


def parse_line(line: str) -> QueueEvent | None:
    """One line's event, or None when it is not a queue_log line about a call."""
    if not is_line(line):
        return None
    epoch, callid, queue, agent, name, *data = line.rstrip("\r\n").split("|")
    if not callid or callid == "NONE":
        return None
    at = datetime.fromtimestamp(int(epoch), UTC)
    if name == "ENTERQUEUE":
        return Joined(at, Channel(callid, callid, caller_number=_text(data, 1)), queue)
    make = TABLE.get(name)
    return None if make is None else make(at, Channel(callid, callid), queue, agent, data)


def is_line(line: str) -> bool:
    """Whether text has the shape of a queue_log line (``epoch|callid|queue|agent|event``)."""
    parts = line.split("|", 5)
    epoch = parts[0]
    return len(parts) >= 5 and epoch.isascii() and epoch.isdigit() and len(epoch) <= _EPOCH_DIGITS


def parse_queue_log(lines: Iterable[str]) -> tuple[list[QueueEvent], int]:
    """The call events of queue_log text, and how many lines could not be read."""
    events, bad = [], 0
    for line in lines:
        event = parse_line(line)
        if event is not None:
            events.append(event)
        elif line.strip() and not is_line(line):
            bad += 1
    return events, bad


class QueueLogTail:
    """queue_log files read as they grow: each call reads only the bytes appended since.

    The events of the last ``keep`` (of the PBX's clock) are kept in memory; a file that
    was replaced (rotation: another inode) or shrank (``copytruncate``) is read from its
    start again. A line still being written (no newline yet) waits for the next call.
    """

    def __init__(self, paths: Iterable[Path], keep: timedelta = KEEP) -> None:
        """Follow ``paths``; nothing is read until the first call."""
        self.paths, self.keep = tuple(paths), keep
        self._cursors: dict[Path, _Cursor] = {}
        self._events: list[QueueEvent] = []
        self.bad = 0  # lines that could not be read so far

    def __call__(self) -> list[QueueEvent]:
        """Every kept event, in file order, after reading what was appended."""
        for path in self.paths:
            self._events += self._read(path)
        if self._events:
            newest = max(e.at for e in self._events[-_NEWEST_AMONG:] if e.at is not None)
            since = newest - self.keep
            if self._events[0].at is not None and self._events[0].at < since:
                self._events = [e for e in self._events if e.at is None or e.at >= since]
        return list(self._events)

    def _read(self, path: Path) -> list[QueueEvent]:
        """The events of the complete lines appended to ``path`` since the last read."""
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            cursor = self._cursors.get(path)
            if cursor is None or cursor.inode != status.st_ino or status.st_size < cursor.offset:
                cursor = self._cursors[path] = _Cursor(status.st_ino)
            handle.seek(cursor.offset)
            data = handle.read()
        cursor.offset += len(data)
        data = cursor.partial + data
        complete, _newline, cursor.partial = data.rpartition(b"\n")
        lines = complete.decode("utf-8", "replace").splitlines()
        events, bad = parse_queue_log(lines)
        self.bad += bad
        return events


@dataclass
class _Cursor:
    """How far one queue_log file has been read."""

    inode: int
    offset: int = 0
    partial: bytes = b""
