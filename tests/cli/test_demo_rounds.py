"""Each round of the demo's recording calls from fresh numbers (``cli/demo.py`` ``Rounds``)."""

from __future__ import annotations

import re
from collections import Counter

from phoneservice.cli.demo import DEFAULT_RECORDING, Rounds, unpacked
from phoneservice.domain.calls.numbers import caller_number

NUMBER = re.compile(rb"\+45\d{8}")


def numbers(data: bytes) -> Counter[bytes]:
    return Counter(NUMBER.findall(data))


def test_every_round_calls_from_numbers_no_earlier_round_used(tmp_path):
    recording = unpacked(DEFAULT_RECORDING, tmp_path).read_bytes()
    rounds = Rounds(clock=lambda: 1_800_000_000.0)
    played = [rounds(recording, n) for n in range(3)]
    seen = set(numbers(recording))
    for data in played:
        fresh = set(numbers(data))
        assert fresh and not fresh & seen
        seen |= fresh


def test_a_round_keeps_the_recording_shape(tmp_path):
    recording = unpacked(DEFAULT_RECORDING, tmp_path).read_bytes()
    data = Rounds(clock=lambda: 1_800_000_000.0)(recording, 0)
    assert len(data) == len(recording)  # the .timing.jsonl offsets still hold
    # A citizen who calls twice in the recording calls twice from one number in a round.
    assert sorted(numbers(data).values()) == sorted(numbers(recording).values())
    assert all(caller_number(n.decode()) == n.decode() for n in numbers(data))
