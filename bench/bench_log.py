"""log: what durable logging costs the inspection loop.

- the cost of one durable commit (WAL, synchronous=FULL) seen by a lone caller;
- sustained inspections/s with the writer on its own thread, without archive
  images, every row durable before its caller goes on (group commit): with
  one pipelined caller keeping up to 256 `submit()`s in flight, and with 64
  threads each blocking in `record()` (a blocking caller waits one commit, so
  n callers can never exceed n rows per commit);
- the commit latency p99 (and worst case) seen by an inspection loop running
  at 50 parts/s with 5% rejects whose 640x480 frame goes to the archive
  (PNG encoding in the caller included);
- how long `station audit verify` takes on a log of a million chained
  inspections (`STATION_BENCH_VERIFY_ROWS` for another size), built through the
  writer's own row, chain and insert code without the thread.

Every figure includes the hash chain: the writer links each row (SHA-256) in
the group commit.
"""

from __future__ import annotations

import collections
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from benchlib import Figure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from storage_support import make_inspection  # noqa: E402

from station.core.shifts import ShiftSchedule  # noqa: E402
from station.storage import chain  # noqa: E402
from station.storage.inspections import INSERT_SQL, InspectionRows  # noqa: E402
from station.storage.integrity import verify_log  # noqa: E402
from station.storage.log import SqliteInspectionLog  # noqa: E402
from station.storage.opening import connect, connect_reader  # noqa: E402

THROUGHPUT_S = 3.0
TARGET_RATE = 5000.0
LINE_PPS = 50.0
LINE_PARTS = 400
VERIFY_ROWS = int(os.environ.get("STATION_BENCH_VERIFY_ROWS", "1000000"))
VERIFY_TARGET_S = 10.0


def _parts(n: int) -> list:
    t0 = time.time()
    return [
        make_inspection(i, t0 + i * 1e-3, scores={"scratch": 0.2} if i % 3 else {})
        for i in range(n)
    ]


def _commit_ms(db: Path) -> float:
    parts = _parts(300)
    with SqliteInspectionLog(db) as log:
        ms = []
        for ins in parts:
            t = time.perf_counter()
            log.record(ins)
            ms.append((time.perf_counter() - t) * 1e3)
    return float(np.median(ms[20:]))


def _rate_threads(db: Path, n_threads: int = 64) -> tuple[float, float]:
    parts = _parts(2000)
    done = [0] * n_threads
    stop = threading.Event()
    with SqliteInspectionLog(db) as log:

        def worker(k: int) -> None:
            i = k
            while not stop.is_set():
                log.record(parts[i % len(parts)])
                done[k] += 1
                i += n_threads

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(THROUGHPUT_S)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        stats = log.stats
    return sum(done) / elapsed, stats.rows / max(stats.batches, 1)


def _rate_pipelined(db: Path, window: int = 256) -> float:
    parts = _parts(2000)
    n = 0
    with SqliteInspectionLog(db) as log:
        inflight: collections.deque = collections.deque()
        t0 = time.perf_counter()
        deadline = t0 + THROUGHPUT_S
        while time.perf_counter() < deadline:
            inflight.append(log.submit(parts[n % len(parts)]))
            n += 1
            if len(inflight) >= window:
                inflight.popleft().result()
        while inflight:
            inflight.popleft().result()
        elapsed = time.perf_counter() - t0
    return n / elapsed


def _line_latency(db: Path, frames: bool = True) -> tuple[float, float, float]:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    frame[::2] //= 4  # some structure, so PNG sizes are realistic rather than pure noise
    t_start = time.time()
    parts = [
        make_inspection(i, t_start + i / LINE_PPS, scores={"crack": 0.9}, frame=frame)
        if frames and i % 20 == 0
        else make_inspection(i, t_start + i / LINE_PPS, scores={"scratch": 0.1})
        for i in range(LINE_PARTS)
    ]
    ms = []
    with SqliteInspectionLog(db) as log:
        period = 1.0 / LINE_PPS
        next_t = time.perf_counter()
        for ins in parts:
            now = time.perf_counter()
            if now < next_t:
                time.sleep(next_t - now)
            next_t += period
            t = time.perf_counter()
            log.record(ins)
            ms.append((time.perf_counter() - t) * 1e3)
    arr = np.asarray(ms)
    return float(np.percentile(arr, 99)), float(arr.max()), float(np.median(arr))


