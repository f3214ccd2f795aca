"""Placing callback calls through the PBX (SPEC §6): the outbox in the database, and the
worker that sends each Originate once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest

from phoneservice.bootstrap import build_call_log
from phoneservice.demo.originate import citizen_status
from phoneservice.demo.simulator import AmiSimulator, Script
from phoneservice.domain.callbacks.originate import DeviceRefused
from phoneservice.domain.callbacks.rules import (
    IN_FLIGHT,
    CallbackError,
    CallInFlight,
    ClaimConflict,
)
from phoneservice.pbx.client import AmiClient, AmiTarget
from phoneservice.pbx.translate import originate_fields
from phoneservice.registry import parse_registry
from phoneservice.services.callbacks import (
    LOST_AFTER,
    CallbackService,
    NoDevice,
    OriginateJob,
    UnitClosed,
)
from phoneservice.services.clock import system_clock as utc_now
from phoneservice.worker.dialer import OriginateOutbox
from phoneservice.worker.follower import PbxFollower, follow_all
from tests.conftest import LAB_REGISTRY, TODAY, at
from tests.domain.test_call_tracker import TRACES
from tests.services.test_callbacks import FRIDAY, Queue, build_queue, lab_registry

PLANS = json.loads((TRACES / "f-callback.expected.json").read_text())["callbacks"]
DEVICE = "Local/agent2@agent-phone"  # anne's own phone on the lab PBX
# The lab PBX rings its agents' phones through Local channels in the agent-phone context.
LAB_PHONES = "agent_device_pattern = 'Local/agent[0-9]{1,3}@agent-phone'"


def phones_registry(text: str = LAB_REGISTRY):
    """The lab registry whose [pbx] allows the lab's agent phones."""
    contexts = 'inbound_contexts = ["inbound"]'
    return parse_registry(text.replace(contexts, f"{contexts}\n{LAB_PHONES}"), "lab.toml", TODAY)


@pytest.fixture
def queue(database_url):
    for made in build_queue(database_url, phones_registry(), FRIDAY + timedelta(minutes=5)):
        made.phone("anne", DEVICE)
        made.phone("bo", "Local/agent3@agent-phone")
        yield made


def _task(queue: Queue, number: str | None = None) -> int:
    """A task for a missed call of ``number`` (the default citizen) on Friday."""
    changes = {} if number is None else {"caller_number": number}
    queue.store(queue.call(FRIDAY, **changes))
    return next(
        v.callback.id for v in queue.callbacks.list() if number in (None, v.callback.caller_number)
    )


def _attempt(queue: Queue, callback_id: int):
    (attempt,) = queue.callbacks.get(callback_id).callback.attempts
    return attempt


# ---------------------------------------------------------------- the service


def test_placing_a_call_requests_an_attempt_for_the_worker(queue):
    task = _task(queue)
    placed = queue.callbacks.place_call(task, "anne")
    attempt = _attempt(queue, task)
    assert (attempt.outcome, attempt.status, attempt.by) == (None, "requested", "anne")
    assert (attempt.channel_id, attempt.agent_device) == (placed.channel_id, DEVICE)
    assert placed.channel_id.startswith(f"cb{task}-")
    assert placed.view.callback.claimed_by == "anne"
    (job,) = queue.callbacks.due_originates()
    assert (job.callback_id, job.channel_id, job.agent_device, job.unit) == (
        task,
        placed.channel_id,
        DEVICE,
        "jobcenter",
    )
    assert queue.callbacks.due_originates(["borgerservice"]) == []
    assert queue.callbacks.mark_sent(placed.channel_id) is True
    assert queue.callbacks.mark_sent(placed.channel_id) is False  # taken once only
    assert queue.callbacks.due_originates() == []


def test_a_closed_unit_needs_the_agents_confirmation(database_url):
    registry = phones_registry(LAB_REGISTRY.replace('["00:00-24:00"]', '["08:00-15:00"]'))
    evening = at("2026-11-20T20:00")
    for queue in build_queue(database_url, registry, evening):
        queue.phone("anne", DEVICE)
        task = _task(queue)
        with pytest.raises(UnitClosed, match="closed"):
            queue.callbacks.place_call(task, "anne")
        assert queue.callbacks.get(task).callback.attempts == ()
        placed = queue.callbacks.place_call(task, "anne", confirm_closed=True)
        assert _attempt(queue, task).channel_id == placed.channel_id
        assert isinstance(UnitClosed("x"), CallbackError)


