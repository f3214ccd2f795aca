"""AMI ingestion speed (parse → track → store) and worker memory with calls in flight.

Prints events/s for the whole pipeline on ``e-burst`` repeated with fresh ids into a
SQLite file, beside the same-run reference: the bare ``asterisk-ami`` 0.1.7 framing and
parsing of the same bytes (its real ``AMIClient.listen()`` over an in-memory socket).
Then the resident memory of a worker process holding 10,000 calls in flight.

    python bench/ingest.py [--repeat 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRACE = ROOT / "tests" / "data" / "ami-traces" / "e-burst.ami"
sys.path.insert(0, str(ROOT))

from phoneservice.bootstrap import build_call_log  # noqa: E402
from phoneservice.pbx.protocol import Framer, parse_banner  # noqa: E402
from phoneservice.pbx.translate import wanted  # noqa: E402
from phoneservice.registry import parse_registry  # noqa: E402
from phoneservice.services.calls import CallService  # noqa: E402
from phoneservice.storage.engine import create_engine_for, session_factory  # noqa: E402
from phoneservice.storage.migrate import upgrade  # noqa: E402
from tests.conftest import LAB_REGISTRY  # noqa: E402

CHUNK = 65536


def stream(repeat: int) -> tuple[bytes, int]:
    """The banner and e-burst's messages ``repeat`` times, each copy with fresh ids and times."""
    banner, body = TRACE.read_bytes().split(b"\r\n", 1)
    body = body[: body.rindex(b"Response: Goodbye")]  # a Logoff answer ends a session
    copies = [
        re.sub(rb"179533(\d)", lambda m, k=k: b"%d%s" % (179533 + k, m.group(1)), body)
        for k in range(repeat)
    ]
    data = banner + b"\r\n" + b"".join(copies)
    return data, data.count(b"\r\nEvent: ") + data.startswith(b"Event: ")


def pipeline(data: bytes, database: str, pbx: str = "bench") -> float:
    """Seconds to parse, track and store ``data`` in 64 KiB reads, as the worker does.

    The framer drops the events the translation table does not read (``wanted``), as the
    worker's AMI client does.
    """
    registry = parse_registry(LAB_REGISTRY, "lab.toml", datetime(2026, 11, 23).date())
    service = CallService(session_factory(create_engine_for(database)))
    call_log = build_call_log(registry, pbx, service.store_for(pbx))
    start = time.perf_counter()
    _banner, rest = parse_banner(data[:CHUNK])
    keep = wanted(registry.pbx.hours_variable)
    framer, chunk, offset = Framer(rest, keep=keep), b"", CHUNK
    while True:
        for headers in framer.feed_dicts(chunk):
            call_log.message(headers)
        if call_log.due():  # the worker's policy: by count or by age, never per event
            call_log.flush()
        if offset >= len(data):
            call_log.flush()
            break
        chunk = data[offset : offset + CHUNK]
        offset += CHUNK
    elapsed = time.perf_counter() - start
    if call_log.stored == 0:
        raise SystemExit("the pipeline stored no calls: the benchmark is broken")
    return elapsed


class _MemorySocket:
    """Stands in for asterisk-ami's socket: 64 KiB per recv, then EOF."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def recv(self, size: int) -> bytes:
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def close(self) -> None:
        """Nothing to close."""


def asterisk_ami(data: bytes) -> tuple[float, int]:
    """Seconds for asterisk-ami's own framing, decoding and event parsing of ``data``."""
    from asterisk.ami import AMIClient

    client = AMIClient(buffer_size=CHUNK)
    count = [0]
    client.add_event_listener(lambda event, source: count.__setitem__(0, count[0] + 1))
    client._socket = _MemorySocket(data)  # the real listen() loop, fed from memory
    client.finished = threading.Event()
    start = time.perf_counter()
    client.listen()
    return time.perf_counter() - start, count[0]


def memory(calls: int) -> int:
    """Resident memory (KiB) of a process holding ``calls`` calls in flight in a worker.

    Read from ``/proc/self/status`` (VmRSS): ``ru_maxrss`` would carry the peak of this
    benchmark process into the child across ``exec``.
    """
    code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from datetime import datetime
from phoneservice.bootstrap import build_call_log
from phoneservice.registry import parse_registry
from tests.conftest import LAB_REGISTRY
registry = parse_registry(LAB_REGISTRY, "lab.toml", datetime(2026, 11, 23).date())
log = build_call_log(registry, "bench", lambda records, seen: len(records))
for n in range({calls}):
    uid, t = f"1795000000.{{n}}", str(1795000000 + n / 100)
    chan = f"Local/70101010@inbound-{{n:08x}};2"
    log.message({{"Event": "Newexten", "Channel": chan, "Uniqueid": uid, "Linkedid": uid,
                  "Context": "inbound", "Exten": "70101010", "CallerIDNum": "+4520000000",
                  "CallerIDName": "Borger", "Application": "NoOp", "Timestamp": t}})
    log.message({{"Event": "QueueCallerJoin", "Channel": chan, "Uniqueid": uid,
                  "Linkedid": uid, "Queue": "borgerservice", "Position": "1",
                  "CallerIDNum": "+4520000000", "Timestamp": t}})
assert len(log.tracker.in_flight()) == {calls}, len(log.tracker.in_flight())
status = open("/proc/self/status").read()
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def main() -> None:
    """Run the measurements and print the figures with their same-run reference."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", help="also store into this (migrated here) PostgreSQL")
    args = parser.parse_args()
    data, events = stream(args.repeat)
    ours, on_postgres, theirs = [], [], []
    if args.postgres:
        upgrade(args.postgres)
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.sqlite3"
            upgrade(url)
            gc.collect()
            ours.append(pipeline(data, url))
        if args.postgres:  # a PBX name of its own per round: every call is new
            gc.collect()
            on_postgres.append(pipeline(data, args.postgres, f"bench-{time.time_ns()}-{n}"))
        gc.collect()
        seconds, parsed = asterisk_ami(data)
        theirs.append(seconds)
    ref_rate = parsed / statistics.median(theirs)
    print(f"stream: e-burst x{args.repeat}, {len(data) / 1e6:.1f} MB, {events} events")
    print(
        f"asterisk-ami bare parse (same bytes):        {ref_rate:,.0f} events/s ({parsed} events)"
    )
    for name, times in (("SQLite", ours), ("PostgreSQL", on_postgres)):
        if times:
            rate = events / statistics.median(times)
            print(
                f"phoneservice parse+track+store ({name}): {rate:,.0f} events/s, "
                f"ratio {rate / ref_rate:.2f} (target >= 1.0, and >= 50,000 events/s)"
            )
    baseline = memory(0)
    loaded = memory(10_000)
    print(
        f"worker RSS with 10,000 calls in flight: {loaded / 1024:.1f} MB "
        f"(empty worker {baseline / 1024:.1f} MB; target <= 200 MB)"
    )
    print(
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}, "
        f"max RSS of this run {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
