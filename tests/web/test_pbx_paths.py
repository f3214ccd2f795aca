"""The PBX listener's filter: open.txt, the status and /healthz pass; nothing else does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from phoneservice.web.pbx_paths import pbx_only


def inner(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Stands in for the app: answers 200 ``app``."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def ask(path: str, method: str = "GET") -> tuple[str, bytes]:
    """The status line and body of ``method path`` through the filter."""
    seen: list[str] = []
    body = pbx_only(inner)(
        {"PATH_INFO": path, "REQUEST_METHOD": method}, lambda status, headers: seen.append(status)
    )
    return seen[0], b"".join(body)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/units/borgerservice/open.txt",
        "/api/v1/units/jobcenter/status",
        "/api/v1/status",
        "/healthz",
    ],
)
def test_the_pbx_paths_reach_the_app(path: str) -> None:
    assert ask(path) == ("200 OK", b"app")
    assert ask(path, "HEAD") == ("200 OK", b"app")


@pytest.mark.parametrize(
    "path",
    [
        "/reports",
        "/reports.csv",
        "/reports.xlsx",
        "/directory",
        "/api/v1/reports",
        "/api/v1/units/borgerservice/calendar.ics",
        "/login",
        "/",
        "/metrics",
        "/api/v1/units/../reports/open.txt",
        "/api/v1/status/",
    ],
)
def test_every_other_path_is_a_404_before_the_app(path: str) -> None:
    assert ask(path) == ("404 Not Found", b"404 Not Found")


def test_only_reading_methods_pass() -> None:
    assert ask("/api/v1/status", "POST")[0] == "405 Method Not Allowed"
