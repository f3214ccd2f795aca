"""The callback work queue ``/callbacks``: who sees what, actions with and without htmx,
refusals in Danish, the access log (SPEC §6, §9, §11).

Tasks are made the way production makes them: missed calls stored through
``CallService.store`` with the callback service wired in, at a fixed clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from phoneservice.domain.callbacks.rules import Callback
from phoneservice.present import wording
from phoneservice.registry import Registry, parse_registry
from phoneservice.services.audit import AuditEntry
from phoneservice.web.access import compact
from tests.conftest import LAB_HEADER, TODAY, at, lab_unit
from tests.services.test_callbacks import Queue, build_queue
from tests.staff import add_user, audit, csrf_token, login, staff_app

# Tuesday 2026-11-24 10:00 in Copenhagen: the clock of every test here.
NOW = at("2026-11-24T10:00")
NUMBER, OTHER, THIRD = "+4523119993", "+4540404040", "+4561616161"
HX = {"HX-Request": "true"}
EARLY_MORNING = '{ "mon-fri" = ["08:00-09:00"] }'
REGISTRY = (
    LAB_HEADER
    + lab_unit("borgerservice", "Borgerservice", "+45 70 10 10 10")
    + lab_unit("jobcenter", "Jobcenter", "+45 70 10 10 20")
    + lab_unit("tandplejen", "Tandplejen", "+45 70 10 10 30", hours=EARLY_MORNING)
)


# The staff of every test; each account is made when a test first signs in with it.
USERS = {
    "anne": ("agent", "jobcenter", "tandplejen"),
    "carl": ("agent", "jobcenter"),
    "bo": ("agent", "borgerservice"),
    "vera": ("viewer",),
    "ada": ("admin",),
    "nina": ("agent", "jobcenter"),
}
# Their own phones, as an admin sets them on the accounts ("Ring op" rings it first).
PHONES = {"anne": "PJSIP/anne", "carl": "PJSIP/carl", "bo": "PJSIP/bo", "ada": "PJSIP/ada"}


@dataclass
class World:
    """The app over a database holding four tasks, and the services that made them."""

    app: Flask
    queue: Queue
    url: str
    ids: dict[str, int]
    users: set[str] = field(default_factory=set)

    def client(self, username: str | None = None) -> FlaskClient:
        """A test client, signed in as ``username`` (one of USERS) when given."""
        client = self.app.test_client()
        if username is not None:
            if username not in self.users:  # argon2 is slow on purpose: only the accounts used
                role, *units = USERS[username]
                phone = PHONES.get(username)
                add_user(self.url, self.queue.clock, username, role, *units, device=phone)
                self.users.add(username)
            assert login(client, username) == 302
        return client

    def audit(self, actor: str) -> list[AuditEntry]:
        """The access log of ``actor``, newest first."""
        return audit(self.url, self.queue.clock).audit_log(actor=actor)

    def task(self, name: str) -> Callback:
        """The stored task ``name``."""
        return self.queue.callbacks.get(self.ids[name]).callback


def lab() -> Registry:
    """Borgerservice and the jobcenter open around the clock; Tandplejen 08-09 on weekdays."""
    return parse_registry(REGISTRY, "lab.toml", TODAY)


def missed(queue: Queue, when: str, unit: str, number: str) -> None:
    """Store one missed call of ``number`` to ``unit`` through the real services."""
    queue.store(queue.call(at(when), unit=unit, queue=unit, caller_number=number))


def make_world(url: str) -> Iterator[World]:
    """Four tasks at Tuesday 10:00: one overdue, two due today, one tomorrow."""
    for queue in build_queue(url, lab(), NOW):
        missed(queue, "2026-11-20T10:00", "jobcenter", NUMBER)  # due Monday 15:00: overdue
        missed(queue, "2026-11-20T10:05", "jobcenter", NUMBER)  # joins it
        missed(queue, "2026-11-23T09:00", "jobcenter", OTHER)  # due today 15:00
        missed(queue, "2026-11-23T09:30", "tandplejen", THIRD)  # due today 15:00, closed now
        missed(queue, "2026-11-24T09:00", "borgerservice", NUMBER)  # due tomorrow 15:00
        ids = {
            f"{v.callback.unit}:{v.callback.caller_number}": v.callback.id or 0
            for v in queue.callbacks.list()
        }
        named = {
            "late": ids[f"jobcenter:{NUMBER}"],
            "today": ids[f"jobcenter:{OTHER}"],
            "teeth": ids[f"tandplejen:{THIRD}"],
            "tomorrow": ids[f"borgerservice:{NUMBER}"],
        }
        yield World(staff_app(url, queue.callbacks.registry, queue.clock), queue, url, named)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    yield from make_world(database_url)


def row_of(page: str, task_id: int) -> str:
    """The tbody of one task in a page."""
    found = re.search(rf'<tbody id="task-{task_id}".*?</tbody>', page, re.S)
    assert found, f"task {task_id} is not on the page"
    return found.group(0)


def order(page: str) -> list[int]:
    """The task ids in the order the page lists them."""
    return [int(n) for n in re.findall(r'<tbody id="task-(\d+)"', page)]


def post(client: FlaskClient, path: str, htmx: bool = False, **form: str):
    """A form POST with the page's CSRF token, as the browser sends it."""
    form.setdefault("csrf_token", csrf_token(client, "/callbacks"))
    return client.post(path, data=form, headers=HX if htmx else {})


