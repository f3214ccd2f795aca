"""Offline checks of ``deploy/``: what can be verified without systemd, nginx, Docker or a PBX.

Each external tool (``systemd-analyze``, ``nginx``, ``promtool``, a Compose CLI) runs
when it is installed and the test is skipped with the reason otherwise; the structural
checks beside them always run. They hold the files to the code they configure: the
settings ``settings.py`` reads, the events the call tracker handles, the export's
context names and the hours variable, the gunicorn entry point.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from phoneservice.domain.calls.tracker import HANDLERS
from phoneservice.present.exports.asterisk import CONTEXT_PREFIX, DEFAULT_VARIABLE
from tests.conftest import SHIPPED_CONFIG

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
UNIT_NAMES = ("phoneservice-web", "phoneservice-pbx", "phoneservice-worker", "phoneservice-migrate")
NGINX_SITE = DEPLOY / "nginx" / "phoneservice.conf"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "phoneservice.env.example"
MANAGER_CONF = DEPLOY / "asterisk" / "phoneservice-manager.conf"
DIALPLAN = DEPLOY / "asterisk" / "extensions.conf"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts.test.yml"
INSTALLED_BIN = "/opt/phoneservice/bin/"
CLI = (sys.executable, "-m", "phoneservice")
SELF_SIGNED = "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test"
# SPEC §9: the metrics /metrics must offer at least.
SPEC_METRICS = {
    "phoneservice_calls_total",
    "phoneservice_callbacks_open",
    "phoneservice_callbacks_overdue",
    "phoneservice_ami_connected",
    "phoneservice_ami_reconnects_total",
    "phoneservice_ami_last_event_age_seconds",
    "phoneservice_hours_disagreements_total",
}
# docs/ami.md, "The AMI account: least rights"
AMI_READ = {"system", "call", "agent", "dialplan"}
AMI_WRITE = {"originate", "reporting"}


def run(*command: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, capturing its output as text."""
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=120, **kwargs
    )


def need(tool: str) -> str:
    """The path of ``tool``, or skip the test saying what is missing."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed here (the structural checks still ran)")
    return path


# --- systemd -------------------------------------------------------------------------


def unit_entries(name: str) -> list[tuple[str, str, str]]:
    """``(section, key, value)`` of a unit file, in order; keys may repeat."""
    entries, section = [], ""
    for raw in (UNITS / f"{name}.service").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def unit_values(name: str, key: str) -> list[str]:
    """Every value of ``key`` in a unit, in order."""
    return [value for _, k, value in unit_entries(name) if k == key]


@pytest.fixture
def installed_units(tmp_path: Path) -> Path:
    """The units with their ``/opt/phoneservice/bin`` commands pointed at stand-ins."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in ("phoneservice", "gunicorn"):
        stub = bin_dir / command
        stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        stub.chmod(0o755)
    for name in UNIT_NAMES:
        text = (UNITS / f"{name}.service").read_text(encoding="utf-8")
        (tmp_path / f"{name}.service").write_text(
            text.replace(INSTALLED_BIN, f"{bin_dir}/"), encoding="utf-8"
        )
    return tmp_path


def test_units_pass_systemd_analyze_verify(installed_units: Path) -> None:
    """No errors and no warnings (an unknown key is only a warning: it must fail here)."""
    tool = need("systemd-analyze")
    files = [installed_units / f"{name}.service" for name in UNIT_NAMES]
    result = run(tool, "verify", "--man=no", *files, cwd=installed_units)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


@pytest.mark.parametrize("name", UNIT_NAMES)
def test_units_are_hardened(installed_units: Path, name: str) -> None:
    """systemd's own exposure score, offline, stays at 2.0 or below ("OK")."""
    tool = need("systemd-analyze")
    unit = installed_units / f"{name}.service"
    result = run(tool, "security", "--offline=yes", "--threshold=20", unit, cwd=installed_units)
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("systemd-analyze security --offline needs systemd 250 or later")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


