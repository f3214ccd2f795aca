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

    python bench/http_load.py [--tool auto|wrk|python] [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
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
from importlib.metadata import version
from pathlib import Path

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


async def fixed_rate(port: int, path: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Latencies (s) of requests sent at ``rate``/s on fresh connections, and the errors."""
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

    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    tasks = []
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--fixed-seconds", type=float, default=10.0)
    args = parser.parse_args()
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