# ---------------------------------------------------------------- who may see what


def test_the_queue_needs_a_sign_in(world):
    client = world.client()
    for path in ("/callbacks", "/callbacks/rows"):
        answer = client.get(path)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/login?next=")
    answer = client.post(f"/callbacks/{world.ids['late']}/claim")
    assert answer.status_code in (302, 400)  # no session: to the login, or refused for CSRF
    assert world.task("late").claimed_by is None


def test_a_viewer_is_refused_with_a_danish_page(world):
    answer = world.client("vera").get("/callbacks")
    assert answer.status_code == 403
    assert "Ingen adgang" in answer.get_data(as_text=True)
    assert world.client("vera").get("/callbacks/rows").status_code == 403


def test_an_agent_sees_only_the_tasks_and_numbers_of_their_units(world):
    page = world.client("bo").get("/callbacks").get_data(as_text=True)
    assert order(page) == [world.ids["tomorrow"]]
    assert "+45 23 11 99 93" in page
    assert OTHER not in page and "+45 40 40 40 40" not in page
    assert 'name="unit"' not in page  # one unit: nothing to filter


def test_an_agent_of_several_units_can_filter_by_unit(world):
    client = world.client("anne")
    page = client.get("/callbacks").get_data(as_text=True)
    assert order(page) == [world.ids["late"], world.ids["today"], world.ids["teeth"]]
    assert 'name="unit"' in page and "Alle mine enheder" in page
    only = client.get("/callbacks?unit=tandplejen").get_data(as_text=True)
    assert order(only) == [world.ids["teeth"]]


def test_an_admin_sees_every_unit_and_can_filter(world):
    client = world.client("ada")
    page = client.get("/callbacks").get_data(as_text=True)
    assert len(order(page)) == 4
    assert "Alle enheder" in page
    assert order(client.get("/callbacks?unit=borgerservice").get_data(as_text=True)) == [
        world.ids["tomorrow"]
    ]


@pytest.mark.parametrize(
    ("user", "query", "status", "text"),
    [
        ("anne", "?unit=borgerservice", 403, "Ingen adgang"),
        ("anne", "?unit=atlantis", 404, "Enheden findes ikke"),
        ("anne", "?state=finished", 400, "Forespørgslen kan ikke læses"),
    ],
    ids=["unit-not-yours", "unknown-unit", "unknown-state"],
)
def test_bad_filters_answer_a_danish_page(world, user, query, status, text):
    answer = world.client(user).get("/callbacks" + query)
    assert answer.status_code == status
    assert text in answer.get_data(as_text=True)


def test_a_task_of_another_unit_cannot_be_touched(world):
    client = world.client("bo")
    answer = post(client, f"/callbacks/{world.ids['late']}/claim")
    assert answer.status_code == 404
    assert world.task("late").claimed_by is None
    assert post(client, "/callbacks/99999/claim").status_code == 404


# ---------------------------------------------------------------- what the page shows