@pytest.mark.parametrize("name", UNIT_NAMES)
def test_every_unit_runs_as_the_service_user_with_the_env_file(name: str) -> None:
    """Same user, same settings, one writable folder: the instance folder of the env file."""
    assert unit_values(name, "User") == ["phoneservice"]
    assert unit_values(name, "EnvironmentFile") == ["/etc/phoneservice/phoneservice.env"]
    assert unit_values(name, "ProtectSystem") == ["strict"]
    for setting in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert unit_values(name, setting) == ["yes"], setting
    (state,) = unit_values(name, "StateDirectory")
    assert env_example()["PHONESERVICE_INSTANCE"] == f"/var/lib/{state}"


@pytest.mark.parametrize("name", ["phoneservice-web", "phoneservice-worker"])
def test_reload_checks_the_registry_before_sending_sighup(name: str) -> None:
    """``systemctl reload`` with a bad registry fails at check-config and changes nothing."""
    assert unit_values(name, "ExecReload") == [
        f"{INSTALLED_BIN}phoneservice check-config",
        "/bin/kill -HUP $MAINPID",
    ]
    assert unit_values(name, "Restart")[0] in ("on-failure", "always")


@pytest.mark.parametrize("name", ["phoneservice-web", "phoneservice-worker"])
def test_migrations_run_before_web_and_worker(name: str) -> None:
    """Both pull the migration in and wait for it; it runs ``db upgrade`` once and ends."""
    assert "phoneservice-migrate.service" in " ".join(unit_values(name, "After"))
    assert "phoneservice-migrate.service" in " ".join(unit_values(name, "Wants"))
    assert unit_values("phoneservice-migrate", "Type") == ["oneshot"]
    assert unit_values("phoneservice-migrate", "ExecStart") == [
        f"{INSTALLED_BIN}phoneservice db upgrade"
    ]
    assert f"{name}.service" in " ".join(unit_values("phoneservice-migrate", "Before"))


def test_only_the_worker_sees_the_ami_secret() -> None:
    """A systemd credential: a root-only file, copied for the worker alone."""
    (credential,) = unit_values("phoneservice-worker", "LoadCredential")
    name, _, source = credential.partition(":")
    assert source == "/etc/phoneservice/ami-secret"
    assert f"PHONESERVICE_AMI_SECRET_FILE=%d/{name}" in unit_values(
        "phoneservice-worker", "Environment"
    )
    for other in ("phoneservice-web", "phoneservice-pbx", "phoneservice-migrate"):
        assert not unit_values(other, "LoadCredential")
    assert "AMI_SECRET" not in "".join(
        line
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    )


def test_the_web_unit_starts_gunicorn_with_the_config() -> None:
    """gunicorn tells systemd when it listens; SIGTERM reaches the master only."""
    assert unit_values("phoneservice-web", "ExecStart") == [
        f"{INSTALLED_BIN}gunicorn --config /etc/phoneservice/gunicorn.conf.py"
    ]
    assert unit_values("phoneservice-web", "Type") == ["notify"]
    assert unit_values("phoneservice-web", "KillMode") == ["mixed"]
    assert unit_values("phoneservice-worker", "ExecStart") == [
        f"{INSTALLED_BIN}phoneservice worker"
    ]


# --- gunicorn ------------------------------------------------------------------------


def gunicorn_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment in which the app can be built: a key, the registry, an instance."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONESERVICE_")}
    return env | {
        "PHONESERVICE_SECRET_KEY": "test-key-" + "x" * 32,
        "PHONESERVICE_CONFIG": str(SHIPPED_CONFIG),
        "PHONESERVICE_INSTANCE": str(tmp_path / "instance"),
        **extra,
    }


