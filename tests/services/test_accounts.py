"""Accounts on SQLite and PostgreSQL: the login rate limit under parallel attempts, the
admin's unlock, the password policy, usernames in any case, and the pruning of login
attempts and the audit log."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import func, select

from phoneservice.services.accounts import (
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_USER,
    AccountError,
    AccountService,
    LoginThrottled,
)
from phoneservice.services.audit import AuditService
from phoneservice.services.passwords import check_password, common_passwords, is_common
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.storage.models import AuditRow, LoginAttemptRow, UserRow
from tests.conftest import Clock
from tests.services.test_ingest import lab, run  # noqa: F401 (lab: a fixture)
from tests.staff import PASSWORD, accounts

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WRONG = "not the password"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def service(database_url: str, clock: Clock) -> AccountService:
    return accounts(database_url, clock)


# ---------------------------------------------------------------- the rate limit in parallel


class Gate:
    """Holds every party until all ``parties`` have arrived (or 30 s have passed)."""

    def __init__(self, parties: int) -> None:
        self.parties, self.arrived = parties, 0
        self.condition = threading.Condition()

    def pass_through(self) -> None:
        with self.condition:
            self.arrived += 1
            self.condition.notify_all()
            self.condition.wait_for(lambda: self.arrived >= self.parties, timeout=30)


class GatedHasher(PasswordHasher):
    """The cheapest argon2, whose checks all wait for each other: the widest race."""

    def __init__(self, gate: Gate) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.gate = gate

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.gate.pass_through()
        return super().verify(hash, password)


def parallel_attempts(
    url: str, clock: Clock, usernames: list[str], address: Callable[[int], str]
) -> tuple[int, int]:
    """Wrong passwords for ``usernames`` at once; how many were checked, how many throttled."""
    gate = Gate(len(usernames))
    service = AccountService(session_factory(create_engine_for(url)), clock, GatedHasher(gate))
    results: list[str] = []

    def attempt(i: int, name: str) -> None:
        try:
            assert service.authenticate(name, WRONG, address(i)) is None
            results.append("checked")
        except LoginThrottled:
            gate.pass_through()  # a refused attempt never reaches the check: let the others go
            results.append("throttled")

    threads = [threading.Thread(target=attempt, args=(i, n)) for i, n in enumerate(usernames)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == len(usernames)
    return results.count("checked"), results.count("throttled")


def test_parallel_wrong_passwords_never_pass_the_username_limit(database_url, service, clock):
    service.add_user("anne", PASSWORD, "agent")
    checked, throttled = parallel_attempts(
        database_url, clock, ["anne"] * 10, lambda i: f"10.0.0.{i}"
    )
    assert checked <= MAX_FAILURES_PER_USER
    assert checked + throttled == 10
    with pytest.raises(LoginThrottled) if checked == MAX_FAILURES_PER_USER else _nothing():
        service.authenticate("anne", PASSWORD, "10.0.1.1")


def test_parallel_wrong_passwords_never_pass_the_address_limit(database_url, clock):
    names = [f"user{i}" for i in range(MAX_FAILURES_PER_ADDRESS + 5)]
    checked, _ = parallel_attempts(database_url, clock, names, lambda _i: "10.9.9.9")
    assert checked <= MAX_FAILURES_PER_ADDRESS


class _nothing:
    """A context that expects nothing."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_a_refused_attempt_is_not_counted_so_the_lock_lifts_after_the_window(service, clock):
    service.add_user("anne", PASSWORD, "agent")
    for _ in range(MAX_FAILURES_PER_USER):
        assert service.authenticate("anne", WRONG, "10.0.0.1") is None
    for _ in range(3):
        with pytest.raises(LoginThrottled):
            service.authenticate("anne", PASSWORD, "10.0.0.1")
    assert service.failed_logins("anne") == MAX_FAILURES_PER_USER
    clock.advance(minutes=16)
    assert service.authenticate("anne", PASSWORD, "10.0.0.1") is not None