def test_overdue_first_then_by_due_time_with_the_due_in_danish_words(world):
    page = world.client("ada").get("/callbacks").get_data(as_text=True)
    assert order(page) == [world.ids[n] for n in ("late", "today", "teeth", "tomorrow")]
    late = row_of(page, world.ids["late"])
    assert "FRIST OVERSKREDET" in late and 'class="task overdue"' in late
    assert "forfalden siden i går kl. 15:00" in late
    assert "2 ubesvarede opkald" in late and "første opkald fredag kl. 10:00" in late
    assert '<a class="phone" href="tel:+4523119993">+45 23 11 99 93</a>' in late
    today = row_of(page, world.ids["today"])
    assert "i dag kl. 15:00" in today and "FRIST OVERSKREDET" not in today
    assert "1 ubesvaret opkald" in today and "første opkald i går kl. 09:00" in today
    assert "i morgen kl. 15:00" in row_of(page, world.ids["tomorrow"])
    assert "4 opgaver" in page and "1 med overskredet frist" in page


def test_the_note_fields_say_that_case_content_belongs_elsewhere(world):
    page = world.client("anne").get("/callbacks").get_data(as_text=True)
    row = row_of(page, world.ids["today"])
    assert "Skriv ikke sagsoplysninger her – de hører til i sagssystemet." in row
    assert 'maxlength="280"' in row


def test_pages_are_not_cached_and_carry_no_inline_script_or_style(world):
    client = world.client("anne")
    for path in ("/callbacks", "/callbacks/rows"):
        answer = client.get(path)
        assert answer.headers["Cache-Control"] == "no-store"
        body = answer.get_data(as_text=True)
        assert "style=" not in body and "hx-on" not in body and " on" + "click" not in body
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", body))
    assert "script-src 'self'" in client.get("/callbacks").headers["Content-Security-Policy"]


def test_the_list_refreshes_itself_through_a_fragment(world):
    client = world.client("anne")
    page = client.get("/callbacks?state=open").get_data(as_text=True)
    assert 'hx-get="/callbacks/rows"' in page and 'hx-trigger="every 60s"' in page
    missed(world.queue, "2026-11-24T09:55", "jobcenter", "+4571717171")
    rows = client.get("/callbacks/rows").get_data(as_text=True)
    assert "<html" not in rows and "+45 71 71 71 71" in rows
    assert len(order(rows)) == 4


# ---------------------------------------------------------------- the access log


def test_every_view_of_the_list_is_in_the_access_log(world):
    client = world.client("anne")
    client.get("/callbacks")
    client.get("/callbacks/rows?unit=tandplejen")
    views = [e for e in world.audit("anne") if e.action == "view.callbacks"]
    refresh, page = views[0], views[1]
    assert page.subject == "jobcenter tandplejen"
    shown = compact([world.ids["late"], world.ids["today"], world.ids["teeth"]])
    assert page.detail == f"n=3 ids={shown}"
    assert (refresh.subject, refresh.detail) == ("tandplejen", f"n=1 ids={world.ids['teeth']}")
    assert page.remote_addr == "127.0.0.1"
    world.client("ada").get("/callbacks")
    assert world.audit("ada")[0].subject == "*"


def test_actions_are_in_the_access_log(world):
    client = world.client("anne")
    task_id = world.ids["today"]
    post(client, f"/callbacks/{task_id}/claim")
    post(client, f"/callbacks/{task_id}/attempt", outcome="no_answer", note="prøver igen kl. 12")
    post(client, f"/callbacks/{task_id}/cancel", reason="dublet")
    log = world.audit("anne")
    actions = [(e.action, e.subject, e.detail) for e in log if e.action.startswith("callback.")]
    assert actions == [
        ("callback.cancel", str(task_id), "state=cancelled"),
        ("callback.attempt", str(task_id), "outcome=no_answer state=open"),
        ("callback.claim", str(task_id), None),
    ]


# ---------------------------------------------------------------- actions without JavaScript


def test_claim_by_form_redirects_back_with_a_notice(world):
    client = world.client("anne")
    task_id = world.ids["today"]
    answer = post(client, f"/callbacks/{task_id}/claim", list_unit="jobcenter", list_state="open")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/callbacks?unit=jobcenter&task={task_id}#task-{task_id}"
    assert world.task("today").claimed_by == "anne"
    row = row_of(client.get(answer.headers["Location"]).get_data(as_text=True), task_id)
    assert "Du har taget opgaven." in row and "Frigiv" in row
    assert 'class="task selected"' in row  # the task just worked stays open


