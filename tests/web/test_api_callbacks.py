"""The authenticated JSON API for calls and callback tasks (SPEC §8, §9, §11).

The same four tasks as the page's tests (tests/web/test_web_callbacks.py), reached with a
bearer token or a signed-in session.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from phoneservice.registry import parse_registry
from phoneservice.web.openapi.document import document
from tests.conftest import TODAY
from tests.staff import csrf_token, staff_app, tokens
from tests.web.test_web_api import check
from tests.web.test_web_callbacks import NUMBER, OTHER, REGISTRY, World, make_world

API = "/api/v1"
DOC = document()
ROUTES = [
    ("GET", "/calls"),
    ("GET", "/callbacks"),
    ("GET", "/callbacks/{id}"),
    ("POST", "/callbacks/{id}/attempts"),
    ("POST", "/callbacks/{id}/originate"),
    ("POST", "/callbacks/{id}/claim"),
    ("POST", "/callbacks/{id}/release"),
    ("POST", "/callbacks/{id}/cancel"),
]


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    yield from make_world(database_url)


def token(world: World, *scopes: str, units: list[str] | None = None) -> dict[str, str]:
    """The Authorization header of a fresh token."""
    service = tokens(world.url, world.queue.clock)
    _, secret = service.issue_token("crm", scopes or ("callbacks",), units=units, actor="ada")
    return {"Authorization": f"Bearer {secret}"}


def call(
    client: FlaskClient,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> Any:
    """One API request; a body is sent as JSON."""
    payload = {} if body is None else {"data": json.dumps(body), "content_type": "application/json"}
    return client.open(API + path, method=method, headers=headers or {}, **payload)


def conforms(path: str, method: str, answer: Any) -> None:
    """The answer matches what the OpenAPI document declares for it."""
    template = "/api/v1" + path.split("?")[0]
    for name, item in DOC["paths"].items():
        pattern = name.replace("{callback_id}", "[0-9]+")
        if re.fullmatch(pattern, template):
            declared = item[method.lower()]["responses"][str(answer.status_code)]
            check(answer.get_json(), declared["content"]["application/json"]["schema"])
            return
    raise AssertionError(f"{template} is not in the OpenAPI document")


# ---------------------------------------------------------------- who may ask


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_route_needs_a_token_or_a_session(world, method, path):
    answer = call(world.client(), method, path.replace("{id}", str(world.ids["late"])))
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_a_read_status_token_and_a_viewer_are_forbidden(world, method, path):
    url = path.replace("{id}", str(world.ids["late"]))
    weak = call(world.client(), method, url, token(world, "read-status"))
    assert (weak.status_code, weak.get_json()["error"]) == (403, "forbidden")
    viewer = world.client("vera")
    headers = {"X-CSRFToken": csrf_token(viewer, "/")}
    assert call(viewer, method, url, headers, {}).status_code == 403
    assert world.task("late").claimed_by is None


def test_a_bad_token_is_unauthorized(world):
    answer = call(world.client(), "GET", "/callbacks", {"Authorization": "Bearer psk_nope"})
    assert answer.status_code == 401


def test_a_token_sees_only_its_units(world):
    headers = token(world, units=["borgerservice"])
    client = world.client()
    listed = call(client, "GET", "/callbacks", headers).get_json()
    assert [t["id"] for t in listed] == [world.ids["tomorrow"]]
    assert listed[0]["caller_number"] == NUMBER
    outside = call(client, "GET", "/callbacks?unit=jobcenter", headers)
    assert (outside.status_code, outside.get_json()["error"]) == (403, "forbidden")
    hidden = call(client, "GET", f"/callbacks/{world.ids['late']}", headers)
    assert (hidden.status_code, hidden.get_json()["error"]) == (404, "not_found")
    claim = call(client, "POST", f"/callbacks/{world.ids['late']}/claim", headers)
    assert claim.status_code == 404
    assert call(client, "GET", "/callbacks/99999", headers).status_code == 404
    assert call(client, "GET", f"/callbacks/{10**30}", headers).status_code == 404  # not a 500


def test_an_agent_session_reads_its_units_and_an_admin_all(world):
    anne = call(world.client("anne"), "GET", "/callbacks").get_json()
    assert {t["unit"] for t in anne} == {"jobcenter", "tandplejen"}
    everything = call(world.client("ada"), "GET", "/callbacks?state=open")
    assert len(everything.get_json()) == 4
    conforms("/callbacks", "GET", everything)


# ---------------------------------------------------------------- reading


def test_callbacks_have_the_shape_of_the_command_line(world):
    answer = call(world.client(), "GET", "/callbacks?unit=jobcenter", token(world))
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    first = answer.get_json()[0]
    assert list(first)[:9] == [
        "id",
        "unit",
        "caller_number",
        "state",
        "created_at",
        "due_at",
        "missed_calls",
        "attempts",
        "resolution",
    ]
    assert (first["id"], first["caller_number"], first["missed_calls"]) == (
        world.ids["late"],
        NUMBER,
        2,
    )
    assert first["due_at"] == "2026-11-23T15:00:00+01:00" and first["overdue"] is True
    conforms("/callbacks", "GET", answer)


def test_one_callback(world):
    path = f"/callbacks/{world.ids['today']}"
    answer = call(world.client(), "GET", path, token(world))
    assert answer.get_json()["caller_number"] == OTHER
    conforms(path, "GET", answer)


def test_calls_show_numbers_only_of_the_principals_units(world):
    answer = call(world.client("bo"), "GET", "/calls")
    calls = answer.get_json()
    assert answer.status_code == 200 and len(calls) == 5
    numbers = {(c["unit"], c["caller_number"]) for c in calls}
    assert numbers == {
        ("borgerservice", NUMBER),
        ("jobcenter", None),
        ("tandplejen", None),
    }
    assert all(c["caller_name"] is None for c in calls if c["unit"] != "borgerservice")
    assert calls[0]["arrived_at"] == "2026-11-20T10:00:00+01:00"
    conforms("/calls", "GET", answer)


def test_calls_filter_by_unit_dates_and_limit(world):
    client, headers = world.client(), token(world)
    by_unit = call(client, "GET", "/calls?unit=jobcenter", headers).get_json()
    assert len(by_unit) == 3 and {c["caller_number"] for c in by_unit} == {NUMBER, OTHER}
    monday = call(client, "GET", "/calls?from=2026-11-23&to=2026-11-23", headers).get_json()
    assert [c["arrived_at"][:10] for c in monday] == ["2026-11-23", "2026-11-23"]
    assert len(call(client, "GET", "/calls?limit=2", headers).get_json()) == 2


BAD = [
    ("calls-from", "/calls?from=yesterday", "from"),
    ("calls-to", "/calls?to=2026-13-01", "to"),
    ("calls-to-before-from", "/calls?from=2026-11-24&to=2026-11-23", "to"),
    ("calls-limit-zero", "/calls?limit=0", "limit"),
    ("calls-limit-text", "/calls?limit=ten", "limit"),
    ("calls-limit-large", "/calls?limit=1001", "limit"),
    ("callbacks-state", "/callbacks?state=finished", "state"),
]


@pytest.mark.parametrize(("path", "name"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_parameters_are_400(world, path, name):
    answer = call(world.client(), "GET", path, token(world))
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "bad_request"
    assert answer.get_json()["detail"].startswith(name + ":")


@pytest.mark.parametrize("path", ["/calls?unit=atlantis", "/callbacks?unit=atlantis"])
def test_unknown_units_are_404(world, path):
    answer = call(world.client(), "GET", path, token(world))
    assert (answer.status_code, answer.get_json()["error"]) == (404, "unknown_unit")


# ---------------------------------------------------------------- acting


def test_attempts_then_reached_closes_the_task(world):
    client, headers = world.client(), token(world)
    path = f"/callbacks/{world.ids['today']}/attempts"
    first = call(client, "POST", path, headers, {"outcome": "no_answer", "note": "ring kl. 12"})
    assert first.status_code == 201
    assert first.get_json()["attempts"][0]["outcome"] == "no_answer"
    conforms(path, "POST", first)
    done = call(client, "POST", path, headers, {"outcome": "reached"}).get_json()
    assert (done["state"], done["resolution"], done["closed_by"]) == (
        "done",
        "called_back",
        "token:crm",
    )
    again = call(client, "POST", path, headers, {"outcome": "reached"})
    assert (again.status_code, again.get_json()["error"]) == (409, "invalid_transition")


BAD_BODIES = [
    ("not-json", "attempts", "outcome=reached", "body"),
    ("a-list", "attempts", ["reached"], "body"),
    ("unknown-outcome", "attempts", {"outcome": "maybe"}, "outcome"),
    ("no-outcome", "attempts", {}, "outcome"),
    ("long-note", "attempts", {"outcome": "busy", "note": "x" * 281}, "note"),
    ("note-not-text", "attempts", {"outcome": "busy", "note": 7}, "note"),
    ("device-with-newline", "originate", {"agent_device": "PJSIP/a\r\nAction: x"}, "agent_device"),
    ("any-device", "originate", {"agent_device": "PJSIP/anne"}, "agent_device"),
    ("confirm-not-bool", "originate", {"confirm_closed": "yes"}, "confirm_closed"),
    ("no-reason", "cancel", {"reason": " "}, "reason"),
    ("long-reason", "cancel", {"reason": "x" * 281}, "reason"),
    ("force-not-bool", "claim", {"force": 1}, "force"),
]


@pytest.mark.parametrize(
    ("action", "body", "name"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES]
)
def test_bad_bodies_are_400(world, action, body, name):
    client = world.client()
    url = f"{API}/callbacks/{world.ids['late']}/{action}"
    headers = token(world)
    if isinstance(body, str):
        answer = client.post(url, data=body, headers=headers, content_type="text/plain")
    else:
        answer = client.post(url, json=body, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "bad_request"
    assert answer.get_json()["detail"].startswith(name + ":")
    assert world.task("late").attempts == () and world.task("late").claimed_by is None


def test_claim_release_cancel(world):
    client, headers = world.client(), token(world)
    base = f"/callbacks/{world.ids['late']}"
    assert call(client, "POST", base + "/claim", headers).get_json()["claimed_by"] == "token:crm"
    assert call(client, "POST", base + "/release", headers).get_json()["claimed_by"] is None
    cancelled = call(client, "POST", base + "/cancel", headers, {"reason": "dublet"})
    assert cancelled.status_code == 200
    assert (cancelled.get_json()["state"], cancelled.get_json()["cancel_reason"]) == (
        "cancelled",
        "dublet",
    )


def test_a_claim_held_by_another_is_409_and_force_is_for_admins(world):
    anne = world.client("anne")
    headers = {"X-CSRFToken": csrf_token(anne, "/callbacks")}
    base = f"/callbacks/{world.ids['late']}"
    assert call(anne, "POST", base + "/claim", headers).status_code == 200
    carl = world.client("carl")
    carl_headers = {"X-CSRFToken": csrf_token(carl, "/callbacks")}
    refused = call(carl, "POST", base + "/attempts", carl_headers, {"outcome": "busy"})
    assert (refused.status_code, refused.get_json()["error"]) == (409, "claimed")
    forced = call(carl, "POST", base + "/claim", carl_headers, {"force": True})
    assert forced.status_code == 403
    ada = world.client("ada")
    taken = call(
        ada, "POST", base + "/claim", {"X-CSRFToken": csrf_token(ada, "/")}, {"force": True}
    )
    assert taken.get_json()["claimed_by"] == "ada"


def test_a_session_write_needs_the_csrf_header(world):
    anne = world.client("anne")
    path = f"/callbacks/{world.ids['today']}/attempts"
    refused = call(anne, "POST", path, body={"outcome": "busy"})
    assert (refused.status_code, refused.get_json()["error"]) == (400, "csrf")
    assert world.task("today").attempts == ()
    headers = {"X-CSRFToken": csrf_token(anne, "/callbacks")}
    assert call(anne, "POST", path, headers, {"outcome": "busy"}).status_code == 201


def session_of(world: World, username: str) -> tuple[FlaskClient, dict[str, str]]:
    """A client signed in as ``username`` and the CSRF header its API writes need."""
    client = world.client(username)
    return client, {"X-CSRFToken": csrf_token(client, "/callbacks")}


def test_originate_while_closed_needs_confirmation(world):
    client, headers = session_of(world, "anne")
    path = f"/callbacks/{world.ids['teeth']}/originate"
    closed = call(client, "POST", path, headers, {})
    assert (closed.status_code, closed.get_json()["error"]) == (409, "unit_closed")
    conforms(path, "POST", closed)
    placed = call(client, "POST", path, headers, {"confirm_closed": True})
    assert placed.status_code == 202
    body = placed.get_json()
    assert body["channel_id"].startswith(f"cb{world.ids['teeth']}-")
    assert body["callback"]["attempts"][0]["status"] == "requested"
    conforms(path, "POST", placed)
    (attempt,) = world.task("teeth").attempts
    assert attempt.agent_device == "PJSIP/anne"  # the phone set on anne's account
    busy = call(client, "POST", path, headers, {"confirm_closed": True})
    assert (busy.status_code, busy.get_json()["error"]) == (409, "call_in_flight")


def test_originate_while_open_needs_no_confirmation_and_no_body(world):
    client, headers = session_of(world, "anne")
    path = f"/callbacks/{world.ids['today']}/originate"
    assert call(client, "POST", path, headers).status_code == 202


FINDING = {"agent_device": "Local/004790000000@outbound-trunk"}


@pytest.mark.parametrize("who", ["anne", "token"])
def test_a_request_cannot_name_the_device_that_rings(world, who):
    """The finding: any agent or token made the PBX dial anything as the citizen."""
    client, headers = (world.client(), token(world)) if who == "token" else session_of(world, who)
    path = f"/callbacks/{world.ids['today']}/originate"
    answer = call(client, "POST", path, headers, FINDING)
    assert (answer.status_code, answer.get_json()["error"]) == (400, "bad_request")
    assert "the call rings the phone an admin set on your account" in answer.get_json()["detail"]
    assert "0047" not in answer.get_json()["detail"]
    conforms(path, "POST", answer)
    assert world.task("today").attempts == ()
    assert world.queue.callbacks.due_originates() == []


def test_a_token_cannot_originate(world):
    path = f"/callbacks/{world.ids['today']}/originate"
    answer = call(world.client(), "POST", path, token(world), {"confirm_closed": True})
    assert (answer.status_code, answer.get_json()["error"]) == (403, "forbidden")
    assert "token belongs to no person" in answer.get_json()["detail"]
    conforms(path, "POST", answer)
    assert world.task("today").attempts == () and world.task("today").claimed_by is None


def test_an_agent_without_a_phone_cannot_originate(world):
    client, headers = session_of(world, "nina")
    path = f"/callbacks/{world.ids['today']}/originate"
    answer = call(client, "POST", path, headers, {})
    assert (answer.status_code, answer.get_json()["error"]) == (409, "no_device")
    assert "ask an admin to set your phone" in answer.get_json()["detail"]
    conforms(path, "POST", answer)
    assert world.task("today").attempts == ()


def test_a_phone_the_changed_pattern_refuses_cannot_originate(world):
    """anne's PJSIP phone was allowed when set; the registry now allows SIP phones only."""
    text = REGISTRY + "\n[pbx]\nagent_device_pattern = 'SIP/[a-z]{1,20}'\n"
    world.app = staff_app(world.url, parse_registry(text, "lab.toml", TODAY), world.queue.clock)
    client, headers = session_of(world, "anne")
    path = f"/callbacks/{world.ids['today']}/originate"
    answer = call(client, "POST", path, headers, {})
    assert (answer.status_code, answer.get_json()["error"]) == (409, "device_refused")
    assert "PJSIP" not in answer.get_json()["detail"]
    conforms(path, "POST", answer)
    assert world.task("today").attempts == ()
    assert world.queue.callbacks.due_originates() == []


