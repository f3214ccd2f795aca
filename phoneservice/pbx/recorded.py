"""Recorded AMI streams as files: whether a file is one, and its messages a read at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from phoneservice.pbx.protocol import BANNER_PREFIX, Framer, parse_banner

BANNER = BANNER_PREFIX.encode()
READ_SIZE = 1 << 20


class NotARecording(ValueError):
    """The file does not start with the AMI banner."""


def is_recording(path: Path) -> bool:
    """Whether a file is a recorded AMI stream (it starts with the AMI banner)."""
    with path.open("rb") as handle:
        return handle.read(len(BANNER)) == BANNER


def message_batches(path: Path) -> Iterator[list[dict[str, str]]]:
    """The messages of a recording, a read at a time (a torn last message is left out).

    Framed as the live connection frames them: linear in the file's size, and a message
    over 1 MiB raises :class:`~phoneservice.pbx.protocol.MessageTooLarge` (a ValueError).
    """
    with path.open("rb") as handle:
        banner, rest = parse_banner(handle.read(READ_SIZE))
        if banner is None or not banner.startswith(BANNER_PREFIX):
            raise NotARecording("not an AMI recording (no banner)")
        framer, chunk = Framer(rest), b""
        while True:
            yield framer.feed_dicts(chunk)
            chunk = handle.read(READ_SIZE)
            if not chunk:
                return