def _raw_commit_at_line_rate(db: Path) -> float:
    """Baseline: p99 of a bare sqlite3 WAL+FULL commit of one small row, same pace, no log."""
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x BLOB)")
        ms = []
        for _ in range(LINE_PARTS // 2):
            t = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (x) VALUES (?)", (b"x" * 300,))
            conn.execute("COMMIT")
            ms.append((time.perf_counter() - t) * 1e3)
            time.sleep(1.0 / LINE_PPS)
    finally:
        conn.close()
    return float(np.percentile(ms, 99))


def _big_log(db: Path, n: int) -> None:
    """`n` chained inspections, 5% rejects, in transactions of 50,000 rows."""
    conn, _ = connect(db)
    schedule = ShiftSchedule("UTC", ("00:00",), ("day",))
    rows = InspectionRows(schedule)
    t0 = time.time() - n * 0.02
    protos = []
    for i in range(100):
        ins = make_inspection(i, t0, scores={"crack": 0.9} if i % 20 == 0 else {"scratch": 0.1})
        protos.append(rows.payload(ins, schedule.shift_at(t0)))
    done = 0
    try:
        while done < n:
            batch = [
                (k + 1, t0 + k * 0.02, *protos[k % 100][1:])
                for k in range(done, min(done + 50_000, n))
            ]
            conn.execute("BEGIN IMMEDIATE")
            links = chain.extend(conn, "inspections", batch)
            linked = [(*r, link) for r, link in zip(batch, links, strict=True)]
            conn.executemany(INSERT_SQL, linked)
            conn.execute("COMMIT")
            done += len(batch)
    finally:
        conn.close()


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the verify workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _verify_s(db: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of verifying every chain of a big log."""
    _big_log(db, VERIFY_ROWS)
    conn = connect_reader(db)
    try:
        t, cpu = time.perf_counter(), _cpu_s()
        check = verify_log(conn)
        elapsed, cpu = time.perf_counter() - t, _cpu_s() - cpu
    finally:
        conn.close()
    if not check.ok:
        raise RuntimeError(f"bench log is not intact: {check.broken}")
    return elapsed, cpu


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="bench_log_") as tmp:
        d = Path(tmp)
        commit = _commit_ms(d / "commit.sqlite3")
        print(f"log: one durable commit, lone caller: {commit:.3f} ms", file=sys.stderr)
        rate_t, per_batch = _rate_threads(d / "threads.sqlite3")
        print(f"log: 64 threads: {rate_t:.0f}/s, {per_batch:.1f} rows per commit", file=sys.stderr)
        rate_p = _rate_pipelined(d / "pipelined.sqlite3")
        print(f"log: pipelined submit: {rate_p:.0f}/s", file=sys.stderr)
        p99, worst, med = _line_latency(d / "line.sqlite3")
        p99_plain, _, _ = _line_latency(d / "plain.sqlite3", frames=False)
        raw = _raw_commit_at_line_rate(d / "raw.sqlite3")
        print(
            f"log: 50 parts/s: median {med:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms",
            file=sys.stderr,
        )
        verify_s, verify_cpu = _verify_s(d / "big.sqlite3")
        print(
            f"log: audit verify, {VERIFY_ROWS} inspections: {verify_s:.1f} s "
            f"({verify_cpu:.1f} s CPU)",
            file=sys.stderr,
        )
    return [
        Figure("log_commit_ms", commit, "ms", "", None),
        Figure(
            "log_rate_64_threads",
            rate_t,
            "inspections/s",
            f">= {TARGET_RATE:.0f}",
            rate_t >= TARGET_RATE,
        ),
        Figure(
            "log_rate_pipelined",
            rate_p,
            "inspections/s",
            f">= {TARGET_RATE:.0f}",
            rate_p >= TARGET_RATE,
        ),
        Figure("log_p99_ms_at_50pps", p99, "ms", "< 20 (one part period)", p99 < 20.0),
        Figure("log_max_ms_at_50pps", worst, "ms", "", None),
        Figure(
            "log_p99_ms_at_50pps_no_frames",
            p99_plain,
            "ms",
            "< 20 (one part period)",
            p99_plain < 20.0,
        ),
        Figure(
            "log_verify_s",
            verify_s,
            f"s for {VERIFY_ROWS} inspections",
            f"<= {VERIFY_TARGET_S:.0f} (seconds, not minutes)",
            verify_s <= VERIFY_TARGET_S,
        ),
        Figure(
            "log_verify_cpu_s",
            verify_cpu,
            f"CPU s for {VERIFY_ROWS} inspections",
            "",
            None,
        ),
        Figure(
            "log_bare_sqlite_commit_p99_ms_at_50pps",
            raw,
            "ms",
            "baseline: the disk's own fsync",
            None,
        ),
    ]


if __name__ == "__main__":
    for fig in run():
        print(f"{fig.name}: {fig.value:.4g} {fig.unit} (target {fig.target or 'none'})")