# ---------------------------------------------------------------- the access log


def test_every_look_and_action_is_in_the_access_log(world):
    client, headers = world.client(), token(world, units=["jobcenter"])
    call(client, "GET", "/calls?unit=jobcenter", headers)
    call(client, "GET", "/callbacks", headers)
    call(client, "GET", f"/callbacks/{world.ids['late']}", headers)
    call(client, "POST", f"/callbacks/{world.ids['late']}/claim", headers)
    call(client, "POST", f"/callbacks/{world.ids['late']}/attempts", headers, {"outcome": "busy"})
    call(client, "POST", f"/callbacks/{world.ids['late']}/cancel", headers, {"reason": "dublet"})
    entries = [(e.action, e.subject, e.detail) for e in reversed(world.audit("token:crm"))]
    late = str(world.ids["late"])
    calls, tasks, *rest = entries
    assert calls[:2] == ("view.calls", "jobcenter") and calls[2].startswith("n=3 ids=")
    assert tasks == ("view.callbacks", "jobcenter", f"n=2 ids={_ids(world, 'late', 'today')}")
    assert rest == [
        ("view.callback", late, None),
        ("callback.claim", late, None),
        ("callback.attempt", late, "outcome=busy state=open"),
        ("callback.cancel", late, "state=cancelled"),
    ]
    assert all(e.remote_addr == "127.0.0.1" for e in world.audit("token:crm"))


def test_refused_and_bad_requests_write_no_action_entry(world):
    client, headers = world.client(), token(world)
    call(client, "POST", f"/callbacks/{world.ids['late']}/attempts", headers, {"outcome": "x"})
    call(
        client,
        "POST",
        f"/callbacks/{world.ids['teeth']}/originate",
        headers,
        {"agent_device": "PJSIP/a"},
    )
    assert [e for e in world.audit("token:crm") if e.action.startswith("callback.")] == []


def _ids(world: World, *names: str) -> str:
    from phoneservice.web.access import compact

    return compact(world.ids[n] for n in names)
