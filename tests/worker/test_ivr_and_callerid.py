"""l-ivr-and-callerid on the live path: served over loopback at its recorded pace, through
the real AMI client and the worker's follower, into storage."""

from __future__ import annotations

import pytest

from tests.worker.test_worker import follow_recording

# Real sockets and about 20 s of recorded traffic at its own pace: the slow tier.
pytestmark = pytest.mark.slow

L = "l-ivr-and-callerid"
UNIT_BY_DID = {"70101010": "borgerservice", "70101020": "jobcenter", "70101030": "boern-laering"}


@pytest.mark.parametrize("queue_log", [False, True], ids=["ami", "ami+queue_log"])
def test_ivr_hang_up_and_caller_ids_at_real_pace_through_the_real_client(database_url, queue_log):
    logged, follower, calls, callbacks = follow_recording(database_url, L, queue_log=queue_log)
    assert follower.failures == 0 and len(logged) == len(calls) == 5
    for call in calls:
        got = logged[call["uniqueid"]]
        assert (got.outcome, got.unit, got.queue, got.wait_s, got.talk_s or 0) == (
            call["observed_outcome"],
            UNIT_BY_DID[call["did"]],
            call["queue"],
            call["wait_s"],
            call["talk_s"],
        ), call["call_ref"]
        assert (got.caller_number, got.caller_raw) == (
            call["caller_number"],
            call["caller_raw"],
        ), call["call_ref"]
        assert abs(got.arrived_at.timestamp() - call["times"]["channel_created"]) <= 1
        assert (got.linkedid, got.source) == (call["linkedid"], "ami")
        # the ground truth's during_hours is the dialplan's PHONE_HOURS: none for l-001
        assert (got.pbx_hours == "open") == bool(call["during_hours"]), call["call_ref"]
    missed = {
        (c["caller_number"], UNIT_BY_DID[c["did"]])
        for c in calls
        if c["observed_outcome"] != "answered" and c["caller_number"]
    }
    tasks = {(t.callback.caller_number, t.callback.unit) for t in callbacks.list()}
    assert tasks == missed and len(callbacks.list()) == 3  # the withheld caller gets none
