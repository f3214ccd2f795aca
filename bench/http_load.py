"""``open.txt`` under load on loopback, gunicorn with 2 workers (SPEC §12).

Starts ``gunicorn -w 2`` (sync workers, as deployed behind nginx) on a free loopback port
over ``bench/hello_wsgi.py``: the production app of ``phoneservice.web.wsgi`` plus a
hello-world Flask route, the same-run reference on the same server. Then measures:

(a) the highest rate, requests/s with ``--connections`` concurrent clients for
    ``--seconds`` s, of ``/api/v1/units/borgerservice/open.txt``, ``/api/v1/status`` and
    ``/bench/hello``, in ``--rounds`` interleaved rounds (the best round counts), with
    ``wrk`` when it is installed and otherwise with the asyncio client below;
(b) the latency of ``open.txt`` at a fixed 200 requests/s (open loop: each request is
    sent at its scheduled time on a new connection, as the dialplan's ``CURL()`` does,
    and timed from that scheduled time, so a slow answer cannot hide the ones queued
    behind it): p50, p99 and max over ``--fixed-seconds`` s.

Loopback only; bounded: the planned run must fit in 60 s and gunicorn is stopped at the
end whatever happens. Needs ``gunicorn`` (a project dependency).

With ``--reports`` it measures instead, on the deployment shape (two gunicorn instances
with the configs of ``deploy/``: the staff web and the PBX listener, 2 sync workers
each, over one SQLite database filled with ``--days`` days of roll-up cells for the
30 units of the shipped registry):

(c) ``open.txt`` on the PBX listener at 200 requests/s (open loop, as in (b)) while four
    clients ask the staff web for maximum-size reports (every unit, by day, the most days
    the limit allows; each request a different range, so the cache never answers), beside
    the same-run reference: ``open.txt`` on the same listener with no report running;
    and, to show what the PBX listener prevents, ``open.txt`` on the staff web under the
    same report load.

    python bench/http_load.py [--tool auto|wrk|python] [--seconds 3] [--rounds 3]
    python bench/http_load.py --reports [--fixed-seconds 10] [--days 800]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CONFIG = ROOT / "config" / "opening_hours.toml"
OPEN_TXT = "/api/v1/units/borgerservice/open.txt"
STATUS = "/api/v1/status"
HELLO = "/bench/hello"
PATHS = {"open.txt": OPEN_TXT, "status": STATUS, "hello": HELLO}
BUDGET = 60.0  # seconds, the whole run
STARTUP = 15.0  # seconds gunicorn gets to answer /healthz


@dataclass
class Rate:
    """One throughput run."""

    requests: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


# --- the asyncio HTTP/1.1 client ------------------------------------------------------


def request_bytes(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n".encode()


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """Send one request and read its whole response: (status, server closes)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, close = None, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    if length is None:
        await reader.read()  # no length: the body ends with the connection
        close = True
    elif length:
        await reader.readexactly(length)
    return status, close


async def python_max_rate(port: int, path: str, connections: int, seconds: float) -> Rate:
    """Requests/s with ``connections`` clients, each reusing its connection while it may."""
    request = request_bytes(path, port)
    deadline = time.perf_counter() + seconds
    counts = [0, 0]  # ok, errors

    async def client() -> None:
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while time.perf_counter() < deadline:
            try:
                if stream is None:
                    stream = await asyncio.open_connection("127.0.0.1", port)
                status, close = await exchange(*stream, request)
                counts[0 if status == 200 else 1] += 1
            except (OSError, asyncio.IncompleteReadError, ValueError):
                counts[1] += 1
                close = True
            if close and stream is not None:
                stream[1].close()
                stream = None
        if stream is not None:
            stream[1].close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return Rate(counts[0], counts[1], time.perf_counter() - start)


