"""Fresh caller numbers for each round of the demo's recording (pure, no I/O).

Every Danish number in a recording (``+45`` and eight digits, wherever it stands: the
CallerIDNum and ConnectedLineNum of each channel, a dialplan's AppData) is replaced by a
number no earlier round used and that the recording does not hold, the same one for each
of its occurrences in the round: a citizen who calls twice in a round still calls from one
number, and no number collects a missed call from every round. A replacement is exactly as
long as the number it replaces, so the recording's ``.timing.jsonl`` offsets still hold.
"""

from __future__ import annotations

import random
import re

__all__ = ["CallerNumbers"]

_NUMBER = re.compile(rb"(?<!\d)\+45\d{8}(?!\d)")


class CallerNumbers:
    """Hands out Danish numbers, each once, and rewrites a round's bytes with them."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - made-up numbers, not secrets
        self._issued: set[bytes] = set()

    def fresh(self, data: bytes) -> bytes:
        """``data`` with each distinct number replaced by one never handed out before."""
        self._issued.update(_NUMBER.findall(data))  # the recorded ones are never handed out
        chosen: dict[bytes, bytes] = {}

        def swap(match: re.Match[bytes]) -> bytes:
            if match[0] not in chosen:
                chosen[match[0]] = self._new()
            return chosen[match[0]]

        return _NUMBER.sub(swap, data)

    def _new(self) -> bytes:
        """A number not handed out yet: eight digits, the first 2-9 (no service numbers)."""
        while True:
            number = b"+45%d%07d" % (self._rng.randint(2, 9), self._rng.randrange(10**7))
            if number not in self._issued:
                self._issued.add(number)
                return number
