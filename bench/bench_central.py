"""central: a plant of stations forwarding into one PostgreSQL on this machine.

- 20 simulated stations (one process each: a SQLite journal, the line logging
  10 parts/s with 1 in 12 a reject whose frame is archived, the background
  forwarder) for one minute into one scratch server (fsync on): the forwarding
  lag of every inspection (central arrival time minus the part's time), p50
  and p99, and the line's own commit time p99 (the line never waits for the
  network);
- the plant report (`station report --central --plant` and per station) over
  1,000,000 inspections: 20 stations, 30 days of three shifts, rejects with
  reasons, no-decisions, ground truth; median of 3 runs.

CENTRAL_BENCH_S and CENTRAL_BENCH_ROWS shorten the minute and the million (for a quick look).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import Figure, Skip

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

STATIONS = 20
PARTS_PER_S = 10.0
DURATION_S = float(os.environ.get("CENTRAL_BENCH_S", "60"))
REPORT_ROWS = int(os.environ.get("CENTRAL_BENCH_ROWS", "1000000"))
LAG_P99_TARGET_S = 5.0
REPORT_TARGET_S = 2.0


def _station(k: int, url: str, pgpass: str, folder: str, start_at: float, out: mp.Queue) -> None:
    """One station process: log at PARTS_PER_S until DURATION_S, then drain and report."""
    os.environ["PGPASSFILE"] = pgpass
    from storage_support import make_inspection

    from station.services.forwarding import start_forwarder
    from station.storage.archive_limit import ArchiveLimit
    from station.storage.log import SqliteInspectionLog

    sid = f"line-{k + 1:02d}"
    db = Path(folder) / f"{sid}.sqlite3"
    log = SqliteInspectionLog(db, archive=ArchiveLimit(None))
    fwd = start_forwarder(db, url, sid)
    commit_ms = []
    time.sleep(max(0.0, start_at - time.time()))
    n = int(DURATION_S * PARTS_PER_S)
    for i in range(n):
        due = start_at + i / PARTS_PER_S
        time.sleep(max(0.0, due - time.time()))
        reject = i % 12 == 0
        ins = make_inspection(
            i,
            time.time(),
            scores={"crack": 0.9} if reject else {"scratch": 0.1},
            image_seed=i if reject else None,
            station_id=sid,
        )
        t = time.perf_counter()
        log.record(ins)
        commit_ms.append((time.perf_counter() - t) * 1e3)
    last = time.time()
    deadline = last + 60
    fwd.wake()
    while time.time() < deadline:
        status = fwd.status
        if status.up_to_date and status.as_of_utc > last:
            break
        time.sleep(0.1)
    status = fwd.status
    fwd.close()
    log.close()
    out.put((sid, n, float(np.percentile(commit_ms, 99)), status.rows_behind))


def _forwarding(server, url: str) -> list[Figure]:
    import psycopg

    folder = tempfile.mkdtemp(prefix="central-bench-")
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    start_at = time.time() + 15.0  # every process imported and connected by then
    procs = [
        ctx.Process(target=_station, args=(k, url, str(server.pgpass), folder, start_at, out))
        for k in range(STATIONS)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=DURATION_S + 180) for _ in procs]
    for p in procs:
        p.join(30)
    with psycopg.connect(url, autocommit=True) as conn:
        lags = np.array(
            [r[0] for r in conn.execute("SELECT received_utc - time_utc FROM inspections")]
        )
    sent = sum(r[1] for r in results)
    behind = sum(r[3] for r in results)
    print(
        f"central: {STATIONS} stations sent {sent} parts in {DURATION_S:.0f} s; {len(lags)} "
        f"arrived, {behind} rows still behind",
        file=sys.stderr,
    )
    p99 = float(np.percentile(lags, 99))
    return [
        Figure("central_parts_arrived", float(len(lags)), "parts", f"== {sent}", len(lags) == sent),
        Figure("central_lag_p50", float(np.percentile(lags, 50)), "s"),
        Figure("central_lag_p99", p99, "s", f"< {LAG_P99_TARGET_S:g} s", p99 < LAG_P99_TARGET_S),
        Figure("central_line_commit_p99_worst_station", max(r[2] for r in results), "ms"),
    ]


FILL_SQL = """
INSERT INTO stations (station_id, journal_id, hostname, zone, last_sequence)
SELECT 'plant-' || lpad(s::text, 2, '0'), md5(s::text), 'bench', 'UTC', 0
FROM generate_series(1, %(stations)s) s;
INSERT INTO shifts (station_id, sequence, id, name, start_utc, end_utc, zone)
SELECT 'plant-' || lpad(s::text, 2, '0'), d * 3 + k + 1,
       to_char(to_timestamp(%(t0)s + d * 86400) AT TIME ZONE 'UTC', 'YYYY-MM-DD') || '/'
           || (ARRAY['early', 'late', 'night'])[k + 1],
       (ARRAY['early', 'late', 'night'])[k + 1],
       %(t0)s + d * 86400 + k * 28800, %(t0)s + d * 86400 + (k + 1) * 28800, 'UTC'