async def fixed_rate(
    port: int, path: str, rate: float, seconds: float, limit: float | None = None
) -> tuple[list[float], int]:
    """Latencies (s) of requests sent at ``rate``/s on fresh connections, and the errors
    (with ``limit``, a request not answered within ``limit`` s counts as an error)."""
    request = request_bytes(path, port)
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                status, _ = await exchange(reader, writer, request)
            finally:
                writer.close()
            if status != 200:
                errors += 1
                return
            latencies.append(time.perf_counter() - scheduled)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1

    async def bounded(scheduled: float) -> None:
        nonlocal errors
        try:
            await asyncio.wait_for(one(scheduled), limit)
        except TimeoutError:
            errors += 1

    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    tasks = []
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(bounded(scheduled)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10 + (limit or 0))
    return latencies, errors


# --- wrk ------------------------------------------------------------------------------


def wrk_max_rate(port: int, path: str, connections: int, seconds: float) -> Rate:
    """Requests/s by ``wrk`` (1 thread, ``connections`` connections)."""
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        timeout=seconds + 15,
        check=True,
    )
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", result.stdout)
    if total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{result.stdout}")
    elapsed = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    failed = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", result.stdout
    )
    errors = int(bad.group(1)) if bad else 0
    # gunicorn's sync workers close every connection; wrk counts those as read errors
    errors += sum(int(failed.group(k)) for k in (1, 3, 4)) if failed else 0
    return Rate(int(total.group(1)) - (int(bad.group(1)) if bad else 0), errors, elapsed)


