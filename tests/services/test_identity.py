"""Groups to a role and units, and the local account of a person the provider signs in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from phoneservice.services.accounts import AccountError, AccountService, cheap_hasher
from phoneservice.services.audit import AuditService
from phoneservice.services.identity import (
    Identity,
    IdentityService,
    SignInRefused,
    base_username,
    check_role_map,
    grant_for,
)
from phoneservice.settings import RoleGrant, SettingsError
from phoneservice.storage.engine import create_engine_for, session_factory
from tests.conftest import Clock

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ISSUER = "https://login.microsoftonline.com/tenant/v2.0"
ROLE_MAP = {
    "agents-bs": RoleGrant("agent", frozenset({"borgerservice"})),
    "agents-jc": RoleGrant("agent", frozenset({"jobcenter", "ydelsescenter"})),
    "viewers": RoleGrant("viewer"),
    "admins": RoleGrant("admin"),
}


def person(*groups: str, username: str | None = "anne@kommune.dk", sub: str = "s-1") -> Identity:
    return Identity(ISSUER, sub, username, "Anne Andersen", frozenset(groups))


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (["agents-bs"], RoleGrant("agent", frozenset({"borgerservice"}))),
        (
            ["agents-bs", "agents-jc"],
            RoleGrant("agent", frozenset({"borgerservice", "jobcenter", "ydelsescenter"})),
        ),
        (["viewers", "agents-jc"], RoleGrant("agent", frozenset({"jobcenter", "ydelsescenter"}))),
        (["agents-bs", "admins", "viewers"], RoleGrant("admin")),
        (["viewers", "kantine"], RoleGrant("viewer")),
        (["kantine"], None),
        ([], None),
    ],
)
def test_the_highest_role_wins_and_the_units_add_up(groups, expected):
    assert grant_for(groups, ROLE_MAP) == expected


def test_the_role_map_may_name_only_the_registrys_units():
    check_role_map(ROLE_MAP, ["borgerservice", "jobcenter", "ydelsescenter", "other"])
    with pytest.raises(SettingsError, match="group 'agents-jc': unit 'ydelsescenter'"):
        check_role_map(ROLE_MAP, ["borgerservice", "jobcenter"])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("anne@kommune.dk", "anne"),
        ("Anne.Andersen@Kommune.DK", "anne.andersen"),
        ("KOMMUNE\\anne b", "kommune-anne-b"),
        ("æ", "user"),
        (None, "user"),
        ("-" * 3 + "x" * 80, "x" * 60),
    ],
)
def test_the_username_comes_from_the_providers_name(given, expected):
    assert base_username(person(username=given)) == expected


@pytest.fixture
def services(database_url: str) -> tuple[IdentityService, AccountService, AuditService]:
    sessions = session_factory(create_engine_for(database_url))
    clock = Clock(NOW)
    return (
        IdentityService(sessions, clock),
        AccountService(sessions, clock, cheap_hasher()),
        AuditService(sessions, clock),
    )


def test_a_first_sign_in_makes_the_account_and_a_second_finds_it(services):
    identity, accounts, log = services
    first = identity.sign_in(person("agents-bs"), ROLE_MAP, "10.0.0.7")
    again = identity.sign_in(person("agents-bs"), ROLE_MAP, "10.0.0.8")
    assert first == again
    assert (first.username, first.role, first.units) == ("anne", "agent", {"borgerservice"})
    assert len(accounts.users()) == 1
    logins = [e for e in log.audit_log() if e.action == "login"]
    assert [(e.actor, e.detail, e.remote_addr) for e in logins] == [
        ("anne", "method=oidc", "10.0.0.8"),
        ("anne", "method=oidc", "10.0.0.7"),
    ]


def test_no_role_stores_nothing(services):
    identity, accounts, log = services
    with pytest.raises(SignInRefused) as refused:
        identity.sign_in(person("kantine"), ROLE_MAP, None)
    assert refused.value.reason == "no_role"
    assert accounts.users() == [] and log.audit_log() == []


def test_the_groups_of_each_sign_in_decide_role_and_units(services):
    identity, _, log = services
    identity.sign_in(person("admins"), ROLE_MAP, None)
    user = identity.sign_in(person("agents-jc"), ROLE_MAP, None)
    assert (user.role, user.units) == ("agent", {"jobcenter", "ydelsescenter"})
    assert [e.detail for e in log.audit_log(actor="oidc")] == [
        "role=agent units=jobcenter ydelsescenter method=oidc",
        "role=admin units= method=oidc",
    ]


def test_a_disabled_account_stays_out(services):
    identity, accounts, _ = services
    identity.sign_in(person("agents-bs"), ROLE_MAP, None)
    accounts.update_user("anne", role="agent", units=[], active=False, actor="admin")
    with pytest.raises(SignInRefused) as refused:
        identity.sign_in(person("admins"), ROLE_MAP, None)
    assert refused.value.reason == "disabled"
    (user,) = accounts.users()
    assert (user.role, user.active) == ("agent", False)  # the refused sign-in changed nothing


def test_local_accounts_keep_their_names_and_the_next_free_one_is_used(services):
    identity, accounts, _ = services
    accounts.add_user("anne", "a local password", "admin")
    accounts.add_user("anne-2", "a local password", "viewer")
    user = identity.sign_in(person("agents-bs"), ROLE_MAP, None)
    assert user.username == "anne-3"
    other = identity.sign_in(person("viewers", sub="s-2"), ROLE_MAP, None)
    assert other.username == "anne-4"  # the same name at the provider, another person
    assert {u.username: u.role for u in accounts.users()} == {
        "anne": "admin",
        "anne-2": "viewer",
        "anne-3": "agent",
        "anne-4": "viewer",
    }


def test_the_account_has_no_password(services):
    identity, accounts, _ = services
    identity.sign_in(person("admins"), ROLE_MAP, None)
    for guess in ("", "!oidc", "anne", "a local password"):
        assert accounts.authenticate("anne", guess, "10.0.0.1") is None


def test_no_password_can_be_set_for_an_account_of_the_provider(services):
    identity, accounts, _ = services
    identity.sign_in(person("agents-bs"), ROLE_MAP, None)
    with pytest.raises(AccountError, match="signs in through the identity provider"):
        accounts.set_password("anne", "a long enough password", actor="admin")
    assert accounts.authenticate("anne", "a long enough password", "10.0.0.1") is None