def test_refused_when_claimed_by_another_or_a_call_is_in_flight(queue):
    task = _task(queue)
    queue.callbacks.claim(task, "bo")
    with pytest.raises(ClaimConflict):
        queue.callbacks.place_call(task, "anne")
    first = queue.callbacks.place_call(task, "bo")
    with pytest.raises(CallInFlight):
        queue.callbacks.place_call(task, "bo")
    queue.callbacks.mark_sent(first.channel_id)
    with pytest.raises(CallInFlight):
        queue.callbacks.place_call(task, "bo")
    queue.callbacks.resolve(first.channel_id, "no_answer")
    second = queue.callbacks.place_call(task, "bo")
    assert second.channel_id != first.channel_id


def test_refused_on_a_closed_task_and_an_erased_number(queue):
    task = _task(queue)
    queue.callbacks.cancel(task, "anne", "duplicate")
    with pytest.raises(CallbackError, match="cancelled"):
        queue.callbacks.place_call(task, "anne")


def test_resolving_counts_only_the_citizens_answers_and_twice_changes_nothing(queue):
    task = _task(queue)
    placed = queue.callbacks.place_call(task, "anne")
    queue.callbacks.mark_sent(placed.channel_id)
    view = queue.callbacks.resolve(placed.channel_id, "agent_no_answer")
    assert view is not None and view.callback.is_open
    attempt = _attempt(queue, task)
    assert (attempt.outcome, attempt.status) == (None, "agent_no_answer")
    assert view.callback.failed_attempts == 0
    assert queue.callbacks.resolve(placed.channel_id, "reached").callback.is_open  # decided
    for outcome in ("busy", "no_answer", "busy"):  # max_attempts 3
        queue.clock.now += timedelta(minutes=1)
        placed = queue.callbacks.place_call(task, "anne")
        queue.callbacks.mark_sent(placed.channel_id)
        view = queue.callbacks.resolve(placed.channel_id, outcome)
    assert (view.callback.state, view.callback.failed_attempts) == ("unreachable", 3)
    assert queue.callbacks.resolve("cb0-nothing", "reached") is None


def test_reached_closes_the_task_as_called_back(queue):
    task = _task(queue)
    placed = queue.callbacks.place_call(task, "anne")
    queue.callbacks.mark_sent(placed.channel_id)
    done = queue.clock.now + timedelta(seconds=30)
    view = queue.callbacks.resolve(placed.channel_id, "reached", done)
    assert (view.callback.state, view.callback.resolution) == ("done", "called_back")
    assert (view.callback.closed_at, view.callback.closed_by) == (done, "anne")
    assert _attempt(queue, task).status == "resolved"
    again = queue.callbacks.resolve(placed.channel_id, "reached", done + timedelta(hours=1))
    assert again.callback.closed_at == done


def test_the_agent_answering_is_a_step_and_only_the_citizen_decides(queue):
    task = _task(queue)
    placed = queue.callbacks.place_call(task, "anne")
    assert not queue.callbacks.agent_answered(placed.channel_id)  # not sent yet
    queue.callbacks.mark_sent(placed.channel_id)
    assert queue.callbacks.agent_answered(placed.channel_id)
    attempt = _attempt(queue, task)
    assert (attempt.outcome, attempt.status) == (None, "agent_answered")
    assert queue.callbacks.get(task).callback.is_open
    assert queue.callbacks.sent_calls() == [placed.channel_id]  # asked after a reconnect
    with pytest.raises(CallInFlight):
        queue.callbacks.place_call(task, "anne")
    view = queue.callbacks.resolve(placed.channel_id, "reached")
    assert (view.callback.state, _attempt(queue, task).status) == ("done", "resolved")
    assert not queue.callbacks.agent_answered(placed.channel_id)  # decided stays decided
    assert _attempt(queue, task).outcome == "reached"


def test_a_call_the_agent_answered_is_lost_when_no_outcome_ever_comes(queue):
    task = _task(queue)
    placed = queue.callbacks.place_call(task, "anne")
    queue.callbacks.mark_sent(placed.channel_id)
    queue.callbacks.agent_answered(placed.channel_id)
    queue.clock.now += LOST_AFTER + timedelta(seconds=1)
    assert queue.callbacks.lose_stale_calls() == 1
    assert _attempt(queue, task).status == "lost"


def test_a_call_without_outcome_is_lost_after_a_while_and_frees_the_task(queue):
    task = _task(queue)
    placed = queue.callbacks.place_call(task, "anne")
    queue.callbacks.mark_sent(placed.channel_id)  # ... and the worker died before sending
    queue.clock.now += LOST_AFTER + timedelta(seconds=1)
    assert queue.callbacks.due_originates() == []
    attempt = _attempt(queue, task)
    assert (attempt.outcome, attempt.status) == (None, "lost")
    queue.callbacks.place_call(task, "anne")  # free again
    assert queue.callbacks.lose_stale_calls() == 0


