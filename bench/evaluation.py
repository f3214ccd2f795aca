"""The council's evaluation of two years over 10 million calls each, on PostgreSQL (issue
target: at most 1 x a ``SELECT count(*)`` over one of those years, in the same run).

Creates the schema ``bench_evaluation`` (unless ``--reuse``), migrates it, fills it with
``bench/report.py``'s generator spread over 2025-2026 (20 million calls for 15 units,
callbacks with attempts for 5 % of them), fills every roll-up the way an existing
database gets it (the migrations' backfill, timed as a one-off), runs ``VACUUM
ANALYZE``, and then times the evaluation of 2025-01-01 to 2026-12-31 for every unit and
the total (``phoneservice evaluation --from 2025-01-01 --to 2026-12-31``: the period by
month, the previous two years, the staffing cells) beside ``SELECT count(*) FROM calls``
over 2025. Medians of ``--rounds`` runs after one warm-up. ``--keep`` keeps the schema
(about 5 GB) for ``--reuse``.

    python bench/evaluation.py [--url postgresql://postgres@127.0.0.1:5432/test]
                               [--calls 20000000] [--rounds 5] [--keep] [--reuse]
                               [--fill-only]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, make_url, text  # noqa: E402

from bench.report import bench_registry, expire, fill, timed  # noqa: E402
from phoneservice.registry import load_registry  # noqa: E402
from phoneservice.services.reports import ReportService  # noqa: E402
from phoneservice.storage.engine import create_engine_for, session_factory  # noqa: E402
from phoneservice.storage.migrate import upgrade  # noqa: E402

SCHEMA = "bench_evaluation"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
FIRST, LAST = date(2025, 1, 1), date(2026, 12, 31)
NOW = datetime(2027, 1, 15, tzinfo=UTC)
DAYS = (LAST - FIRST).days + 1
ONE_YEAR = (
    "SELECT count(*) FROM calls "
    "WHERE arrived_at >= '2025-01-01 00:00+01' AND arrived_at < '2026-01-01 00:00+01'"
)


def schema_url(url: str) -> str:
    """``url`` with the benchmark schema first on the search path."""
    options = {"options": f"-csearch_path={SCHEMA}"}
    return make_url(url).update_query_dict(options).render_as_string(hide_password=False)


def measure(engine: Engine, registry_path: Path, rounds: int) -> None:
    """Time the two-year evaluation beside ``SELECT count(*)`` over one year, and print both."""
    from phoneservice.services.evaluation import EvaluationService
    from phoneservice.storage.loads import LoadRepository

    registry = load_registry(registry_path, date(2026, 6, 1))
    now = NOW
    sessions = session_factory(engine)
    reports = ReportService(sessions, registry, lambda: now)

    def loads(first: date, last: date, unit: str | None) -> list:  # type: ignore[type-arg]
        with sessions() as session:
            return LoadRepository(session).cells(first, last, unit)

    service = EvaluationService(reports, loads, registry, lambda: now)
    with engine.connect() as connection:
        year = connection.execute(text(ONE_YEAR)).scalar_one()
        reference = timed(lambda: connection.execute(text(ONE_YEAR)).scalar_one(), rounds)
    evaluation = timed(lambda: service.evaluation(FIRST, LAST, None), rounds)
    total = service.evaluation(FIRST, LAST, None).total
    print(f"calls in 2025: {year:,}; evaluation total: {total.calls:,} calls")
    print(f"SELECT count(*) over 2025:            {reference:.3f} s")
    print(f"evaluation 2025-2026, all units:      {evaluation:.3f} s")
    print(f"ratio: {evaluation / reference:.2f} x count(*) (target <= 1)")


def main() -> None:
    """Fill the schema (unless reused), measure, and drop it (unless kept)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--calls", type=int, default=20_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept schema")
    parser.add_argument("--fill-only", action="store_true", help="fill and keep, no timing")
    args = parser.parse_args()
    admin = create_engine_for(args.url)
    engine = create_engine_for(schema_url(args.url))
    if not args.reuse:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        upgrade(schema_url(args.url))
        print(f"filling {SCHEMA} with {args.calls:,} calls over {DAYS} days", flush=True)
        fill(engine, args.calls, DAYS)
    else:
        upgrade(schema_url(args.url))  # a kept schema gets newer roll-ups by their backfill
        if expire(engine, NOW):
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                for table in ("callbacks", "callback_day_cells"):
                    connection.execute(text(f"VACUUM ANALYZE {table}"))
    try:
        if not args.fill_only:
            with tempfile.TemporaryDirectory() as folder:
                measure(engine, bench_registry(Path(folder) / "bench.toml"), args.rounds)
    finally:
        engine.dispose()
        if not (args.keep or args.fill_only):
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
