"""The callback queue follows a placed call live (``/callbacks/<id>/call``), opens one task
at a time (``?task=<id>``) and says how a finished task went against its deadline.

The placed calls go through the real services, as the worker records them: ``place_call``,
``mark_sent``, ``agent_answered``, ``resolve``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from phoneservice.web.auth import POLL_HEADER
from tests.web.test_web_callbacks import HX, World, make_world, post, row_of

POLL = {POLL_HEADER: "1"}
SUCCESS = "Talt med borgeren"


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    yield from make_world(database_url)


def said(html: str) -> str:
    """What a row says, without the choices of the attempt form (one is "Talt med ...")."""
    return re.sub(r"<select.*?</select>", "", html, flags=re.S)


def placed(world: World, steps: tuple[str, ...], name: str = "today") -> tuple[int, str]:
    """anne's call to a task, taken as far as ``steps`` say: (task id, ChannelId)."""
    world.client("anne")  # the account, with its phone
    task_id = world.ids[name]
    channel_id = world.queue.callbacks.place_call(task_id, "anne").channel_id
    for step in steps:
        if step == "sent":
            assert world.queue.callbacks.mark_sent(channel_id)
        elif step == "agent_answered":
            assert world.queue.callbacks.agent_answered(channel_id)
        else:
            world.queue.callbacks.resolve(channel_id, step)
    return task_id, channel_id


def poll(world: World, user: str, task_id: int, **args: str):
    """One poll of a call's state, as the page's htmx sends it."""
    client = world.client(user)
    return client.get(f"/callbacks/{task_id}/call", query_string=args, headers={**HX, **POLL})


RINGING = [
    ("ordered", (), "anne", "Opkald bestilt – venter på telefonsystemet"),
    ("agent's phone rings", ("sent",), "anne", "Ringer hos dig …"),
    ("a colleague's phone rings", ("sent",), "carl", "Ringer hos anne …"),
    ("citizen's phone rings", ("sent", "agent_answered"), "anne", "Ringer hos borgeren …"),
]


@pytest.mark.parametrize(
    ("steps", "user", "words"), [r[1:] for r in RINGING], ids=[r[0] for r in RINGING]
)
def test_a_ringing_call_answers_its_state_alone_and_is_polled_on(world, steps, user, words):
    task_id, _ = placed(world, steps)
    answer = poll(world, user, task_id)
    assert answer.status_code == 200
    assert answer.get_data(as_text=True).strip() == words
    assert "HX-Retarget" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"


FAILED = [
    ("citizen did not answer", ("sent", "agent_answered", "no_answer"), "borgeren svarede ikke"),
    ("citizen busy", ("sent", "agent_answered", "busy"), "borgerens telefon var optaget"),
    ("agent did not answer", ("sent", "agent_no_answer"), "din telefon blev ikke taget"),
    ("pbx refused", ("sent", "failed"), "telefonsystemet kunne ikke ringe op"),
    ("no word from the pbx", ("sent", "agent_answered", "lost"), "intet svar fra telefonsystemet"),
]


@pytest.mark.parametrize(("steps", "reason"), [r[1:] for r in FAILED], ids=[r[0] for r in FAILED])
def test_a_failed_call_says_why_and_never_that_the_citizen_was_reached(world, steps, reason):
    task_id, _ = placed(world, steps)
    answer = poll(world, "anne", task_id)
    assert answer.status_code == 286  # htmx stops polling
    assert answer.headers["HX-Retarget"] == f"#task-{task_id}"
    assert answer.headers["HX-Reswap"] == "outerHTML"
    row = answer.get_data(as_text=True)
    assert f"Mislykkedes: {reason}" in row
    assert SUCCESS not in said(row) and "Borgeren er ringet op" not in row
    assert world.task("today").is_open and "hx-trigger" not in row.split("call-state")[1][:300]