# ---------------------------------------------------------------- through the worker


def _service(database_url: str) -> tuple[CallbackService, Queue]:
    (queue,) = list(build_queue(database_url, phones_registry(), utc_now()))
    queue.callbacks.clock = utc_now
    return queue.callbacks, queue


def _placed_calls(queue: Queue, plans) -> list[tuple[int, str]]:
    """A missed call and a placed call per plan, in order: (task id, channel id).

    The fourth citizen is the first one again: that task is of another unit.
    """
    placed, agents = [], set()
    base = utc_now() - timedelta(minutes=30)
    for n, plan in enumerate(plans):
        unit = "borgerservice" if n == 3 else "jobcenter"
        number = plan["citizen_number"]
        arrived = base + timedelta(minutes=n)
        queue.store(queue.call(arrived, caller_number=number, unit=unit, queue=unit))
        (task,) = [
            v.callback.id for v in queue.callbacks.list(unit) if v.callback.caller_number == number
        ]
        agent = plan["agent"]  # each agent's account has its own phone on the lab PBX
        if agent not in agents:
            queue.phone(agent, f"Local/{agent}@agent-phone")
            agents.add(agent)
        when = utc_now() - timedelta(seconds=10 - n)
        placed.append((task, queue.callbacks.place_call(task, agent, now=when).channel_id))
    return placed


def _follow(scripts, queue: Queue, until, **options) -> tuple[AmiSimulator, PbxFollower]:
    registry = lab_registry()
    with AmiSimulator(scripts, chunks=(1, 500), answer_wait=5.0, **options) as sim:
        target = AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s")
        call_log = build_call_log(registry, "lab", queue.calls.store_for("lab"))
        client = AmiClient(target, ping_interval=1.0, backoff_initial=0.05, backoff_max=0.2)
        follower = PbxFollower(client, call_log, originates=OriginateOutbox(queue.callbacks))
        asyncio.run(_run(follower, until))
    return sim, follower


async def _run(follower: PbxFollower, until) -> None:
    stop = asyncio.Event()
    job = asyncio.create_task(follow_all([follower], stop))
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not await asyncio.to_thread(until):
        await asyncio.sleep(0.1)
    stop.set()
    await job


def _originates(sim: AmiSimulator) -> list[str | None]:
    return [a.get("ChannelId") for _, a in sim.actions if a.get("Action") == "Originate"]


def test_four_placed_calls_through_the_recorded_pbx(database_url):
    _, queue = _service(database_url)
    placed = _placed_calls(queue, PLANS)

    def decided() -> bool:
        return all(_attempt(queue, task).status not in IN_FLIGHT for task, _ in placed)

    sim, follower = _follow([TRACES / "f-callback.ami"], queue, decided)
    assert decided() and follower.failures == 0
    assert _originates(sim) == [channel_id for _, channel_id in placed]
    views = [queue.callbacks.get(task).callback for task, _ in placed]
    attempts = [view.attempts[0] for view in views]
    assert [(a.outcome, a.status) for a in attempts] == [
        ("reached", "resolved"),
        ("no_answer", "resolved"),
        ("busy", "resolved"),
        (None, "agent_no_answer"),
    ]
    assert (views[0].state, views[0].resolution) == ("done", "called_back")
    assert [v.state for v in views[1:]] == ["open", "open", "open"]
    assert [v.failed_attempts for v in views] == [0, 1, 1, 0]


def test_the_worker_records_the_agent_answering_before_the_citizens_outcome(database_url):
    """The demo's PBX answers the agent's phone at once and the citizen's much later: the
    attempt is agent_answered meanwhile (the page says the citizen's phone rings)."""
    _, queue = _service(database_url)
    ((task, channel_id),) = _placed_calls(queue, PLANS[:1])

    def answered() -> bool:
        return _attempt(queue, task).status == "agent_answered"

    script = Script(TRACES / "a-answered.ami")  # answers no Originate: the demo's way
    sim, follower = _follow([script], queue, answered, originate_after=(0.1, 600.0))
    assert answered() and follower.failures == 0
    assert _originates(sim) == [channel_id]
    assert queue.callbacks.get(task).callback.is_open
    assert queue.callbacks.sent_calls() == [channel_id]


def test_the_demos_pbx_answers_a_call_end_to_end(database_url):
    _, queue = _service(database_url)
    answering = [p for p in PLANS if citizen_status(p["citizen_number"]) == "ANSWER"]
    ((task, _),) = _placed_calls(queue, answering[:1])  # the demo's rule: by the last digit

    def reached() -> bool:
        return _attempt(queue, task).outcome == "reached"

    _follow([Script(TRACES / "a-answered.ami")], queue, reached, originate_after=(0.1, 0.1))
    done = queue.callbacks.get(task).callback
    assert (done.state, done.resolution) == ("done", "called_back")