FROM generate_series(1, %(stations)s) s, generate_series(0, %(days)s - 1) d,
     generate_series(0, 2) k;
INSERT INTO inspections (
    station_id, sequence, id, time_utc, logged_station_id, product, shift_id, part_sequence,
    outcome, reasons, class_names, max_scores, kept, threshold_set_id, model_sha256,
    latency_ms, truth_defective, zone, why, extra, received_utc)
SELECT st, 1000 + g, g, t, st, 'widget',
       to_char(to_timestamp(t) AT TIME ZONE 'UTC', 'YYYY-MM-DD') || '/'
           || (ARRAY['early', 'late', 'night'])[floor(((t - %(t0)s) %% 86400) / 28800)::int + 1],
       g,
       CASE WHEN g %% 13 = 0 THEN 'REJECT' WHEN g %% 101 = 0 THEN 'NO DECISION' ELSE 'PASS' END,
       CASE WHEN g %% 13 = 0 THEN
           '[{"class":"' || (ARRAY['crack', 'dent', 'scratch'])[g %% 3 + 1]
           || '","score":0.9,"threshold":0.5}]'
       ELSE '[]' END,
       '["scratch","crack","dent"]', '\\x000000000000000000000000'::bytea, '{}', 'ts', 'f',
       4.5, CASE WHEN g %% 50 = 0 THEN (g %% 100 = 0)::int END, 'UTC',
       CASE WHEN g %% 101 = 0 AND g %% 13 <> 0 THEN 'camera lost' ELSE '' END, '{}', t + 0.5
FROM (
    SELECT g, 'plant-' || lpad((g %% %(stations)s + 1)::text, 2, '0') AS st,
           %(t0)s + g * (%(days)s * 86400.0 / %(rows)s) AS t
    FROM generate_series(1, %(rows)s) g
) x;
ANALYZE;
"""


def _report(url: str) -> list[Figure]:
    import psycopg

    from station.core.selection import Selection
    from station.outputs.central import schema
    from station.services.plant_report import plant_report

    plant_url = url.rsplit("/", 1)[0] + "/plant"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE plant")
    with psycopg.connect(plant_url, autocommit=True) as conn:
        schema.init(conn)
        t = time.perf_counter()
        t0 = 1_780_000_000 // 86400 * 86400
        args = {"stations": STATIONS, "days": 30, "rows": REPORT_ROWS, "t0": t0}
        for statement in FILL_SQL.split(";\n"):
            if statement.strip():
                conn.execute(statement, args if "%(" in statement else None)
        print(f"central: {REPORT_ROWS} inspections stored in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)  # fmt: skip
    figures = []
    for plant in (True, False):
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            pr = plant_report(plant_url, Selection(), plant=plant)
            runs.append(time.perf_counter() - t)
        assert pr.report.totals["inspected"] == REPORT_ROWS, pr.report.totals
        s = float(np.median(runs))
        name = "central_report_1M_plant" if plant else "central_report_1M_per_station"
        figures.append(Figure(name, s, "s", f"< {REPORT_TARGET_S:g} s", s < REPORT_TARGET_S))
    t = time.perf_counter()
    pr = plant_report(plant_url, Selection(shift_id=pr.report.shifts[-1].id), plant=True)
    figures.append(Figure("central_report_one_shift", time.perf_counter() - t, "s"))
    return figures


def run() -> list[Figure]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise Skip("psycopg is not installed (scripts/setup.sh test)") from None
    from station.outputs.central import schema
    from station.outputs.central.connection import connect
    from station.outputs.central.scratch_server import ScratchServer, missing_reason

    why = missing_reason()
    if why:
        raise Skip(why)
    with ScratchServer(fsync=True) as server:
        os.environ["PGPASSFILE"] = str(server.pgpass)
        conn = connect(server.url)
        schema.init(conn)
        conn.close()
        figures = _forwarding(server, server.url)
        figures += _report(server.url)
    return figures