def test_a_success_is_stored_as_one(service):
    service.add_user("anne", PASSWORD, "agent")
    assert service.authenticate("ANNE", PASSWORD, "10.0.0.1") is not None
    with service.sessions() as session:
        rows = session.exec(select(LoginAttemptRow)).all()
    assert [(r.username, r.ok) for r in rows] == [("anne", True)]


# ---------------------------------------------------------------- unlock


def test_an_admin_unlocks_a_username_and_it_is_audited(database_url, service, clock):
    service.add_user("anne", PASSWORD, "agent")
    for _ in range(MAX_FAILURES_PER_USER):
        service.authenticate("anne", WRONG, "10.0.0.1")
    with pytest.raises(LoginThrottled):
        service.authenticate("anne", PASSWORD, "10.0.0.2")
    assert service.unlock("Anne", actor="ida") == MAX_FAILURES_PER_USER
    assert service.failed_logins("anne") == 0
    assert service.authenticate("anne", PASSWORD, "10.0.0.2") is not None
    entries = AuditService(service.sessions, clock).audit_log(subject="anne")
    assert ("ida", "user.unlock", "failures=5") in [(e.actor, e.action, e.detail) for e in entries]


def test_unlocking_a_username_leaves_an_address_locked_by_other_names(service):
    service.add_user("anne", PASSWORD, "agent")
    for i in range(MAX_FAILURES_PER_ADDRESS):
        service.authenticate(f"guess{i}", WRONG, "10.6.6.6")
    with pytest.raises(LoginThrottled, match=re.escape("from 10.6.6.6")):
        service.authenticate("anne", PASSWORD, "10.6.6.6")
    service.unlock("anne", actor="ida")
    with pytest.raises(LoginThrottled, match=re.escape("from 10.6.6.6")):
        service.authenticate("anne", PASSWORD, "10.6.6.6")
    assert service.authenticate("anne", PASSWORD, "10.0.0.1") is not None


def test_unlocking_an_unknown_user_is_refused(service):
    with pytest.raises(AccountError, match="no user"):
        service.unlock("nobody", actor="ida")


# ---------------------------------------------------------------- the password policy


@pytest.mark.parametrize(
    "password",
    [
        "sommer2024",  # short as well as common
        "Sommer2024!!",
        "Velkommen1234",
        "kodeord123456",
        "password1234",
        "Password123!",
        "adgangskode123",
        "qwerty123456",
        "qwertyuiop12",
        "2025vinter2025",
    ],
)
def test_common_passwords_are_refused(service, password):
    with pytest.raises(AccountError, match=r"too common|12 characters"):
        service.add_user("anne", password, "agent")


def test_a_password_with_the_username_is_refused_in_any_case(service):
    with pytest.raises(AccountError, match="contains the username"):
        service.add_user("anne", "my name is ANNE ok", "agent")
    service.add_user("anne", PASSWORD, "agent")
    with pytest.raises(AccountError, match="contains the username"):
        service.set_password("anne", "anne-summer-of-love")


def test_a_short_username_may_be_part_of_a_password(service):
    service.add_user("bo", "the boat is blue today", "agent")


def test_a_refused_password_changes_nothing(service):
    service.add_user("anne", PASSWORD, "agent")
    with pytest.raises(AccountError, match="too common"):
        service.set_password("anne", "Velkommen2026!")
    assert service.authenticate("anne", PASSWORD, "10.0.0.1") is not None


def test_the_shipped_list_holds_thousands_and_the_danish_ones():
    found = common_passwords()
    assert len(found) > 4000
    assert {"sommer2024", "kodeord", "password1", "velkommen1", "123456"} <= found
    assert all(p == p.strip().lower() and not p.startswith("#") for p in found)
    assert not is_common("correct horse battery")
    assert check_password("correct horse battery", "anne") == "correct horse battery"


