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

import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402

from bench.report import (  # noqa: E402
    arguments,
    bench_registry,
    bench_schema,
    expire,
    fill,
    timed,
)
from phoneservice.registry import load_registry  # noqa: E402
from phoneservice.services.reports import ReportService  # noqa: E402
from phoneservice.storage.engine import session_factory  # noqa: E402

SCHEMA = "bench_evaluation"
FIRST, LAST = date(2025, 1, 1), date(2026, 12, 31)
NOW = datetime(2027, 1, 15, tzinfo=UTC)
DAYS = (LAST - FIRST).days + 1
ONE_YEAR = (
    "SELECT count(*) FROM calls "
    "WHERE arrived_at >= '2025-01-01 00:00+01' AND arrived_at < '2026-01-01 00:00+01'"
)


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
    parser = arguments(__doc__, 20_000_000)
    parser.add_argument("--fill-only", action="store_true", help="fill and keep, no timing")
    args = parser.parse_args()
    keep = args.keep or args.fill_only
    with bench_schema(args.url, SCHEMA, fresh=not args.reuse, keep=keep) as engine:
        if not args.reuse:
            print(f"filling {SCHEMA} with {args.calls:,} calls over {DAYS} days", flush=True)
            fill(engine, args.calls, DAYS)
        elif expire(engine, NOW):  # a schema kept from before tasks were expired
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                for table in ("callbacks", "callback_day_cells"):
                    connection.execute(text(f"VACUUM ANALYZE {table}"))
        if not args.fill_only:
            with tempfile.TemporaryDirectory() as folder:
                measure(engine, bench_registry(Path(folder) / "bench.toml"), args.rounds)


if __name__ == "__main__":
    main()
