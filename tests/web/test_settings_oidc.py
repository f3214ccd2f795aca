"""The identity provider's settings: all four or none, the secret from its file, the role map."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phoneservice.bootstrap import build
from phoneservice.settings import RoleGrant, Settings, SettingsError
from phoneservice.web import create_app
from tests.conftest import SHIPPED_CONFIG

ROLE_MAP = {
    "grp-borgerservice-agents": {"role": "agent", "units": ["borgerservice", "jobcenter"]},
    "grp-it-admins": {"role": "admin"},
    "grp-ledere": {"role": "viewer"},
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    secret = tmp_path / "oidc-secret"
    secret.write_text("  the-client-secret-from-the-file\n", encoding="utf-8")
    return {
        "PHONESERVICE_OIDC_ISSUER": "https://login.microsoftonline.com/tenant-id/v2.0",
        "PHONESERVICE_OIDC_CLIENT_ID": "c0ffee-client",
        "PHONESERVICE_OIDC_CLIENT_SECRET_FILE": str(secret),
        "PHONESERVICE_OIDC_ROLE_MAP": json.dumps(ROLE_MAP),
    }


def test_without_the_settings_there_is_no_identity_provider():
    assert Settings.from_env({}).oidc is None


def test_the_four_settings_make_the_identity_provider(env):
    oidc = Settings.from_env(env).oidc
    assert oidc is not None
    assert oidc.issuer == "https://login.microsoftonline.com/tenant-id/v2.0"
    assert oidc.discovery_url == (
        "https://login.microsoftonline.com/tenant-id/v2.0/.well-known/openid-configuration"
    )
    assert oidc.client_id == "c0ffee-client"
    assert oidc.client_secret == "the-client-secret-from-the-file"
    assert oidc.groups_claim == "groups"
    assert oidc.role_map == {
        "grp-borgerservice-agents": RoleGrant("agent", frozenset({"borgerservice", "jobcenter"})),
        "grp-it-admins": RoleGrant("admin"),
        "grp-ledere": RoleGrant("viewer"),
    }


def test_the_client_secret_is_never_in_the_settings_repr(env):
    settings = Settings.from_env(env)
    assert "the-client-secret-from-the-file" not in repr(settings)
    assert "c0ffee-client" in repr(settings)


def test_the_groups_claim_can_be_another(env):
    env["PHONESERVICE_OIDC_GROUPS_CLAIM"] = "roles"
    oidc = Settings.from_env(env).oidc
    assert oidc is not None and oidc.groups_claim == "roles"


@pytest.mark.parametrize(
    "missing",
    [
        "PHONESERVICE_OIDC_ISSUER",
        "PHONESERVICE_OIDC_CLIENT_ID",
        "PHONESERVICE_OIDC_CLIENT_SECRET_FILE",
        "PHONESERVICE_OIDC_ROLE_MAP",
    ],
)
def test_one_setting_missing_is_named(env, missing):
    del env[missing]
    with pytest.raises(SettingsError, match=rf"^{missing} is not set"):
        Settings.from_env(env)


def test_an_unreadable_secret_file_is_named_without_its_content(env, tmp_path):
    env["PHONESERVICE_OIDC_CLIENT_SECRET_FILE"] = str(tmp_path / "absent")
    with pytest.raises(SettingsError, match=r"^PHONESERVICE_OIDC_CLIENT_SECRET_FILE: cannot read"):
        Settings.from_env(env)


def test_an_empty_secret_file_is_refused(env, tmp_path):
    (tmp_path / "oidc-secret").write_text("\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"^PHONESERVICE_OIDC_CLIENT_SECRET_FILE: .* is empty"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "issuer",
    [
        "http://login.kommune.dk/adfs",  # plain http beyond loopback
        "login.kommune.dk",
        "https://login.kommune.dk/adfs?tenant=1",
        "ftp://login.kommune.dk",
    ],
)
def test_a_bad_issuer_is_refused(env, issuer):
    env["PHONESERVICE_OIDC_ISSUER"] = issuer
    with pytest.raises(SettingsError, match=r"^PHONESERVICE_OIDC_ISSUER="):
        Settings.from_env(env)


def test_plain_http_is_allowed_on_loopback_only(env):
    env["PHONESERVICE_OIDC_ISSUER"] = "http://127.0.0.1:8080"
    oidc = Settings.from_env(env).oidc
    assert oidc is not None and oidc.issuer == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("role_map", "complaint"),
    [
        ("grp=agent", "not JSON"),
        ("[]", "JSON object of group to role"),
        ("{}", "JSON object of group to role"),
        ('{"grp": "agent"}', "group 'grp'"),
        ('{"grp": {"role": "boss"}}', "role 'boss': use one of viewer, agent, admin"),
        ('{"grp": {"role": "agent", "units": "borgerservice"}}', "units must be a list"),
        ('{"grp": {"role": "agent", "units": [""]}}', "units must be a list"),
        ('{"grp": {"role": "admin", "units": ["jobcenter"]}}', "only agents have units"),
        ('{"grp": {"role": "agent", "unit": ["jobcenter"]}}', "unknown keys"),
    ],
)
def test_a_bad_role_map_is_refused_at_start_up(env, role_map, complaint):
    env["PHONESERVICE_OIDC_ROLE_MAP"] = role_map
    with pytest.raises(SettingsError, match=r"^PHONESERVICE_OIDC_ROLE_MAP: ") as refused:
        Settings.from_env(env)
    assert complaint in str(refused.value)


def test_a_unit_the_registry_lacks_is_refused_where_the_app_is_built(env, shipped, tmp_path):
    env["PHONESERVICE_OIDC_ROLE_MAP"] = json.dumps(
        {"grp-x": {"role": "agent", "units": ["borgerservice", "no-such-unit"]}}
    )
    env["PHONESERVICE_CONFIG"] = str(SHIPPED_CONFIG)
    env["PHONESERVICE_INSTANCE"] = str(tmp_path)
    settings = Settings.from_env(env)
    with pytest.raises(SettingsError, match="'no-such-unit' is not in the registry") as refused:
        create_app(build(settings, registry=shipped))
    assert str(refused.value).startswith("PHONESERVICE_OIDC_ROLE_MAP: group 'grp-x'")


def test_the_units_of_the_registry_are_accepted(env, shipped, tmp_path):
    env["PHONESERVICE_INSTANCE"] = str(tmp_path)
    app = create_app(build(Settings.from_env(env), registry=shipped))
    assert "oidc.start" in app.view_functions