def test_the_cli_says_why_a_password_is_refused(lab, capsys, monkeypatch):  # noqa: F811
    import io

    from phoneservice.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("Velkommen2024!\n"))
    assert main(["user", "add", "anne", "--password-stdin"]) == 2
    assert "too common" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("anne is the best\n"))
    assert main(["user", "add", "anne", "--password-stdin"]) == 2
    assert "contains the username" in capsys.readouterr().err


# ---------------------------------------------------------------- usernames in any case


def test_a_username_stored_in_capitals_is_found_in_any_case(service, clock):
    with service.sessions() as session:  # as an account made before names were folded
        hashed = service.hasher.hash(PASSWORD)
        session.add(
            UserRow(
                username="Anne",
                display_name="Anne",
                password_hash=hashed,
                role="agent",
                active=True,
                created_at=NOW,
                password_changed_at=NOW,
            )
        )
        session.commit()
    assert service.authenticate("anne", PASSWORD, "10.0.0.1") is not None
    assert service.authenticate("ANNE", PASSWORD, "10.0.0.1") is not None
    with pytest.raises(AccountError, match="exists already"):
        service.add_user("anne", PASSWORD, "viewer")
    service.set_password("aNNe", "a brand new secret")
    assert service.authenticate("anne", "a brand new secret", "10.0.0.1") is not None


def test_adding_anne_when_anne_exists_is_refused(service):
    service.add_user("anne", PASSWORD, "agent")
    with pytest.raises(AccountError, match="exists already"):
        service.add_user("Anne", PASSWORD, "viewer")


# ---------------------------------------------------------------- pruning


def old_records(url: str, when: datetime) -> None:
    """One login attempt and one audit entry made at ``when``."""
    service = accounts(url, Clock(when))
    service.authenticate("nobody", WRONG, "10.0.0.1")
    AuditService(service.sessions, Clock(when)).audit("ida", "login", "ida")


def counts(url: str) -> tuple[int, int]:
    """How many login attempts and audit entries are stored."""
    with session_factory(create_engine_for(url))() as session:
        attempts = session.exec(select(func.count()).select_from(LoginAttemptRow)).one()
        audit = session.exec(select(func.count()).select_from(AuditRow)).one()
    return int(attempts), int(audit)


def test_the_worker_purge_prunes_attempts_and_the_audit_log_by_their_retention(
    database_url, shipped
):
    from phoneservice.bootstrap import build
    from phoneservice.settings import Settings
    from phoneservice.worker.jobs.tasks import PURGE
    from phoneservice.worker.process import worker_tasks

    old_records(database_url, NOW - timedelta(days=800))  # past both
    old_records(database_url, NOW - timedelta(days=31))  # attempt past 30 days, audit kept
    old_records(database_url, NOW - timedelta(days=29))  # both kept
    assert counts(database_url) == (3, 3)
    settings = Settings(database_url=database_url)
    services = build(settings, Clock(NOW), registry=shipped)
    try:
        assert worker_tasks(services).run(PURGE)
    finally:
        services.close()
    assert counts(database_url) == (1, 2)


def test_the_retention_of_each_is_a_setting(database_url, shipped):
    from phoneservice.bootstrap import build
    from phoneservice.settings import Settings

    old_records(database_url, NOW - timedelta(days=100))
    settings = Settings(database_url=database_url, login_attempt_days=200, audit_days=90)
    services = build(settings, Clock(NOW), registry=shipped)
    try:
        _, pruned = services.purge()
    finally:
        services.close()
    assert (pruned.login_attempts, pruned.audit_entries) == (0, 1)
    assert counts(database_url) == (1, 0)


def test_the_purge_command_prunes_too(lab, capsys, database_url):  # noqa: F811
    old_records(database_url, datetime(2026, 11, 23, 12, tzinfo=UTC) - timedelta(days=40))
    report = run(capsys, "purge", "--json")
    assert (report["login_attempts"], report["audit_entries"]) == (1, 0)
    assert "0 login attempt(s) older than 30 days" in run(capsys, "purge")
