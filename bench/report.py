"""The report for one year over 10 million calls on PostgreSQL (SPEC §12).

Creates the schema ``bench_report`` on the server (dropped first if it is there, and at
the end unless ``--keep``), migrates it with the project's Alembic migrations, fills it
with ``INSERT ... SELECT FROM generate_series`` (10 million calls over 2025 for 15 units,
and callbacks with attempts for 5 % of them), fills the roll-ups (calls, staffing,
callbacks) with the migrations' backfill (timed: a one-off cost), runs ``VACUUM
ANALYZE``, and then times
the whole-year report (every unit and the total, as ``phoneservice report --from
2025-01-01 --to 2025-12-31`` computes it) beside a same-run ``SELECT count(*) FROM
calls``, and each of the report's SQL passes alone (with the calls and closed-hours
passes also computed directly from ``calls``, and the callbacks pass from every task,
as before the roll-ups; and the staffing roll-up read for the year). Medians of
``--rounds`` runs after one warm-up of each.

    python bench/report.py [--url postgresql://postgres@127.0.0.1:5432/test]
                           [--calls 10000000] [--rounds 5] [--keep] [--reuse]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, make_url, text  # noqa: E402

from phoneservice.domain.reports.periods import periods  # noqa: E402
from phoneservice.domain.reports.report import ReportRequest  # noqa: E402
from phoneservice.registry import Registry, load_registry  # noqa: E402
from phoneservice.services.reports import ReportService  # noqa: E402
from phoneservice.storage.callbacks import RetentionRepository  # noqa: E402
from phoneservice.storage.engine import create_engine_for, session_factory  # noqa: E402
from phoneservice.storage.loads import LoadRepository  # noqa: E402
from phoneservice.storage.migrate import upgrade  # noqa: E402
from phoneservice.storage.rollup import backfill  # noqa: E402
from tests.storage.direct_reports import DirectReportRepository, offset_changes  # noqa: E402

SCHEMA = "bench_report"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
UNITS = 15
YEAR = 2025
CHUNK = 1_000_000  # calls per INSERT: progress is printed after each
TIMEZONE = "Europe/Copenhagen"
RETENTION_DAYS = 90  # the registry's default retention_days
GOALS = "[goals]\nanswer_rate = 0.9\nservice_level = 0.8\nacknowledged_on_time = 0.95\n"
ROLLUP_TABLES = (
    "call_day_cells",
    "call_hour_cells",
    "call_load_cells",
    "call_agent_hours",
    "callback_day_cells",
)

# One call per row of generate_series(first, last) AS i. The arrival is spread evenly
# over the year with a pseudo-random jitter; outcome, wait and hours follow fixed
# shares: 82 % answered, 8 % abandoned (a third of them short), 3 % timeout, 5 % closed
# (outside phone hours), 1 % unanswered, 1 % unknown; 4 % of numbers withheld.
CALLS_SQL = """
INSERT INTO calls (pbx, uniqueid, linkedid, unit, queue, caller_number, caller_name,
    arrived_at, during_hours, pbx_hours, hours_disagree, outcome, short_abandon, wait_s,
    ring_attempts, talk_s, agent, ended_at, source)
SELECT 'bench', 'u' || i, 'u' || i, 'unit-' || (i % :units), 'queue-' || (i % :units),
    CASE WHEN r.q % 25 = 0 THEN NULL ELSE '+4520' || lpad((i % 1000000)::text, 6, '0') END,
    NULL, r.at, r.outcome <> 'closed', NULL, false, r.outcome,
    r.outcome = 'abandoned' AND r.p % 3 = 0,
    CASE WHEN r.outcome = 'closed' THEN NULL ELSE (r.q * r.q) % 240 END,
    1, CASE WHEN r.outcome = 'answered' THEN 60 + r.q ELSE NULL END,
    CASE WHEN r.outcome = 'answered' THEN 'agent-' || (i % 40) ELSE NULL END,
    r.at + interval '3 minutes', 'ami'
FROM generate_series(:first, :last) AS i,
LATERAL (
    SELECT p, q, TIMESTAMPTZ '2025-01-01 00:00:00+00'
              + (i::float8 / :total) * :days * interval '1 day'
              + ((q % 600) - 300) * interval '1 second' AS at,
           CASE WHEN p < 82 THEN 'answered' WHEN p < 90 THEN 'abandoned'
                WHEN p < 93 THEN 'timeout' WHEN p < 98 THEN 'closed'
                WHEN p < 99 THEN 'unanswered' ELSE 'unknown' END AS outcome
    FROM (SELECT (hashint4(i) & 2147483647) % 100 AS p,
                 (hashint4(i + 7919) & 2147483647) % 1000 AS q) AS h
) AS r
"""

# One callback for every 20th call: 75 % reached (two thirds of them on time), 10 %
# unreachable, 5 % cancelled, 10 % still open; one attempt each except the open ones.
CALLBACKS_SQL = """
INSERT INTO callbacks (id, unit, caller_number, state, created_at, due_at, first_call_at,
    resolution, closed_at, cancel_reason)