@pytest.mark.parametrize(
    "steps", [(), ("sent",), ("sent", "agent_answered")], ids=["ordered", "sent", "agent answered"]
)
def test_no_success_is_shown_before_the_pbx_says_the_citizen_answered(world, steps):
    task_id, _ = placed(world, steps)
    for user in ("anne", "carl"):
        assert SUCCESS not in said(poll(world, user, task_id).get_data(as_text=True))
        page = world.client(user).get(f"/callbacks?task={task_id}").get_data(as_text=True)
        assert SUCCESS not in said(row_of(page, task_id))


def test_a_reached_citizen_closes_the_task_and_the_row_comes_back_whole(world):
    task_id, _ = placed(world, ("sent", "agent_answered", "reached"))
    answer = poll(world, "anne", task_id, open="1")
    assert answer.status_code == 286
    row = answer.get_data(as_text=True)
    assert row.startswith(f'<tbody id="task-{task_id}"') or f'<tbody id="task-{task_id}"' in row
    assert 'class="task closed selected"' in row  # open=1: it stays open in the page
    assert SUCCESS in row and "Borgeren er ringet op" in row
    assert "Til tiden" in row and "lukket af anne" in row
    assert world.task("today").state == "done"
    assert world.audit("anne")[0].action == "view.callback"


def test_the_ringing_row_polls_with_the_poll_header_and_a_decided_one_does_not(world):
    task_id, _ = placed(world, ("sent",))
    page = world.client("anne").get("/callbacks").get_data(as_text=True)
    state = re.search(r'<span id="call-\d+"[^>]*>', row_of(page, task_id))
    assert state is not None
    tag = state.group(0)
    assert f'hx-get="/callbacks/{task_id}/call"' in tag and 'hx-trigger="every 1s"' in tag
    assert """hx-headers='{"X-Phoneservice-Poll": "1"}'""" in tag
    world.queue.callbacks.resolve(world.task("today").attempts[-1].channel_id or "", "busy")
    page = world.client("anne").get("/callbacks").get_data(as_text=True)
    assert "hx-get" not in re.search(r'<span id="call-\d+"[^>]*>', row_of(page, task_id)).group(0)


def test_polling_a_call_keeps_no_idle_session_alive(world):
    task_id, _ = placed(world, ("sent",))
    client = world.client("anne")
    for _ in range(59):
        world.queue.clock.advance(minutes=1)
        answer = client.get(f"/callbacks/{task_id}/call", headers={**HX, **POLL})
        assert answer.status_code == 200
    world.queue.clock.advance(minutes=1)
    assert client.get(f"/callbacks/{task_id}/call", headers={**HX, **POLL}).status_code == 401


def test_a_call_of_another_units_task_is_not_found(world):
    task_id, _ = placed(world, ("sent",))
    assert poll(world, "bo", task_id).status_code == 404


def test_only_the_selected_task_is_open(world):
    client = world.client("anne")
    chosen = world.ids["today"]
    page = client.get(f"/callbacks?task={chosen}").get_data(as_text=True)
    assert 'class="task selected"' in row_of(page, chosen)
    assert 'aria-expanded="true"' in row_of(page, chosen)
    late = row_of(page, world.ids["late"])
    assert "selected" not in late.split(">")[0] and 'aria-expanded="false"' in late
    assert f'href="/callbacks?task={world.ids["late"]}#task-{world.ids["late"]}"' in late
    assert client.get("/callbacks?task=x1").status_code == 400


def test_a_finished_task_says_late_and_who_closed_it(world):
    client = world.client("anne")
    late = world.ids["late"]
    post(client, f"/callbacks/{late}/claim", force="1")  # carl holds nothing yet: anne takes it
    post(client, f"/callbacks/{late}/attempt", outcome="reached")
    page = client.get("/callbacks?state=done").get_data(as_text=True)
    row = row_of(page, late)
    assert "For sent" in row and "lukket af anne" in row and "Til tiden" not in row


def test_the_row_never_asks_for_a_channel_or_a_device(world):
    page = world.client("anne").get(f"/callbacks?task={world.ids['today']}").get_data(as_text=True)
    form = re.search(r'<form[^>]*class="call".*?</form>', row_of(page, world.ids["today"]), re.S)
    assert form is not None
    fields = re.findall(r'name="([^"]+)"', form.group(0))
    assert sorted(fields) == ["csrf_token", "list_state"]
