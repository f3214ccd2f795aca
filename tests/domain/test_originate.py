"""Placing callback calls: the Originate headers and the four outcomes of f-callback."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from phoneservice.demo.simulator import AmiSimulator
from phoneservice.domain.callbacks.originate import (
    DEFAULT_DEVICE_PATTERN,
    DeviceRefused,
    OriginateRequest,
    OriginateWatch,
    check_device,
)
from phoneservice.domain.errors import DomainError
from phoneservice.pbx.client import AmiClient, AmiTarget, Received
from phoneservice.pbx.translate import Translator, originate_fields
from tests.domain.test_call_tracker import TRACES, recorded_events

EXPECTED = {
    "ANSWER": "reached",
    "NOANSWER": "no_answer",
    "BUSY": "busy",
    "AGENT_NOANSWER": "agent_no_answer",
}
PLANS = json.loads((TRACES / "f-callback.expected.json").read_text())["callbacks"]

TRANSLATE = Translator()


def test_originate_rings_the_agent_first_with_a_fixed_channel_id():
    request = OriginateRequest(
        "cb-7-a1", "PJSIP/anne", "+4521806409", variables={"CALLBACK_ID": "7"}
    )
    fields = dict(originate_fields(request))
    assert (fields["Channel"], fields["Exten"], fields["Async"], fields["ChannelId"]) == (
        "PJSIP/anne",
        "+4521806409",
        "true",
        "cb-7-a1",
    )
    assert ("Variable", "CALLBACK_ID=7") in originate_fields(request)


def test_originate_needs_ids():
    with pytest.raises(DomainError):
        OriginateRequest("", "PJSIP/anne", "+4521806409")


DEFAULT = re.compile(DEFAULT_DEVICE_PATTERN)


@pytest.mark.parametrize("device", ["PJSIP/anne", "SIP/1042", "PJSIP/anne.berg_2"])
def test_the_default_pattern_allows_an_agents_own_sip_phone(device):
    assert check_device(device, DEFAULT) == device


REFUSED = [
    "Local/004790000000@outbound-trunk",
    "PJSIP/004790000000@outbound-trunk",
    "PJSIP/anne\r\nAction: Originate",
    "PJSIP/anne\n",
    " PJSIP/anne",
    "IAX2/anne",
    "PJSIP/",
    "",
    None,
]


@pytest.mark.parametrize("device", REFUSED, ids=range(len(REFUSED)))
def test_the_default_pattern_refuses_anything_else_without_naming_it(device):
    with pytest.raises(DeviceRefused, match="agent_device_pattern") as refused:
        check_device(device, DEFAULT)
    assert "0047" not in str(refused.value)


def test_a_broad_pattern_still_allows_no_line_break_or_space():
    anything = re.compile(r"(?s).*")
    for device in ("PJSIP/a\r\nAction: Logoff", "PJSIP/a b"):
        with pytest.raises(DeviceRefused):
            check_device(device, anything)
    with pytest.raises(DeviceRefused):
        OriginateRequest("cb-7-a1", "PJSIP/a\r\nAction: Logoff", "+4521806409")


def test_recorded_answers_give_the_four_outcomes():
    watch = OriginateWatch()
    for plan in PLANS:
        watch.expect(plan["action_id"])
    results = {}
    for event in recorded_events("f-callback.ami"):
        result = watch.feed(TRANSLATE(event))
        if result is not None:
            results[result.action_id] = result.outcome
    assert results == {p["action_id"]: EXPECTED[p["expected_result"]] for p in PLANS}
    assert watch.pending() == 0


def test_the_agent_answering_is_reported_before_the_citizens_outcome():
    watch = OriginateWatch()
    for plan in PLANS:
        watch.expect(plan["action_id"])
    steps: dict[str, list[str]] = {}
    for event in recorded_events("f-callback.ami"):
        result = watch.feed(TRANSLATE(event))
        if result is not None:
            steps.setdefault(result.action_id, []).append(result.outcome)
    expected = {
        p["action_id"]: [EXPECTED[p["expected_result"]]]
        if p["expected_result"] == "AGENT_NOANSWER"
        else ["agent_answered", EXPECTED[p["expected_result"]]]
        for p in PLANS
    }
    assert steps == expected


def test_other_clients_originates_are_ignored():
    watch = OriginateWatch()  # expects nothing: every OriginateResponse is foreign
    assert all(watch.feed(TRANSLATE(e)) is None for e in recorded_events("f-callback.ami"))


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
            response = await client.action("Originate", originate_fields(request))
            assert response.get("Response") == "Success"
            watch.expect(response.action_id or "", request.channel_id)
            order.append(response.action_id)
        async with asyncio.timeout(30):
            while len(results) < len(PLANS):
                item = await client.get()
                if isinstance(item, Received):
                    result = watch.feed(TRANSLATE(item.message.as_dict()))
                    if result is not None and result.final:
                        results[result.action_id] = result.outcome
        await client.close()
        await runner
        assert [a for _, a in sim.actions if a.get("Action") == "Originate"].__len__() == 4
        return [results[action_id] for action_id in order]