def gunicorn(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``gunicorn -c deploy/gunicorn.conf.py ARGS`` from this venv, in ``tmp_path``."""
    command = Path(sys.executable).with_name("gunicorn")
    config = DEPLOY / "gunicorn.conf.py"
    return run(command, "-c", config, *args, cwd=tmp_path, env=gunicorn_env(tmp_path, **extra))


def test_gunicorn_config_loads_and_builds_the_app(tmp_path: Path) -> None:
    """``--check-config`` imports ``phoneservice.web.wsgi:app``: the app is built."""
    result = gunicorn(tmp_path, "--check-config")
    assert result.returncode == 0, result.stderr[-3000:]


def test_gunicorn_config_fails_without_a_secret_key(tmp_path: Path) -> None:
    """The app refuses to start unsigned sessions, and gunicorn reports it."""
    result = gunicorn(tmp_path, "--check-config", PHONESERVICE_SECRET_KEY="")
    assert result.returncode != 0
    assert "PHONESERVICE_SECRET_KEY" in result.stderr


def gunicorn_settings(tmp_path: Path, **extra: str) -> dict[str, str]:
    """gunicorn's effective settings (``--print-config``), name → value text."""
    result = gunicorn(tmp_path, "--print-config", **extra)
    assert result.returncode == 0, result.stderr[-3000:]
    pairs = (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def test_gunicorn_serves_the_wsgi_app_on_loopback_behind_nginx(tmp_path: Path) -> None:
    """The module attribute exists, loopback only, two workers unless WEB_CONCURRENCY says."""
    settings = gunicorn_settings(tmp_path)
    module, _, attribute = settings["wsgi_app"].partition(":")
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    assigned = (t for node in tree.body if isinstance(node, ast.Assign) for t in node.targets)
    assert attribute in {target.id for target in assigned if isinstance(target, ast.Name)}
    assert settings["bind"] == "['127.0.0.1:8000']"
    assert settings["workers"] == "2"
    assert settings["accesslog"] == "None"
    assert settings["forwarded_allow_ips"] == "['127.0.0.1', '::1']"
    assert gunicorn_settings(tmp_path, WEB_CONCURRENCY="4")["workers"] == "4"
    assert "127.0.0.1:8000" in NGINX_SITE.read_text(encoding="utf-8")


def test_gunicorn_bounds_slow_and_oversized_requests(tmp_path: Path) -> None:
    """A stuck request is killed, idle connections close, request heads are bounded."""
    settings = gunicorn_settings(tmp_path)
    assert settings["timeout"] == "30"
    assert settings["keepalive"] == "5"
    assert settings["limit_request_line"] == "4094"
    assert settings["limit_request_fields"] == "100"
    assert settings["limit_request_field_size"] == "8190"


# --- nginx ---------------------------------------------------------------------------


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    """``nginx -t`` on the site inside a minimal nginx.conf, with a throwaway certificate."""
    nginx = need("nginx")
    openssl = need("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = run(openssl, *SELF_SIGNED.split(), "-keyout", key, "-out", cert)
    assert made.returncode == 0, made.stderr
    (tmp_path / "static").mkdir()
    site = (
        NGINX_SITE.read_text(encoding="utf-8")
        .replace("/etc/ssl/phoneservice/fullchain.pem", str(cert))
        .replace("/etc/ssl/phoneservice/privkey.pem", str(key))
        .replace("/opt/phoneservice/static/", f"{tmp_path}/static/")
    )
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n",
        encoding="utf-8",
    )
    result = run(
        nginx, "-t", "-p", tmp_path, "-e", tmp_path / "error.log", "-c", tmp_path / "nginx.conf"
    )
    assert result.returncode == 0, result.stderr


def nginx_location(name: str) -> str:
    """The body of ``location NAME { ... }`` (no nested blocks in these)."""
    site = NGINX_SITE.read_text(encoding="utf-8")
    match = re.search(r"location\s+" + re.escape(name) + r"\s*\{(?P<body>[^}]*)\}", site)
    assert match, f"no location {name}"
    return match["body"]


def test_nginx_keeps_metrics_internal_and_rate_limits_login() -> None:
    """/metrics and /readyz end in deny all; POST /login has a limit_req zone."""
    for name in ("= /metrics", "= /readyz"):
        body = nginx_location(name)
        assert re.search(r"^\s*deny all;", body, re.M), name
        assert "allow all" not in body
    assert "limit_req zone=phoneservice_login" in nginx_location("= /login")
    assert re.search(r"limit_req_zone \S+ zone=phoneservice_login:", NGINX_SITE.read_text())


def test_nginx_leaves_the_apps_security_headers_alone() -> None:
    """The app sets CSP, nosniff and Referrer-Policy per route; nginx must not add a second."""
    directives = re.findall(r"^\s*add_header\s+(\S+)", NGINX_SITE.read_text(), re.M)
    assert "Content-Security-Policy" not in directives
    assert "Referrer-Policy" not in directives
    assert "Strict-Transport-Security" in directives
    assert "X-Forwarded-Proto $scheme" in NGINX_SITE.read_text()


def test_nginx_sends_one_hsts_header() -> None:
    """nginx adds HSTS and the app does too behind TLS: the app's is hidden, not doubled."""
    server = NGINX_SITE.read_text(encoding="utf-8")
    assert re.search(r"^    proxy_hide_header Strict-Transport-Security;", server, re.M)
    assert "proxy_pass_header Strict-Transport-Security" not in server


# --- Compose and the image -----------------------------------------------------------


def compose() -> dict[str, Any]:
    """compose.yaml as data (YAML merge keys resolved)."""
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def services() -> dict[str, Any]:
    """The services of compose.yaml."""
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def test_compose_file_matches_the_compose_spec_schema() -> None:
    """The compose-spec JSON schema that check-jsonschema ships (offline)."""
    pytest.importorskip("check_jsonschema", reason="check-jsonschema (dev extra) is missing")
    result = run(
        sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE
    )
    assert result.returncode == 0, result.stdout + result.stderr


def compose_cli() -> list[str] | None:
    """A Compose command that works here, if any (no engine is needed for ``config``)."""
    for command in (["docker", "compose"], ["docker-compose"], ["podman", "compose"]):
        if shutil.which(command[0]) and run(*command, "version").returncode == 0:
            return command
    return None


def test_compose_config_accepts_the_file(tmp_path: Path) -> None:
    """``docker compose config --quiet`` with the env file and secrets it expects."""
    command = compose_cli()
    if command is None:
        pytest.skip("no docker compose / docker-compose / podman compose here")
    project = tmp_path / "deploy"
    (project / "secrets").mkdir(parents=True)
    (tmp_path / "config").mkdir()
    shutil.copy(COMPOSE, project / "compose.yaml")
    shutil.copy(ENV_EXAMPLE, project / "phoneservice.env")
    for secret in ("db_password", "secret_key", "ami_secret"):
        (project / "secrets" / secret).write_text("x\n", encoding="utf-8")
    result = run(*command, "config", "--quiet", cwd=project)
    assert result.returncode == 0, result.stderr


def test_compose_has_db_migrate_web_and_worker_in_order() -> None:
    """PostgreSQL 16 with a health check; migrate once; web and worker after it succeeded."""
    found = services()
    assert set(found) == {"db", "migrate", "web", "pbx", "worker"}
    db = found["db"]
    assert str(db["image"]).endswith("postgres:16")
    assert "test" in db["healthcheck"]
    assert any(str(v).startswith("pgdata:") for v in db["volumes"])
    assert "pgdata" in compose()["volumes"]
    assert found["migrate"]["command"] == ["phoneservice", "db", "upgrade"]
    assert found["migrate"]["restart"] == "no"
    for name in ("web", "pbx", "worker"):
        needs = found[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
        assert needs["db"]["condition"] == "service_healthy", name
    assert found["worker"]["command"] == ["phoneservice", "worker"]
    assert "replicas" not in str(found["worker"].get("deploy", {}))


def environments() -> Iterator[tuple[str, str, str]]:
    """``(service, name, value)`` of every environment entry in compose.yaml."""
    for service, spec in services().items():
        environment = spec.get("environment") or {}
        assert isinstance(environment, dict), f"{service}: use the mapping form"
        for name, value in environment.items():
            yield service, name, "" if value is None else str(value)


def test_compose_holds_no_plain_secret() -> None:
    """Secrets come from files (Compose secrets); no password in any value or URL."""
    for service, name, value in environments():
        secretish = re.search(r"PASSWORD|SECRET|TOKEN|KEY", name) and not name.endswith("_FILE")
        assert not (secretish and value), f"{service}: {name} has a value"
        assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), f"{service}: {name} has a password"
        if name.endswith("_FILE"):
            assert value.startswith("/run/secrets/"), f"{service}: {name}"
    files = compose()["secrets"]
    assert isinstance(files, dict)
    assert {"db_password", "secret_key", "ami_secret"} <= set(files)
    assert all(set(spec) == {"file"} for spec in files.values())
    worker = {name: value for service, name, value in environments() if service == "worker"}
    assert worker["PHONESERVICE_AMI_SECRET_FILE"] == "/run/secrets/ami_secret"
    assert "ami_secret" in services()["worker"]["secrets"]
    assert "ami_secret" not in services()["web"]["secrets"]


def test_the_entrypoint_turns_secret_files_into_settings(tmp_path: Path) -> None:
    """The password lands URL-encoded in the database URL; the key in its variable."""
    entrypoint = DEPLOY / "container-entrypoint"
    assert os.access(entrypoint, os.X_OK)
    (tmp_path / "pw").write_text("p@ss:w/rd\n", encoding="utf-8")
    (tmp_path / "key").write_text("k" * 64 + "\n", encoding="utf-8")
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DB_PASSWORD_FILE": str(tmp_path / "pw"),
        "SECRET_KEY_FILE": str(tmp_path / "key"),
        "PHONESERVICE_DATABASE_URL": "postgresql+psycopg://phoneservice@db:5432/phoneservice",
    }
    result = run("sh", entrypoint, "env", env=env)
    assert result.returncode == 0, result.stderr
    assert (
        "PHONESERVICE_DATABASE_URL=postgresql+psycopg://phoneservice:p%40ss%3Aw%2Frd@db:5432/phoneservice"
        in result.stdout.splitlines()
    )
    assert f"PHONESERVICE_SECRET_KEY={'k' * 64}" in result.stdout.splitlines()


def test_containerfile_builds_a_non_root_gunicorn_image_with_a_healthcheck() -> None:
    """python:3.11-slim, a USER that is not root, /healthz, gunicorn with the config."""
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    assert re.findall(r"^FROM \S*python:3\.11-slim\b", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.M)
    cmd = re.search(r"^CMD (\[.*\])", text, re.M)
    assert cmd and ast.literal_eval(cmd[1])[:3] == [
        "gunicorn",
        "--config",
        "/etc/phoneservice/gunicorn.conf.py",
    ]
    ignore = (DEPLOY / "Containerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    sent = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for source in re.findall(r"^COPY (?!--from)(\S+) ", text, re.M):
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert source.rstrip("/") in sent, f"COPY {source}: left out of the build context"


@pytest.mark.parametrize("script", ["container-entrypoint", "phoneservice-admin"])
def test_shell_scripts_are_executable_posix_sh(script: str) -> None:
    """Executable (git keeps the bit) and accepted by ``sh -n``."""
    path = DEPLOY / script
    assert os.access(path, os.X_OK)
    assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    checked = run("sh", "-n", path)
    assert checked.returncode == 0, checked.stderr


def test_the_operations_guide_covers_every_deploy_file() -> None:
    """docs/operations.md names each file of deploy/ (the guide is where operators look)."""
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for path in DEPLOY.rglob("*"):
        if path.is_file() and not path.name.startswith(".") and "__pycache__" not in path.parts:
            assert path.name in guide, path.relative_to(ROOT)


# --- Asterisk ------------------------------------------------------------------------


def manager_user() -> dict[str, list[str]]:
    """The ``[phoneservice]`` section of manager.conf, key → values (keys may repeat)."""
    values: dict[str, list[str]] = {}
    section = ""
    for raw in MANAGER_CONF.read_text(encoding="utf-8").splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "phoneservice" and "=" in line:
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def classes(value: str) -> set[str]:
    """``system,call`` → {"system", "call"}."""
    return {part.strip() for part in value.split(",") if part.strip()}


def documented_classes() -> dict[str, set[str]]:
    """The read/write classes of the manager.conf example in docs/ami.md."""
    text = (ROOT / "docs" / "ami.md").read_text(encoding="utf-8")
    found = dict(re.findall(r"^(read|write) = (\S+)", text, re.M))
    return {key: classes(value) for key, value in found.items()}


def test_the_ami_account_has_only_the_documented_rights() -> None:
    """read system,call,agent,dialplan; write originate,reporting; nothing like all/command."""
    user = manager_user()
    assert classes(user["read"][0]) == AMI_READ == documented_classes()["read"]
    assert classes(user["write"][0]) == AMI_WRITE == documented_classes()["write"]
    assert user["deny"] == ["0.0.0.0/0.0.0.0"]
    assert user["permit"] and "0.0.0.0/0.0.0.0" not in user["permit"]


def test_the_ami_account_is_a_file_to_include_without_a_general_section() -> None:
    """An appended [general] is ignored (Asterisk reads the first): the file has none."""
    text = MANAGER_CONF.read_text(encoding="utf-8")
    sections = re.findall(r"^\[([\w-]+)\]", text, re.M)
    assert sections == ["phoneservice"]
    assert f"#include {MANAGER_CONF.name}" in text
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert f"`#include {MANAGER_CONF.name}`" in guide
    for needed in ("22.1, 21.6 or 20.11", "VPN", "firewall", "func_dialplan", "res_curl"):
        assert needed in guide, needed


def event_names_the_code_reads() -> set[str]:
    """Every string constant in the package that could name an event it reacts to."""
    names = set(HANDLERS)
    for path in (ROOT / "phoneservice").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"[A-Z][A-Za-z]+", node.value)
        }
    return names


