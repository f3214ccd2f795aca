"""Placing callback calls: the Originate headers and the four outcomes of f-callback."""

from __future__ import annotations

import asyncio
import json

import pytest

from phoneservice.demo.simulator import AmiSimulator
from phoneservice.domain.callbacks.originate import OriginateRequest, OriginateWatch
from phoneservice.domain.errors import DomainError
from phoneservice.pbx.client import AmiClient, AmiTarget, Received
from tests.domain.test_call_tracker import TRACES, recorded_events

EXPECTED = {
    "ANSWER": "reached",
    "NOANSWER": "no_answer",
    "BUSY": "busy",
    "AGENT_NOANSWER": "agent_no_answer",
}
PLANS = json.loads((TRACES / "f-callback.expected.json").read_text())["callbacks"]


def test_originate_rings_the_agent_first_with_a_fixed_channel_id():
    request = OriginateRequest(
        "cb-7-a1", "PJSIP/anne", "+4521806409", variables={"CALLBACK_ID": "7"}
    )
    fields = dict(request.fields())
    assert (fields["Channel"], fields["Exten"], fields["Async"], fields["ChannelId"]) == (
        "PJSIP/anne",
        "+4521806409",
        "true",
        "cb-7-a1",
    )
    assert ("Variable", "CALLBACK_ID=7") in request.fields()


def test_originate_needs_ids():
    with pytest.raises(DomainError):
        OriginateRequest("", "PJSIP/anne", "+4521806409")


def test_recorded_answers_give_the_four_outcomes():
    watch = OriginateWatch()
    for plan in PLANS:
        watch.expect(plan["action_id"])
    results = {}
    for event in recorded_events("f-callback.ami"):
        result = watch.feed(event)
        if result is not None:
            results[result.action_id] = result.outcome
    assert results == {p["action_id"]: EXPECTED[p["expected_result"]] for p in PLANS}
    assert watch.pending() == 0


def test_other_clients_originates_are_ignored():
    watch = OriginateWatch()  # expects nothing: every OriginateResponse is foreign
    assert all(watch.feed(e) is None for e in recorded_events("f-callback.ami"))


def test_real_originates_answered_by_the_recording_over_a_socket():
    """Our client sends four Originates; the PBX (replayed) answers each with its outcome."""
    outcomes = asyncio.run(_originate_all())
    assert outcomes == [EXPECTED[p["expected_result"]] for p in PLANS]


async def _originate_all() -> list[str]:
    with AmiSimulator([TRACES / "f-callback.ami"], chunks=(1, 500), answer_wait=5.0) as sim:
        client = AmiClient(
            AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s"), ping_interval=2.0
        )
        runner = asyncio.create_task(client.run())
        await client.wait_connected(5)
        watch, order, results = OriginateWatch(), [], {}
        for n, plan in enumerate(PLANS):
            request = OriginateRequest(
                f"att-{n}", f"Local/{plan['agent']}@agent-phone", plan["citizen_number"]
            )
            response = await client.action("Originate", request.fields())
            assert response.get("Response") == "Success"
            watch.expect(response.action_id or "", request.channel_id)
            order.append(response.action_id)
        async with asyncio.timeout(30):
            while len(results) < len(PLANS):
                item = await client.get()
                if isinstance(item, Received):
                    result = watch.feed(item.message.as_dict())
                    if result is not None:
                        results[result.action_id] = result.outcome
        await client.close()
        await runner
        assert [a for _, a in sim.actions if a.get("Action") == "Originate"].__len__() == 4
        return [results[action_id] for action_id in order]
