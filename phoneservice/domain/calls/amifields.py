"""Reading AMI header values: names, times and durations, as Asterisk sends them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

_WITHHELD = frozenset(
    {"", "<unknown>", "unknown", "anonymous", "restricted", "private", "unavailable", "withheld"}
)
_OUTGOING_LINE = "(Outgoing Line)"
_HOURS_OPEN = frozenset({"open", "1", "yes", "true", "on"})
_HOURS_CLOSED = frozenset({"closed", "0", "no", "false", "off"})


def agent_of(event: Mapping[str, str]) -> str | None:
    """The agent of an Agent* event: the member name, else the member interface."""
    return event.get("MemberName") or event.get("Interface") or None


def is_outgoing_line(event: Mapping[str, str]) -> bool:
    """Whether a dialplan event shows the dialing side of a channel, not dialplan it runs."""
    data = event.get("AppData", event.get("ApplicationData", ""))
    application = event.get("Application", "")
    return data == _OUTGOING_LINE or application.startswith(("AppDial", "AppQueue"))


def display_name(raw: str | None) -> str | None:
    """A caller name, or None for Asterisk's ``<unknown>`` and empty names."""
    text = (raw or "").strip()
    return None if text.casefold() in _WITHHELD else text


def pbx_says_open(value: str | None) -> bool | None:
    """What the dialplan's hours variable says: open (True), closed (False) or nothing."""
    text = (value or "").strip().casefold()
    if text in _HOURS_OPEN:
        return True
    return False if text in _HOURS_CLOSED else None


def event_instant(event: Mapping[str, str]) -> datetime | None:
    """The event's epoch ``Timestamp`` as an aware UTC instant, or None when absent or bad."""
    try:
        return datetime.fromtimestamp(float(event["Timestamp"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
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


def whole_seconds(later: datetime, earlier: datetime) -> int:
    """Whole seconds between two instants, never negative."""
    return max(0, round((later - earlier).total_seconds()))