@pytest.mark.slow
def test_a_connection_reset_after_the_originate_never_rings_twice(database_url):
    _, queue = _service(database_url)
    ((task, channel_id),) = _placed_calls(queue, PLANS[:1])
    scripts = [
        Script(TRACES / "f-callback.ami", cut_after_messages=3, ending="reset"),
        Script(TRACES / "a-answered.ami"),
    ]
    seen: dict[str, float] = {}

    def settled() -> bool:  # decided, and a second connection has had time to send again
        if _attempt(queue, task).status in IN_FLIGHT:
            return False
        seen.setdefault("at", time.monotonic())
        return time.monotonic() - seen["at"] > 2.5

    sim, follower = _follow(scripts, queue, settled)
    assert follower.client.reconnects >= 1
    attempt = _attempt(queue, task)
    assert (attempt.outcome, attempt.status) in ((None, "failed"), (None, "lost"))
    assert queue.callbacks.get(task).callback.is_open
    assert _originates(sim) == [channel_id]
    assert {index for index, _ in sim.actions} >= {0, 1}  # both connections were served


def test_a_placed_call_shows_no_citizen_number_when_logged():
    """Jobs and Originate requests go into log lines by their repr: no number in it."""
    from phoneservice.domain.callbacks.originate import OriginateRequest
    from phoneservice.services.callbacks import OriginateJob

    job = OriginateJob(7, "cb-7-1", "PJSIP/anne", "+4523119993", "jobcenter")
    request = OriginateRequest(job.channel_id, job.agent_device, job.citizen_number)
    for shown in (repr(job), str(job), repr(request), f"{job} {request}"):
        assert "23119993" not in shown
    assert "cb-7-1" in repr(job)  # the ids still say which call it was


# ---------------------------------------------------------------- whose phone rings first


def _nothing_queued(queue: Queue, task: int) -> None:
    """No attempt on the task and no call in the outbox."""
    assert queue.callbacks.get(task).callback.attempts == ()
    assert queue.callbacks.due_originates() == []


def test_an_agent_without_a_phone_cannot_place_a_call(queue):
    task = _task(queue)
    queue.phone("nina", None)
    with pytest.raises(NoDevice, match="ask an admin to set your phone"):
        queue.callbacks.place_call(task, "nina")
    with pytest.raises(NoDevice):  # no account at all: a token's name, say
        queue.callbacks.place_call(task, "token:crm")
    _nothing_queued(queue, task)


def test_a_phone_the_pattern_no_longer_allows_is_refused_when_the_call_is_asked_for(queue):
    """anne's phone was allowed when an admin set it; the registry's pattern changed since."""
    task = _task(queue)
    changed = CallbackService(queue.callbacks.sessions, lab_registry(), queue.clock)
    with pytest.raises(DeviceRefused, match="agent_device_pattern") as refused:
        changed.place_call(task, "anne")
    assert "agent2" not in str(refused.value)  # the device is not echoed
    _nothing_queued(queue, task)


def test_the_dialer_never_sends_a_device_the_pattern_refuses(queue, caplog):
    task = _task(queue)
    placed = queue.callbacks.place_call(task, "anne")  # allowed when it was asked for
    changed = CallbackService(queue.callbacks.sessions, lab_registry(), queue.clock)
    outbox = OriginateOutbox(changed)
    with caplog.at_level("WARNING"):
        assert outbox.due() == []
    attempt = _attempt(queue, task)
    assert (attempt.outcome, attempt.status) == (None, "failed")
    assert attempt.note == "not sent: the agent device does not match [pbx] agent_device_pattern"
    assert queue.callbacks.get(task).callback.is_open  # a refused call does not count
    assert placed.channel_id in caplog.text and "agent_device_pattern" in caplog.text
    assert "23119993" not in caplog.text and DEVICE not in caplog.text
    job = OriginateJob(task, "cb-x", DEVICE, "+4523119993", "jobcenter")
    with pytest.raises(DeviceRefused):
        outbox.request(job)  # the Originate itself is never built for such a device


def test_the_dialer_sends_a_device_the_pattern_allows(queue):
    task = _task(queue)
    placed = queue.callbacks.place_call(task, "anne")
    (job,) = OriginateOutbox(queue.callbacks).due()
    assert job.channel_id == placed.channel_id
    assert ("Channel", DEVICE) in originate_fields(OriginateOutbox(queue.callbacks).request(job))
