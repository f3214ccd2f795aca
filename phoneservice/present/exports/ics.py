"""An iCalendar (RFC 5545) feed of a unit's open periods for the next 12 weeks.

One VEVENT per open interval as materialised by the hours engine (holidays, seasons,
half days and daylight saving already applied), with times in UTC. The UID is made
from the unit and the local start, so a regenerated feed updates events in place.
Lines end in CRLF and are folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from phoneservice.domain.hours.schedule import Span
from phoneservice.domain.hours.status import open_spans
from phoneservice.domain.hours.wallclock import from_epoch
from phoneservice.domain.units import Unit
from phoneservice.registry import Registry

WEEKS = 12
PRODID = "-//phoneservice//telefontider//DA"
UID_DOMAIN = "phoneservice"
CRLF = "\r\n"
MAX_OCTETS = 75
_ESCAPES = (
    ("\\", "\\\\"),
    (";", "\\;"),
    (",", "\\,"),
    ("\r\n", "\\n"),
    ("\n", "\\n"),
    ("\r", "\\n"),
)


def render(registry: Registry, units: Sequence[Unit], now: datetime) -> str:
    """One VCALENDAR with the open periods of every unit, stamped ``now``."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(calendar_name(registry, units))}",
    ]
    for unit in units:
        lines += unit_events(unit, now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def calendar_name(registry: Registry, units: Sequence[Unit]) -> str:
    """``Borgerservice – telefontid`` for one unit, the registry's name for several."""
    if len(units) == 1:
        return f"{units[0].name} – telefontid"
    return f"{registry.name} – telefontider"


def unit_events(unit: Unit, now: datetime) -> list[str]:
    """The VEVENT lines of a unit's open periods starting in the 12 weeks from today."""
    today = now.date()
    last = today + timedelta(days=7 * WEEKS - 1)
    stamp = utc_text(now.timestamp())
    return [
        line for span in open_spans(unit.schedule, today, last) for line in event(unit, span, stamp)
    ]


def event(unit: Unit, span: Span, stamp: str) -> list[str]:
    """One VEVENT."""
    start = from_epoch(span.start, unit.schedule.timezone)
    return [
        "BEGIN:VEVENT",
        f"UID:{uid(unit.id, start)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{utc_text(span.start)}",
        f"DTEND:{utc_text(span.end)}",
        f"SUMMARY:{escape(f'{unit.name} – {span.reason}')}",
        f"DESCRIPTION:{escape(description(unit))}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def uid(unit_id: str, local_start: datetime) -> str:
    """``borgerservice-20261228-1000@phoneservice``: stable while the hours stay the same."""
    return f"{unit_id}-{local_start:%Y%m%d-%H%M}@{UID_DOMAIN}"


def description(unit: Unit) -> str:
    """Phone, menu path and notes, one per line."""
    lines = [f"Telefon: {unit.phone}"]
    if unit.menu:
        lines.append(f"Menu: {unit.menu}")
    if unit.notes:
        lines.append(unit.notes)
    return "\n".join(lines)


def utc_text(epoch: float) -> str:
    """An instant as an RFC 5545 UTC date-time (``20261228T090000Z``)."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y%m%dT%H%M%SZ")


def escape(text: str) -> str:
    """RFC 5545 TEXT escaping of backslash, semicolon, comma and line breaks."""
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, continued by one space."""
    pieces, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > MAX_OCTETS:
            pieces.append(current)
            current, size = " ", 1
        current += char
        size += width
    pieces.append(current)
    return CRLF.join(pieces)