def test_attempts_by_form_then_reached_closes_the_task(world):
    client = world.client("anne")
    task_id = world.ids["today"]
    post(client, f"/callbacks/{task_id}/attempt", outcome="no_answer")
    assert [a.outcome for a in world.task("today").attempts] == ["no_answer"]
    post(client, f"/callbacks/{task_id}/attempt", outcome="reached", note="aftalt møde")
    task = world.task("today")
    assert (task.state, task.resolution, task.closed_by) == ("done", "called_back", "anne")
    page = client.get("/callbacks").get_data(as_text=True)
    assert task_id not in order(page)
    assert "Forsøget er gemt." in page  # the notice stays, above the list
    done = client.get("/callbacks?state=done").get_data(as_text=True)
    assert "Borgeren er ringet op" in row_of(done, task_id)


def test_a_form_without_its_csrf_token_is_refused(world):
    client = world.client("anne")
    answer = client.post(f"/callbacks/{world.ids['today']}/claim", data={})
    assert answer.status_code == 400
    assert "Formularen er udløbet" in answer.get_data(as_text=True)
    assert world.task("today").claimed_by is None


# ---------------------------------------------------------------- actions with htmx


def test_htmx_gets_just_the_row_back(world):
    client = world.client("anne")
    task_id = world.ids["today"]
    answer = post(client, f"/callbacks/{task_id}/claim", htmx=True, list_state="open")
    body = answer.get_data(as_text=True).strip()
    assert answer.status_code == 200
    assert body.startswith(f'<tbody id="task-{task_id}"') and body.endswith("</tbody>")
    assert "<html" not in body and "Du har taget opgaven." in body
    assert answer.headers["Cache-Control"] == "no-store"


def test_reached_by_htmx_says_the_task_leaves_the_list(world):
    client = world.client("anne")
    task_id = world.ids["today"]
    answer = post(client, f"/callbacks/{task_id}/attempt", htmx=True, outcome="reached")
    body = answer.get_data(as_text=True)
    assert "Borgeren er ringet op" in body
    assert "Opgaven forsvinder fra listen ved næste opdatering." in body
    assert "Gem forsøg" not in body


REFUSALS = [
    ("claimed-by-another", "carl", "attempt", {"outcome": "busy"}, "anne har taget opgaven"),
    ("bad-outcome", "anne", "attempt", {"outcome": "maybe"}, "Vælg, hvordan forsøget gik."),
    ("long-note", "anne", "attempt", {"outcome": "busy", "note": "x" * 281}, "højst være 280 tegn"),
    ("no-reason", "anne", "cancel", {"reason": "  "}, "Skriv en begrundelse"),
    ("no-phone", "nina", "call", {}, "Bed en administrator om at sætte din telefon."),
    ("release-unclaimed", "carl", "release", {}, "ikke taget af nogen"),
]