def test_event_filters_only_exclude_events_nothing_reads() -> None:
    """An include filter would drop every other event; an excluded one must be unused."""
    filters = [key for key in manager_user() if key.startswith("eventfilter")]
    assert filters, "expected the noise filters"
    excluded = []
    for key in filters:
        match = re.fullmatch(r"eventfilter\(action\(exclude\),name\((\w+)\)\)", key)
        assert match, f"{key}: only name-based exclude filters"
        excluded.append(match[1])
    read = event_names_the_code_reads()
    assert "Hangup" in read and "OriginateResponse" in read  # the scan sees the code
    assert not set(excluded) & read


def dialplan_contexts() -> dict[str, list[str]]:
    """extensions.conf: context → its lines without comments (and the #include lines)."""
    contexts: dict[str, list[str]] = {"": []}
    current = ""
    for raw in DIALPLAN.read_text(encoding="utf-8").splitlines():
        line = raw.strip() if raw.lstrip().startswith("#") else raw.split(";", 1)[0].strip()
        if re.fullmatch(r"\[[\w-]+\]", line):
            current = line.strip("[]")
            contexts[current] = []
        elif line:
            contexts[current].append(line)
    return contexts


def hours_variable() -> str:
    """The shipped registry's [pbx] hours_variable (the export's default otherwise)."""
    registry = tomllib.loads(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    return str(registry.get("pbx", {}).get("hours_variable", DEFAULT_VARIABLE))


def test_the_dialplan_asks_open_txt_with_short_timeouts() -> None:
    """CURLOPT timeouts first, then CURL() of the API's open.txt route."""
    lines = dialplan_contexts()["phoneservice-hours"]
    curl = next(i for i, line in enumerate(lines) if "CURL(" in line)
    before = " ".join(lines[:curl])
    assert "CURLOPT(conntimeout)=" in before
    assert "CURLOPT(httptimeout)=" in before
    assert "/api/v1/units/${ARG1}/open.txt" in lines[curl]
    api = (ROOT / "phoneservice" / "web" / "board" / "api.py").read_text(encoding="utf-8")
    assert 'url_prefix="/api/v1"' in api
    assert '"/units/<unit_id>/open.txt"' in api


def test_the_dialplan_falls_back_to_the_exported_hours(tmp_path: Path) -> None:
    """The #tryinclude, and a Gosub into the contexts ``export asterisk`` writes."""
    contexts = dialplan_contexts()
    lines = contexts[""] + contexts["globals"]
    assert "#tryinclude phoneservice-hours.conf" in lines  # a missing file never stops a load
    assert not [line for line in lines if line.startswith("#include")]
    hours = " ".join(contexts["phoneservice-hours"])
    assert f"Gosub({CONTEXT_PREFIX}${{ARG1}},s,1)" in hours
    assert f"DIALPLAN_EXISTS({CONTEXT_PREFIX}${{ARG1}},s,1)" in hours
    export = ("export", "asterisk", "borgerservice", "--config", SHIPPED_CONFIG)
    exported = run(*CLI, *export, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert f"[{CONTEXT_PREFIX}borgerservice]" in exported.stdout
    assert f"Set({hours_variable()}=open)" in exported.stdout


def test_the_dialplan_sets_the_variable_the_call_logger_reads() -> None:
    """PHONE_HOURS on the caller's channel; the inbound context is one the logger follows."""
    variable = hours_variable()
    hours = " ".join(dialplan_contexts()["phoneservice-hours"])
    assert f"Set({variable}=${{LOCAL(answer)}})" in hours
    assert f"Set({variable}=open)" in hours
    assert f'"${{{variable}}}" = "closed"' in " ".join(dialplan_contexts()["phoneservice-inbound"])
    registry = tomllib.loads(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    assert "inbound" in registry["pbx"]["inbound_contexts"]
    assert "inbound" in dialplan_contexts()


@pytest.mark.parametrize(
    "context",
    [
        "inbound",
        "phoneservice-inbound",
        "phoneservice-hours",
        "callback",
        "callback-dial",
        "callback-outbound",
        "callback-answered",
        "callback-outcome",
    ],
)
def test_dialplan_labels_and_parentheses_add_up(context: str) -> None:
    """Every GotoIf target is a label of the context; every line's parentheses close."""
    lines = dialplan_contexts()[context]
    labels = set(re.findall(r"same => n\((\w+)\)", " ".join(lines)))
    for line in lines:
        assert line.count("(") == line.count(")"), line
        assert re.match(r"(exten => [\w_.+-]+,1,|same => n(\(\w+\))?,)\w+\(", line), line
        for target in re.findall(r"GotoIf\(.*\?(\w+)\)", line):
            assert target in labels, f"{context}: no label {target}"


# --- the environment file ------------------------------------------------------------


def env_example() -> dict[str, str]:
    """Every NAME=value of the example, commented-out ones included."""
    found = {}
    for raw in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#?([A-Z][A-Z0-9_]*)=(.*)", raw.strip())
        if match:
            found[match[1]] = match[2]
    return found


def names_read_by(path: Path) -> set[str]:
    """The ``PHONESERVICE_*`` names in a source file."""
    return set(re.findall(r"PHONESERVICE_\w+", path.read_text(encoding="utf-8")))


def test_the_env_example_names_every_setting() -> None:
    """Every variable settings.py reads is in the example, and nothing it does not know."""
    settings = names_read_by(ROOT / "phoneservice" / "settings.py")
    package = set().union(*map(names_read_by, (ROOT / "phoneservice").rglob("*.py")))
    example = {name for name in env_example() if name.startswith("PHONESERVICE_")}
    assert settings <= example, f"missing: {sorted(settings - example)}"
    assert example <= package, f"not read by phoneservice: {sorted(example - package)}"


def test_the_env_example_is_a_valid_environment_file() -> None:
    """Only comments, blank lines and NAME=value: systemd and Compose read it alike."""
    for number, raw in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        assert not line or line.startswith("#") or re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", line), (
            f"line {number}: {raw!r}"
        )


# --- Prometheus ----------------------------------------------------------------------


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of alerts.yml."""
    data = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    groups = data["groups"]
    assert groups and all(group["name"] and group["rules"] for group in groups)
    return [rule for group in groups for rule in group["rules"]]


def exported_metrics() -> set[str]:
    """The metric names that ``phoneservice/web/ops/metrics.py`` defines."""
    tree = ast.parse(
        (ROOT / "phoneservice" / "web" / "ops" / "metrics.py").read_text(encoding="utf-8")
    )
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"phoneservice_[a-z_]+", node.value)
    }


def test_alert_rules_are_complete_and_use_metrics_the_app_exports() -> None:
    """Name, expression, severity, summary, description; each metric one /metrics offers."""
    used: set[str] = set()
    for rule in alert_rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"Phoneservice[A-Z]\w+", str(rule["alert"]))
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert {"summary", "description"} <= set(rule["annotations"])
        used |= set(re.findall(r"phoneservice_\w+", str(rule["expr"])))
    exported = exported_metrics()
    assert not SPEC_METRICS - exported, f"SPEC §9 metrics missing: {SPEC_METRICS - exported}"
    assert not used - exported, f"alerts on metrics nobody exports: {used - exported}"
    assert SPEC_METRICS - {"phoneservice_calls_total", "phoneservice_callbacks_open"} <= used


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    """``promtool check rules`` and the alert unit tests in alerts.test.yml."""
    promtool = need("promtool")
    checked = run(promtool, "check", "rules", ALERTS)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(promtool, "test", "rules", ALERT_TESTS.name, cwd=ALERT_TESTS.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
