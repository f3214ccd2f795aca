"""Recorded AMI streams as files: whether a file is one, and its messages a read at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from phoneservice.pbx.protocol import BANNER_PREFIX, parse_banner, parse_dicts

BANNER = BANNER_PREFIX.encode()
READ_SIZE = 1 << 20


class NotARecording(ValueError):
    """The file does not start with the AMI banner."""


def is_recording(path: Path) -> bool:
    """Whether a file is a recorded AMI stream (it starts with the AMI banner)."""
    with path.open("rb") as handle:
        return handle.read(len(BANNER)) == BANNER


def message_batches(path: Path) -> Iterator[list[dict[str, str]]]:
    """The messages of a recording, a read at a time (a torn last message is left out)."""
    with path.open("rb") as handle:
        banner, buffer = parse_banner(handle.read(READ_SIZE))
        if banner is None or not banner.startswith(BANNER_PREFIX):
            raise NotARecording("not an AMI recording (no banner)")
        while True:
            messages, buffer = parse_dicts(buffer)
            yield messages
            chunk = handle.read(READ_SIZE)
            if not chunk:
                return
            buffer += chunk
