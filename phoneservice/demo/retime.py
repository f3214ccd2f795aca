"""Re-timing a recorded AMI session so it happens now, with fresh ids (pure).

A recording's epoch values all have the shape ``\\d{10}\\.\\d+``: the ``Timestamp:``
header of every event, and Asterisk's ``Uniqueid``/``Linkedid`` (``<epoch>.<serial>``).
:func:`retime` adds the same whole number of seconds to the integer part of each of
them and leaves every other byte as it was. The fraction and the width do not change, so
the result is exactly as long as the recording and its ``.timing.jsonl`` offsets still
hold. Shifting ids by the same delta as the clock keeps them consistent within a round
(a Linkedid still names its channel's Uniqueid) and makes two rounds whose deltas differ
by more than the recording's span never share an id.
"""

from __future__ import annotations

import re

__all__ = ["first_timestamp", "retime", "retime_to", "span"]

_EPOCH = re.compile(rb"(?<![\d.])(\d{10})(\.\d+)(?![\d.])")
_TIMESTAMP = re.compile(rb"^Timestamp: *(\d{10}(?:\.\d+)?)\r?$", re.MULTILINE)
_TEN_DIGITS = 10**10


def retime(data: bytes, delta: int) -> bytes:
    """``data`` with ``delta`` seconds added to every ``\\d{10}.\\d+`` epoch or id value."""
    if delta == 0:
        return data

    def shift(match: re.Match[bytes]) -> bytes:
        value = int(match[1]) + delta
        if not 0 <= value < _TEN_DIGITS:
            raise ValueError(f"shifting {match[0]!r} by {delta} s leaves ten digits")
        return b"%010d%s" % (value, match[2])

    return _EPOCH.sub(shift, data)


def first_timestamp(data: bytes) -> float | None:
    """The first ``Timestamp:`` header's value in a recording, or None if it has none."""
    match = _TIMESTAMP.search(data)
    return float(match[1]) if match else None


def span(data: bytes) -> int:
    """Seconds between the smallest and the largest epoch-shaped value (0 if none)."""
    values = [int(m[1]) for m in _EPOCH.finditer(data)]
    return max(values) - min(values) if values else 0


def retime_to(data: bytes, now: float) -> tuple[bytes, int]:
    """``data`` shifted so its first ``Timestamp`` falls within a second of ``now``.

    Returns the new bytes and the delta used (0 for a recording without timestamps).
    """
    first = first_timestamp(data)
    delta = 0 if first is None else int(now - first)
    return retime(data, delta), delta
