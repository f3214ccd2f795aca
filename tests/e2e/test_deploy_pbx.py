"""The PBX listener of ``deploy/``: ``open.txt`` in its own gunicorn, behind its own upstream.

Staff traffic (a heavy report, an export) runs on ``phoneservice-web``; the dialplan's
``CURL()`` reaches nginx's PBX server block, which proxies only to ``phoneservice-pbx``
on 127.0.0.1:8001, whose app answers nothing but ``open.txt``, the status and
``/healthz`` (docs/operations.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_deploy import (
    COMPOSE,
    DEPLOY,
    INSTALLED_BIN,
    NGINX_SITE,
    gunicorn_env,
    run,
    services,
    unit_values,
)

pytestmark = pytest.mark.slow

PBX_CONFIG = DEPLOY / "gunicorn-pbx.conf.py"
PBX_BIND = "127.0.0.1:8001"


def pbx_settings(tmp_path: Path, **extra: str) -> dict[str, str]:
    """gunicorn's effective settings of the PBX config, name → value text."""
    command = Path(sys.executable).with_name("gunicorn")
    result = run(
        command,
        "-c",
        PBX_CONFIG,
        "--print-config",
        cwd=tmp_path,
        env=gunicorn_env(tmp_path, **extra),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    pairs = (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def server_blocks() -> list[str]:
    """The bodies of the nginx site's ``server { ... }`` blocks (one level of nesting)."""
    site = NGINX_SITE.read_text(encoding="utf-8")
    return re.findall(r"^server \{\n(.*?)^\}", site, re.M | re.S)


def test_the_pbx_unit_runs_its_own_gunicorn_config() -> None:
    """A unit of its own, the PBX config, after the migration like the web."""
    assert unit_values("phoneservice-pbx", "ExecStart") == [
        f"{INSTALLED_BIN}gunicorn --config /etc/phoneservice/gunicorn-pbx.conf.py"
    ]
    assert unit_values("phoneservice-pbx", "Type") == ["notify"]
    assert "phoneservice-migrate.service" in " ".join(unit_values("phoneservice-pbx", "After"))
    assert "phoneservice-pbx.service" in " ".join(unit_values("phoneservice-migrate", "Before"))


def test_the_pbx_config_listens_apart_with_its_own_workers(tmp_path: Path) -> None:
    """Port 8001 on loopback, the PBX-only app, two workers, the staff config's other bounds."""
    settings = pbx_settings(tmp_path)
    assert settings["bind"] == f"['{PBX_BIND}']"
    assert settings["wsgi_app"] == "phoneservice.web.pbx_wsgi:app"
    assert settings["workers"] == "2"
    assert settings["proc_name"] == "phoneservice-pbx"
    assert settings["preload_app"] == "True"
    assert settings["accesslog"] == "None"
    assert pbx_settings(tmp_path, PBX_CONCURRENCY="3")["workers"] == "3"
    assert pbx_settings(tmp_path, WEB_CONCURRENCY="7")["workers"] == "2"


def test_the_pbx_config_builds_the_app(tmp_path: Path) -> None:
    """``--check-config`` imports ``phoneservice.web.pbx_wsgi:app``."""
    command = Path(sys.executable).with_name("gunicorn")
    result = run(
        command, "-c", PBX_CONFIG, "--check-config", cwd=tmp_path, env=gunicorn_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_nginx_sends_the_pbx_to_its_own_processes_only() -> None:
    """The PBX block proxies to the 8001 upstream only; the staff blocks never do."""
    site = NGINX_SITE.read_text(encoding="utf-8")
    upstream = re.search(r"upstream phoneservice_pbx \{(?P<body>[^}]*)\}", site)
    assert upstream and f"server {PBX_BIND};" in upstream["body"]
    blocks = server_blocks()
    pbx = [block for block in blocks if re.search(r"^\s*listen 8081;", block, re.M)]
    assert len(pbx) == 1 and len(blocks) == 3
    targets = set(re.findall(r"proxy_pass (\S+);", pbx[0]))
    assert targets == {"http://phoneservice_pbx"}
    assert "open\\.txt" in pbx[0] and "location = /api/v1/status" in pbx[0]
    for block in blocks:
        if block is not pbx[0]:
            assert "phoneservice_pbx" not in block


def test_compose_runs_the_pbx_listener_beside_the_web() -> None:
    """A ``pbx`` service with the PBX config, published on the host's loopback port 8001."""
    pbx = services()["pbx"]
    command = pbx["command"]
    assert command[:3] == ["gunicorn", "--config", "/etc/phoneservice/gunicorn-pbx.conf.py"]
    assert pbx["ports"] == [f"{PBX_BIND}:8001"]
    assert "ami_secret" not in pbx["secrets"]
    assert "8001" in COMPOSE.read_text(encoding="utf-8")
    containerfile = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    assert "COPY deploy/gunicorn-pbx.conf.py /etc/phoneservice/gunicorn-pbx.conf.py" in (
        containerfile
    )


def test_the_pbx_gunicorn_answers_open_txt_and_nothing_else(tmp_path: Path) -> None:
    """The real config on a free port: open.txt and the status 200, a report 404."""
    port = free_port()
    command = Path(sys.executable).with_name("gunicorn")
    env = gunicorn_env(tmp_path)
    migrated = run(sys.executable, "-m", "phoneservice", "db", "upgrade", cwd=tmp_path, env=env)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    server = subprocess.Popen(
        [str(command), "-c", str(PBX_CONFIG), "--bind", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/healthz") == 200
        assert status_of(f"{base}/api/v1/units/borgerservice/open.txt") == 200
        assert status_of(f"{base}/api/v1/status") == 200
        assert status_of(f"{base}/api/v1/reports?from=2026-01-01&to=2026-12-31") == 404
        assert status_of(f"{base}/reports") == 404
        assert status_of(f"{base}/login") == 404
    finally:
        server.terminate()
        server.wait(20)


def free_port() -> int:
    """A free loopback port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_of(url: str) -> int:
    """The HTTP status of a GET of ``url``."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_for(url: str, seconds: float = 30.0) -> int:
    """The status of ``url`` once the server answers at all."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return status_of(url)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