# --- gunicorn -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONESERVICE_")}
    env["PHONESERVICE_CONFIG"] = str(CONFIG)
    env["PHONESERVICE_SECRET_KEY"] = "bench-" + "0" * 58
    gunicorn = Path(sys.executable).with_name("gunicorn")
    argv = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                *argv,
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "bench.hello_wsgi:app",
            ],  # from the repository root, never with bench/ on the path
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_ready(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer within {STARTUP} s:\n{log.read_text()}")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the run --------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# --- (c) open.txt while maximum-size reports run: the deployment shape ----------------

DEPLOY = ROOT / "deploy"
STAFF_CONF = DEPLOY / "gunicorn.conf.py"
PBX_CONF = DEPLOY / "gunicorn-pbx.conf.py"
REPORT_CLIENTS = 4
REPORT_TIMEOUT = 60.0  # seconds one report request may take


def deploy_env(instance: Path, url: str) -> dict[str, str]:
    """The environment both gunicorn instances share: registry, key, instance, database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONESERVICE_")}
    env.update(
        PHONESERVICE_CONFIG=str(CONFIG),
        PHONESERVICE_SECRET_KEY="bench-" + "0" * 58,
        PHONESERVICE_INSTANCE=str(instance),
        PHONESERVICE_DATABASE_URL=url,
        PYTHONPATH=str(ROOT),
    )
    return env


BENCH_SCHEMA = "bench_http_load"


def bench_database(instance: Path, server: str | None) -> str:
    """The SQLite file in the instance folder, or a fresh schema on a PostgreSQL server."""
    if server is None:
        return f"sqlite:///{instance / 'phoneservice.sqlite3'}"
    from sqlalchemy import make_url, text

    from phoneservice.storage.engine import create_engine_for

    engine = create_engine_for(server)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {BENCH_SCHEMA}"))
    engine.dispose()
    options = {"options": f"-csearch_path={BENCH_SCHEMA}"}
    return make_url(server).update_query_dict(options).render_as_string(hide_password=False)


def drop_bench_schema(server: str | None) -> None:
    """Remove the benchmark's schema from the PostgreSQL server, if one was used."""
    if server is None:
        return
    from sqlalchemy import text

    from phoneservice.storage.engine import create_engine_for

    engine = create_engine_for(server)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
    engine.dispose()


PBX_NICE = -5  # as Nice= in deploy/systemd/phoneservice-pbx.service


def start_deployed(
    config: Path, port: int, env: dict[str, str], log: Path, nice: int = 0
) -> subprocess.Popen[bytes]:
    """gunicorn with a config of deploy/, bound to ``port`` instead of its own, at ``nice``."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    argv = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
    with log.open("wb") as out:
        return subprocess.Popen(
            [*argv, "-c", str(config), "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=log.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.nice(nice - os.nice(0)),
        )


def fill_database(instance: Path, url: str, days: int) -> tuple[str, int]:
    """Migrate the database at ``url``, fill ``days`` days of roll-up cells for every
    unit, and issue a read-status token: (the token, how many units)."""
    sys.path.insert(0, str(ROOT))
    from collections import Counter
    from datetime import date, timedelta

    from phoneservice.domain.reports.rollup import DayKey, HourKey
    from phoneservice.registry import load_registry
    from phoneservice.services.tokens import TokenService
    from phoneservice.storage.engine import create_engine_for, session_factory
    from phoneservice.storage.migrate import upgrade
    from phoneservice.storage.rollup import upsert

    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade(url)
    registry = load_registry(CONFIG, date.today())
    units = sorted(registry.units)
    first = date.today() - timedelta(days=days)
    day_cells, hour_cells = Counter[DayKey](), Counter[HourKey]()
    for n in range(days):
        day = first + timedelta(days=n)
        for u, unit in enumerate(units):
            for wait in range(0, 200, 20):  # ten distinct waits of answered calls a day
                day_cells[DayKey(day, unit, "answered", False, True, wait + (n + u) % 7)] += 3
            day_cells[DayKey(day, unit, "abandoned", False, True, -1)] += 2
            day_cells[DayKey(day, unit, "abandoned", True, True, -1)] += 1
            day_cells[DayKey(day, unit, "closed", False, False, -1)] += 2
            hour_cells[HourKey(day, unit, day.weekday() * 24 + 19)] += 2
    engine = create_engine_for(url)
    with engine.begin() as connection:
        upsert(connection, day_cells, hour_cells)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    _, secret = TokenService(session_factory(engine), clock).issue_token(
        "bench", ("read-status",), actor="bench"
    )
    engine.dispose()
    print(f"filled {len(day_cells):,} day cells and {len(hour_cells):,} hour cells")
    return secret, len(units)


def report_client(port: int, token: str, units: int, offset: int, stop: Any, done: Any) -> None:
    """Ask for maximum-size reports until ``stop`` is set, each for a range not asked before."""
    from datetime import date, timedelta

    from phoneservice.domain.reports.limits import MAX_REPORT_ROWS

    days = MAX_REPORT_ROWS // units
    os.nice(-os.nice(0))  # staff browsers are not the PBX: back to the default priority
    n = 0
    while not stop.is_set():
        first = date.today() - timedelta(days=days + 1 + (offset * 97 + n * 13) % 600)
        last = first + timedelta(days=days - 1)
        url = f"http://127.0.0.1:{port}/api/v1/reports?from={first}&to={last}&by=day"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=REPORT_TIMEOUT) as response:
                size = len(response.read())
            done.put((time.perf_counter() - began, size, response.status))
        except OSError as exc:
            done.put((time.perf_counter() - began, 0, repr(exc)))
        n += 1


DIALPLAN_LIMIT = 2.0  # seconds: the dialplan's CURLOPT(httptimeout)


def open_txt_latency(port: int, rate: float, seconds: float) -> tuple[list[float], int]:
    """``open.txt`` latencies (ms) at ``rate``/s for ``seconds`` s, and the failures: an
    error, or no answer within the dialplan's 2 s (the PBX would use the exported hours).
    """
    latencies, failures = asyncio.run(fixed_rate(port, OPEN_TXT, rate, seconds, DIALPLAN_LIMIT))
    return [s * 1000 for s in latencies], failures


def under_reports(
    port: int, staff: int, token: str, units: int, args: argparse.Namespace
) -> tuple[list[float], int, list[tuple[float, int, Any]]]:
    """``open.txt`` on ``port`` while REPORT_CLIENTS ask ``staff`` for reports."""
    context = multiprocessing.get_context("fork")
    stop, done = context.Event(), context.Queue()
    clients = [
        context.Process(target=report_client, args=(staff, token, units, i, stop, done))
        for i in range(REPORT_CLIENTS)
    ]
    for client in clients:
        client.start()
    try:
        time.sleep(1.0)  # every worker of the staff web is inside a report by now
        ms, errors = open_txt_latency(port, args.rate, args.fixed_seconds)
    finally:
        stop.set()
        for client in clients:
            client.join(REPORT_TIMEOUT + 5)
            if client.is_alive():
                client.kill()
    reports = []
    while not done.empty():
        reports.append(done.get())
    return ms, errors, reports


def summary(ms: list[float], errors: int) -> str:
    """p50, p99 and max of ``ms``, and the errors."""
    if not ms:
        return f"no answers, {errors} failed or over 2 s"
    return (
        f"{len(ms)} answered, {errors} failed or over 2 s; p50 {statistics.median(ms):.2f} ms, "
        f"p99 {percentile(ms, 0.99):.2f} ms, max {max(ms):.2f} ms"
    )


def reports_run(args: argparse.Namespace) -> int:
    """(c): the PBX listener's open.txt while four maximum-size reports run on the web."""
    began = time.monotonic()
    # The dialplan's CURL() runs on the PBX, another host: the load generator that stands
    # in for it must not queue for the CPU behind the staff web's workers either.
    os.nice(args.pbx_nice)
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        sys.path.insert(0, str(ROOT))
        url = bench_database(instance, args.postgres)
        token, units = fill_database(instance, url, args.days)
        env = deploy_env(instance, url)
        staff_port, pbx_port = free_port(), free_port()
        staff_log, pbx_log = Path(tmp) / "staff.log", Path(tmp) / "pbx.log"
        staff = start_deployed(STAFF_CONF, staff_port, env, staff_log)
        pbx = start_deployed(PBX_CONF, pbx_port, env, pbx_log, args.pbx_nice)
        try:
            wait_ready(staff_port, staff, staff_log)
            wait_ready(pbx_port, pbx, pbx_log)
            asyncio.run(fixed_rate(pbx_port, OPEN_TXT, args.rate, 1.0))  # warm up
            asyncio.run(fixed_rate(staff_port, OPEN_TXT, args.rate, 1.0))
            idle = open_txt_latency(pbx_port, args.rate, args.fixed_seconds)
            loaded = under_reports(pbx_port, staff_port, token, units, args)
            shared = under_reports(staff_port, staff_port, token, units, args)
        finally:
            stop(staff)
            stop(pbx)
            drop_bench_schema(args.postgres)
    elapsed = time.monotonic() - began
    from phoneservice.domain.reports.limits import MAX_REPORT_ROWS

    days = MAX_REPORT_ROWS // units
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()}, "
        f"Python {platform.python_version()}, gunicorn {version('gunicorn')} "
        f"(staff and PBX listener, 2 sync workers each), load average {load:.1f}"
    )
    print(
        f"database: {'PostgreSQL' if args.postgres else 'SQLite (WAL)'}; PBX listener and "
        f"load generator at nice {args.pbx_nice}, staff web and report clients at 0"
    )
    print(
        f"reports: {REPORT_CLIENTS} clients, every unit ({units}) by day over {days} days = "
        f"{days * units:,} rows (limit {MAX_REPORT_ROWS:,}), a new range each request"
    )
    print(
        f"\n(c) open.txt at {args.rate:g} req/s for {args.fixed_seconds:g} s, new connection each"
    )
    print(f"reference, PBX listener, no reports: {summary(*idle)}")
    print(f"PBX listener, reports on the web:    {summary(*loaded[:2])}")
    print(f"staff web itself, same reports:      {summary(*shared[:2])}")
    for name, (_, _, reports) in (("with the PBX listener", loaded), ("on the web", shared)):
        ok = [r for r in reports if r[2] == 200]
        if ok:
            seconds = statistics.median(r[0] for r in ok)
            size = statistics.median(r[1] for r in ok)
            print(
                f"reports {name}: {len(ok)} done ({len(reports) - len(ok)} failed), "
                f"median {seconds:.2f} s, {size / 1e6:.1f} MB each"
            )
        else:
            print(f"reports {name}: none done ({[r[2] for r in reports][:3]})")
    ms, errors = loaded[:2]
    met = bool(ms) and errors == 0 and percentile(ms, 0.99) <= 50
    print(
        f"\ntarget (PBX listener open.txt p99 ≤ 50 ms under reports): {'met' if met else 'NOT met'}"
    )
    print(f"run took {elapsed:.1f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--fixed-seconds", type=float, default=10.0)
    parser.add_argument("--reports", action="store_true", help="(c) instead of (a) and (b)")
    parser.add_argument("--days", type=int, default=800, help="--reports: days of data")
    parser.add_argument(
        "--postgres", metavar="URL", help="--reports: a PostgreSQL server instead of SQLite"
    )
    parser.add_argument(
        "--pbx-nice", type=int, default=PBX_NICE, help="--reports: the PBX listener's nice"
    )
    args = parser.parse_args()
    if args.reports:
        return reports_run(args)
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")
    if tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed")
    planned = STARTUP / 3 + len(PATHS) * (1 + args.rounds * args.seconds) + args.fixed_seconds + 2
    if planned > BUDGET:
        parser.error(f"the run would take about {planned:.0f} s; the budget is {BUDGET:.0f} s")

    def max_rate(port: int, path: str, seconds: float) -> Rate:
        if tool == "wrk":
            return wrk_max_rate(port, path, args.connections, seconds)
        return asyncio.run(python_max_rate(port, path, args.connections, seconds))

    port = free_port()
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "gunicorn.log"
        server = start_gunicorn(port, args.workers, log)
        try:
            wait_ready(port, server, log)
            for path in PATHS.values():  # warm up: first requests, imports, caches
                max_rate(port, path, 1.0)
            rates: dict[str, list[Rate]] = {name: [] for name in PATHS}
            for _ in range(args.rounds):
                for name, path in PATHS.items():
                    rates[name].append(max_rate(port, path, args.seconds))
            latencies, fixed_errors = asyncio.run(
                fixed_rate(port, OPEN_TXT, args.rate, args.fixed_seconds)
            )
        finally:
            stop(server)
    elapsed = time.monotonic() - began

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()}, "
        f"Python {platform.python_version()}, gunicorn {version('gunicorn')} "
        f"({args.workers} sync workers), Flask {version('flask')}, load generator {tool}, "
        f"{args.connections} connections, load average {load:.1f}"
    )
    best = {name: max(runs, key=lambda r: r.per_second) for name, runs in rates.items()}
    hello = best["hello"].per_second
    print(f"\n(a) highest rate, best of {args.rounds} rounds of {args.seconds:g} s")
    print(f"{'path':<10} {'req/s':>9} {'rounds':>20} {'errors':>7} {'÷ hello':>8}")
    for name, rate in best.items():
        rounds = " / ".join(f"{r.per_second:,.0f}" for r in rates[name])
        errors = sum(r.errors for r in rates[name])
        print(
            f"{name:<10} {rate.per_second:>9,.0f} {rounds:>20} {errors:>7} "
            f"{rate.per_second / hello:>7.2f}×"
        )
    ms = [v * 1000 for v in latencies]
    print(
        f"\n(b) open.txt at {args.rate:g} req/s for {args.fixed_seconds:g} s, new connection each"
    )
    if ms:
        print(
            f"{len(ms)} answered, {fixed_errors} errors; p50 {statistics.median(ms):.2f} ms, "
            f"p99 {percentile(ms, 0.99):.2f} ms, max {max(ms):.2f} ms"
        )
    else:
        print(f"no answers, {fixed_errors} errors")
    open_rate = best["open.txt"].per_second
    met = (
        open_rate >= 1000
        and bool(ms)
        and percentile(ms, 0.99) <= 20
        and open_rate >= 0.8 * hello
        and fixed_errors == 0
    )
    print(f"\ntargets (≥ 1,000 req/s, p99 ≤ 20 ms, ≥ 0.8 × hello): {'met' if met else 'NOT met'}")
    print(f"run took {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