@pytest.mark.parametrize(
    ("user", "action", "form", "message"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_refusals_show_a_danish_message_on_the_row(world, user, action, form, message):
    task_id = world.ids["late"]
    if action != "release":
        post(world.client("anne"), f"/callbacks/{task_id}/claim")
    client = world.client(user)
    answer = post(client, f"/callbacks/{task_id}/{action}", htmx=True, **form)
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert 'class="row-problem"' in body and message in body
    assert len(world.task("late").attempts) == 0


def test_an_action_on_a_closed_task_is_refused_in_danish(world):
    client = world.client("anne")
    task_id = world.ids["today"]
    post(client, f"/callbacks/{task_id}/cancel", reason="dublet")
    answer = post(client, f"/callbacks/{task_id}/claim", htmx=True)
    assert "Opgaven er allerede lukket." in answer.get_data(as_text=True)
    plain = post(client, f"/callbacks/{task_id}/claim")
    assert plain.status_code == 303  # without htmx: back to the queue with the message


def test_placing_a_call_asks_for_confirmation_while_the_unit_is_closed(world):
    client = world.client("anne")
    task_id = world.ids["teeth"]
    path = f"/callbacks/{task_id}/call"
    refused = post(client, path, htmx=True).get_data(as_text=True)
    assert "Enheden har lukket nu" in refused and "Ring alligevel" in refused
    assert world.task("teeth").attempts == ()
    placed = post(client, path, htmx=True, confirm_closed="1")
    assert "Opkaldet er bestilt" in placed.get_data(as_text=True)
    (attempt,) = world.task("teeth").attempts
    assert (attempt.status, attempt.agent_device, attempt.by) == ("requested", "PJSIP/anne", "anne")
    entry = world.audit("anne")[0]
    assert (entry.action, entry.detail) == (
        "callback.originate",
        f"channel_id={attempt.channel_id} device=PJSIP/anne",
    )
    page = client.get("/callbacks").get_data(as_text=True)
    assert 'name="agent_device"' not in page  # the page names no device: the account does
    assert "ringer først til din telefon PJSIP/anne" in page


def test_the_call_form_cannot_name_the_device_that_rings(world):
    """A posted agent_device is ignored: the call rings the phone set on the account."""
    client = world.client("anne")
    path = f"/callbacks/{world.ids['today']}/call"
    post(client, path, htmx=True, agent_device="Local/004790000000@outbound-trunk")
    (attempt,) = world.task("today").attempts
    assert attempt.agent_device == "PJSIP/anne"


def test_an_agent_without_a_phone_is_told_to_ask_an_admin(world):
    client = world.client("nina")
    page = client.get("/callbacks").get_data(as_text=True)
    assert "Du har ingen telefon sat op" in page and "Ring op" in page
    answer = post(client, f"/callbacks/{world.ids['today']}/call", htmx=True)
    assert "Bed en administrator om at sætte din telefon." in answer.get_data(as_text=True)
    assert world.task("today").attempts == ()


def test_an_admin_can_take_over_a_claimed_task(world):
    task_id = world.ids["late"]
    post(world.client("anne"), f"/callbacks/{task_id}/claim")
    carl = post(world.client("carl"), f"/callbacks/{task_id}/claim", htmx=True, force="1")
    assert "anne har taget opgaven" in carl.get_data(as_text=True)  # force is for admins only
    post(world.client("ada"), f"/callbacks/{task_id}/claim", force="1")
    assert world.task("late").claimed_by == "ada"


# ---------------------------------------------------------------- the words


DUE = [
    ("overdue-yesterday", "2026-11-23T15:00", "forfalden siden i går kl. 15:00"),
    ("overdue-today", "2026-11-24T09:00", "forfalden siden i dag kl. 09:00"),
    ("overdue-friday", "2026-11-20T15:00", "forfalden siden fredag kl. 15:00"),
    ("today", "2026-11-24T15:00", "i dag kl. 15:00"),
    ("tomorrow", "2026-11-25T15:00", "i morgen kl. 15:00"),
    ("next-monday", "2026-11-30T15:00", "mandag kl. 15:00"),
    ("far", "2026-12-08T15:00", "8. december kl. 15:00"),
    ("next-year", "2027-06-01T15:00", "1. juni 2027 kl. 15:00"),
]


@pytest.mark.parametrize(("due", "words"), [d[1:] for d in DUE], ids=[d[0] for d in DUE])
def test_due_times_in_danish_words(due: str, words: str) -> None:
    assert wording.due(at(due), NOW) == words


def test_due_words_use_the_local_day_of_an_utc_instant() -> None:
    from datetime import UTC

    late_evening = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 23:30 in Copenhagen, today
    assert wording.due(late_evening, NOW) == "i dag kl. 23:30"


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("+4523119993", "+45 23 11 99 93"),
        ("23119993", "23 11 99 93"),
        ("+46701234567", "+46701234567"),
        ("", ""),
    ],
    ids=["danish", "without-prefix", "foreign", "empty"],
)
def test_numbers_are_grouped_for_reading(number: str, text: str) -> None:
    assert wording.phone(number) == text


def test_a_task_the_purge_expired_says_so_in_danish(world):
    """A task left open past retention is closed as expired, and the queue says so."""
    from datetime import timedelta

    report = world.queue.callbacks.purge(NOW + timedelta(days=400))
    assert report.expired == 4
    client = world.client("ada")
    page = client.get("/callbacks?state=unreachable").get_data(as_text=True)
    row = row_of(page, world.ids["late"])
    assert "Udløbet: åben længere end opbevaringstiden" in row
    assert "unreachable" not in row.replace("state=unreachable", "")  # no raw code shown