SELECT c.id, c.unit, CASE WHEN s.state = 'open' THEN '+4599' || c.id ELSE '+4520' || c.id END,
    s.state, c.arrived_at, c.arrived_at + interval '1 day', c.arrived_at,
    s.resolution, CASE WHEN s.state = 'open' THEN NULL
                       ELSE c.arrived_at + (s.k % 48) * interval '1 hour' END,
    CASE WHEN s.state = 'cancelled' THEN 'dublet' ELSE NULL END
FROM calls c,
LATERAL (
    SELECT k, CASE WHEN k % 20 < 15 THEN 'done' WHEN k % 20 < 17 THEN 'unreachable'
                   WHEN k % 20 < 18 THEN 'cancelled' ELSE 'open' END AS state,
              CASE WHEN k % 20 < 15 THEN 'called_back' WHEN k % 20 < 17 THEN 'unreachable'
                   WHEN k % 20 < 18 THEN 'cancelled' ELSE NULL END AS resolution
    FROM (SELECT (hashint4(c.id::int) & 2147483647) % 1000 AS k) AS h
) AS s
WHERE c.id % 20 = 0
"""

ATTEMPTS_SQL = """
INSERT INTO callback_attempts (callback_id, at, by, outcome, status)
SELECT id, first_call_at + interval '30 minutes' + (id % 600) * interval '1 minute', 'bench',
    CASE WHEN state = 'done' THEN 'reached' ELSE 'no_answer' END, 'resolved'
FROM callbacks WHERE state <> 'open'
"""


def schema_url(url: str, schema: str = SCHEMA) -> str:
    """``url`` with the benchmark's schema first on the search path."""
    options = {"options": f"-csearch_path={schema}"}
    return make_url(url).update_query_dict(options).render_as_string(hide_password=False)


