"""Queue timeouts on the live path: k-queue-timeout served over loopback at its recorded
pace, through the real AMI client and the worker's follower, into storage."""

from __future__ import annotations

import pytest

from tests.worker.test_worker import follow_recording

# Real sockets and 21.5 s of recorded traffic at its own pace: the slow tier.
pytestmark = pytest.mark.slow

K = "k-queue-timeout"


@pytest.mark.parametrize("queue_log", [False, True], ids=["ami", "ami+queue_log"])
def test_queue_timeouts_at_real_pace_through_the_real_client(database_url, queue_log):
    logged, follower, calls, callbacks = follow_recording(database_url, K, queue_log=queue_log)
    assert follower.failures == 0 and len(logged) == len(calls) == 4
    for call in calls:
        got = logged[call["uniqueid"]]
        assert (got.outcome, got.unit, got.caller_number, got.wait_s, got.talk_s or 0) == (
            call["observed_outcome"],
            call["queue"],
            call["caller_number"],
            call["wait_s"],
            call["talk_s"],
        ), call["call_ref"]
        assert abs(got.arrived_at.timestamp() - call["times"]["channel_created"]) <= 1
        assert (got.linkedid, got.source) == (call["linkedid"], "ami")
    outcomes = sorted(c["observed_outcome"] for c in calls)
    assert outcomes == ["abandoned", "answered", "timeout", "timeout"]
    missed = sorted(c["caller_number"] for c in calls if c["observed_outcome"] != "answered")
    assert sorted(t.callback.caller_number for t in callbacks.list()) == missed