def arguments(description: str | None, calls: int) -> argparse.ArgumentParser:
    """The options of a bench on a generated schema: server, size, rounds, keep, reuse."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--calls", type=int, default=calls)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept schema")
    return parser


@contextlib.contextmanager
def bench_schema(url: str, schema: str, *, fresh: bool, keep: bool) -> Iterator[Engine]:
    """An engine on ``schema``, created anew when ``fresh``, migrated (a kept one gets the
    newer migrations and their backfills), and dropped afterwards unless ``keep``.
    """
    admin, engine = create_engine_for(url), create_engine_for(schema_url(url, schema))
    if fresh:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    upgrade(schema_url(url, schema))
    try:
        yield engine
    finally:
        engine.dispose()
        if not keep:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def expire(engine: Engine, now: datetime) -> int:
    """Close the tasks still open 90 days after they opened, as the nightly purge does.

    The generator leaves every tenth task open whatever its age; in production the purge
    closes those as expired (``RetentionRepository.expire_open``, with their roll-up).
    """
    cutoff = now - timedelta(days=RETENTION_DAYS)
    with session_factory(engine)() as session:
        expired = RetentionRepository(session, ZoneInfo(TIMEZONE)).expire_open(cutoff, now)
        session.commit()
    return expired


def fill(engine: Engine, calls: int, days: int = 365) -> None:
    """Generate the calls over ``days`` from 2025-01-01, callbacks and attempts; VACUUM ANALYZE."""
    params = {"units": UNITS, "total": calls, "days": days}
    for first in range(1, calls + 1, CHUNK):
        last = min(first + CHUNK - 1, calls)
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(text(CALLS_SQL), {**params, "first": first, "last": last})
        print(f"  calls {last:>11,}  ({time.perf_counter() - started:.1f} s)", flush=True)
    with engine.begin() as connection:
        connection.execute(text(CALLBACKS_SQL))
        connection.execute(text(ATTEMPTS_SQL))
        connection.execute(text("SELECT setval('callbacks_id_seq', max(id)) FROM callbacks"))
    fill_rollup(engine)
    expired = expire(engine, datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=days + 14))
    print(f"  tasks open over {RETENTION_DAYS} days, expired as the purge does: {expired:,}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("calls", "callbacks", "callback_attempts", *ROLLUP_TABLES):
            connection.execute(text(f"VACUUM ANALYZE {table}"))


def fill_rollup(engine: Engine) -> None:
    """Count the generated calls and tasks into the roll-ups as migrations 0007 and 0012
    do (one-off).

    The calls were generated in SQL, past ``CallRepository``, so the roll-ups are filled
    the way an existing database gets them: the migrations' ``INSERT ... SELECT ... GROUP
    BY`` per table, on PostgreSQL's time zone rules.
    """
    started = time.perf_counter()
    with engine.begin() as connection:
        backfill(connection, ZoneInfo(TIMEZONE))
    seconds = time.perf_counter() - started
    with engine.connect() as connection:
        rows = [
            connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ROLLUP_TABLES
        ]
    counts = ", ".join(f"{n:,} {t}" for t, n in zip(ROLLUP_TABLES, rows, strict=True))
    print(f"  roll-up backfill (one-off): {seconds:.1f} s; {counts}", flush=True)


def bench_registry(path: Path) -> Path:
    """A registry with the 15 units the generated calls belong to."""
    units = "".join(
        f'\n[[unit]]\nid = "unit-{n}"\nname = "Enhed {n}"\nkind = "centre"\n'
        f'phone = "+45 70 10 10 {n:02d}"\nqueues = ["queue-{n}"]\ncalendar = "none"\n'
        f'hours = {{ "mon-fri" = ["08:00-15:00"] }}\n'
        for n in range(UNITS)
    )
    header = f'[registry]\nname = "Benchmark"\ntimezone = "{TIMEZONE}"\n{GOALS}'
    path.write_text(header + units, encoding="utf-8")
    return path


def timed(run: Callable[[], object], rounds: int) -> float:
    """Median seconds of ``rounds`` runs after one warm-up."""
    run()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(engine: Engine, registry_path: Path, rounds: int) -> None:
    """Time the whole-year report beside ``SELECT count(*)``, and print both."""
    registry = load_registry(registry_path, date(YEAR, 6, 1))
    now = datetime(YEAR + 1, 1, 15, tzinfo=UTC)
    service = ReportService(session_factory(engine), registry, lambda: now)
    year = ReportRequest(date(YEAR, 1, 1), date(YEAR, 12, 31))
    by_month = ReportRequest(date(YEAR, 1, 1), date(YEAR, 12, 31), by="month")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM calls")).scalar_one()

        def count() -> object:
            return connection.execute(text("SELECT count(*) FROM calls")).scalar_one()

        reference = timed(count, rounds)
    report = timed(lambda: service.report(year), rounds)
    monthly = timed(lambda: service.report(by_month), max(1, rounds // 2))
    whole = service.report(year).whole.total
    print(
        f"calls in the table: {rows:,}; report total: {whole.calls.calls:,} calls, "
        f"{whole.callbacks.created:,} callbacks"
    )
    print(f"SELECT count(*) FROM calls:        {reference:.3f} s")
    print(f"report {YEAR}, all units and total: {report:.3f} s")
    print(f"ratio: {report / reference:.2f} x count(*) (target <= 5, and <= 2 s)")
    print(f"report {YEAR} by month (12 periods): {monthly:.3f} s (no target)")
    for name, seconds in passes(engine, year, registry, now, rounds).items():
        print(f"  pass {name:<13} {seconds:.3f} s")


def passes(
    engine: Engine, year: ReportRequest, registry: Registry, now: datetime, rounds: int
) -> dict[str, float]:
    """Median seconds of each SQL pass of the year's report, run alone."""
    parts = periods(year.first, year.last, None, registry.timezone)
    offsets = offset_changes(parts[0].start, parts[-1].end, registry.timezone)
    with session_factory(engine)() as session:
        repo, loads = DirectReportRepository(session), LoadRepository(session)
        runs: dict[str, Callable[[], object]] = {
            "calls": lambda: repo.call_cells(parts, None),
            "calls_direct": lambda: repo.call_cells_direct(parts, None),
            "closed_hours": lambda: repo.closed_hours(parts, None),
            "closed_direct": lambda: repo.closed_hours_direct(parts, None, offsets),
            "withheld": lambda: repo.withheld(parts, None),
            "callbacks": lambda: repo.callbacks(parts, None, now),
            "callbacks_dir": lambda: repo.callbacks_direct(parts, None, now),
            "loads": lambda: loads.cells(year.first, year.last, None),
        }
        return {name: timed(run, rounds) for name, run in runs.items()}


def main() -> None:
    """Fill the schema (unless reused), measure, and drop it (unless kept)."""
    args = arguments(__doc__, 10_000_000).parse_args()
    with bench_schema(args.url, SCHEMA, fresh=not args.reuse, keep=args.keep) as engine:
        if not args.reuse:
            print(f"filling {SCHEMA} with {args.calls:,} calls", flush=True)
            fill(engine, args.calls)
        with tempfile.TemporaryDirectory() as folder:
            measure(engine, bench_registry(Path(folder) / "bench.toml"), args.rounds)


if __name__ == "__main__":
    main()
