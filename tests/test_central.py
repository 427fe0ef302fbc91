"""Store and forward into a real PostgreSQL: every journal row lands once, nothing is lost.

A scratch cluster (tests/central_support.py) serves every test; the tests that
crash the server start their own. After each scenario the central rows equal
the journal's exactly (counts, content hashes and values), with no duplicate.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from central_support import assert_central_equals_local, new_database
from storage_support import THRESHOLDS, make_inspection

from station.cli import main
from station.core.errors import StationError
from station.core.thresholds import ThresholdSet
from station.outputs.central.connection import connect
from station.outputs.central.scratch_server import ScratchServer
from station.services.forwarding import open_forwarding, start_forwarder
from station.storage.archive_limit import ArchiveLimit
from station.storage.log import SqliteInspectionLog
from station.storage.paths import archive_dir

T0 = 1_780_000_000.0
STATION = Path(__file__).parent / "fixtures" / "forwarding_station.py"


def log_shift(db: Path, station_id: str, n: int = 120, t0: float = T0) -> None:
    """A shift: passes, rejects with archived frames, no-decisions, confirmations, a change."""
    with SqliteInspectionLog(db, archive=ArchiveLimit(None)) as log:
        log.register_thresholds(THRESHOLDS)
        ids = []
        for i in range(n):
            reject = i % 5 == 0
            ids.append(
                log.record(
                    make_inspection(
                        i,
                        t0 + i,
                        scores={"crack": 0.9} if reject else {"scratch": 0.1},
                        nan=i % 17 == 3,
                        image_seed=i if reject else None,
                        truth=i % 3 == 0 if i % 2 else None,
                        station_id=station_id,
                    )
                )
            )
        log.confirm(ids[0], True, "crack", "anna")
        log.confirm(ids[1], False, None, "anna")
        log.confirm(ids[1], True, "dent", "ben")  # the latest confirmation is the truth
        new = ThresholdSet({"crack": 0.45, "dent": 0.6}, 0.4, "f" * 64)
        log.record_threshold_change(
            who="sam", old=THRESHOLDS, new=new, reason="test", model_sha256="f" * 64
        )


def sync(db: Path, url: str, capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(["sync", "--db", str(db), "--to", url, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == (1 if doc["remaining"] else 0)
    return doc


def test_forward_a_shift(tmp_path: Path, central_url: str, capsys) -> None:
    db = tmp_path / "a.sqlite3"
    log_shift(db, "press-1")
    doc = sync(db, central_url, capsys)
    assert doc["station_id"] == "press-1" and doc["remaining"] == 0 and not doc["quarantined"]
    counts = assert_central_equals_local(db, central_url, "press-1")
    assert counts["inspections"] == 120 and counts["confirmations"] == 3 and counts["images"] == 24
    assert doc["sent"] == sum(counts.values())  # one outbox row per journal row and frame
    # Archived frames stay on the station; the central row has their path and SHA-256.
    conn = connect(central_url)
    images = conn.execute("SELECT path, sha256 FROM images ORDER BY inspection_id").fetchall()
    conn.close()
    for rel, sha in images:
        assert sha == hashlib.sha256((archive_dir(db) / rel).read_bytes()).hexdigest()
    # Again: nothing to send, nothing doubled.
    again = sync(db, central_url, capsys)
    assert again["sent"] == 0 and again["remaining"] == 0
    assert_central_equals_local(db, central_url, "press-1")


def test_report_central_matches_the_journal_report(tmp_path: Path, central_url: str, capsys):
    db = tmp_path / "a.sqlite3"
    log_shift(db, "press-1")
    sync(db, central_url, capsys)
    assert main(["report", "--db", str(db), "--json"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert main(["report", "--central", central_url, "--json"]) == 0
    central = json.loads(capsys.readouterr().out)
    assert central["totals"] == local["totals"]
    assert len(central["shifts"]) == len(local["shifts"]) == 1
    shift_c, shift_l = central["shifts"][0], local["shifts"][0]
    assert shift_c.pop("station_id") == "press-1"
    for change in shift_c["threshold_changes"]:
        assert change.pop("station_id") == "press-1"
    assert shift_c == shift_l
    (row,) = central["stations"]
    t = local["totals"]
    assert row["station_id"] == "press-1" and row["last_seen"]
    assert [row[k] for k in ("inspected", "passed", "rejected", "no_decision", "yield")] == [
        t["inspected"], t["passed"], t["rejected"], t["no_decision"], t["yield"],
    ]  # fmt: skip


def test_two_stations_into_one_database(tmp_path: Path, central_url: str, capsys) -> None:
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    log_shift(a, "press-1", n=120)
    log_shift(b, "press-2", n=75, t0=T0 + 30)
    sync(a, central_url, capsys)
    sync(b, central_url, capsys)
    assert_central_equals_local(a, central_url, "press-1")
    assert_central_equals_local(b, central_url, "press-2")
    assert main(["report", "--central", central_url, "--plant", "--json"]) == 0
    plant = json.loads(capsys.readouterr().out)
    assert plant["totals"]["inspected"] == 195
    (shift,) = plant["shifts"]  # one plant shift across both stations
    assert shift["station_id"] is None and shift["inspected"] == 195
    assert [s["station_id"] for s in plant["stations"]] == ["press-1", "press-2"]
    assert [s["inspected"] for s in plant["stations"]] == [120, 75]
    assert main(["report", "--central", central_url, "--json"]) == 0
    per_station = json.loads(capsys.readouterr().out)
    assert sorted(s["station_id"] for s in per_station["shifts"]) == ["press-1", "press-2"]
    assert main(["report", "--central", central_url, "--station", "press-2", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert one["totals"]["inspected"] == 75 and len(one["stations"]) == 1
    assert main(["report", "--central", central_url, "--plant"]) == 0
    text = capsys.readouterr().out
    assert "press-1" in text and "press-2" in text and "195" in text


def test_one_station_id_from_two_journals_is_refused(tmp_path: Path, central_url, capsys):
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    log_shift(a, "press-1", n=5)
    log_shift(b, "press-1", n=5)
    sync(a, central_url, capsys)
    assert main(["sync", "--db", str(b), "--to", central_url]) == 2
    err = capsys.readouterr().err
    assert "already forwarded from another journal" in err and len(err.splitlines()) == 1


def test_a_refused_row_is_quarantined_not_lost(tmp_path: Path, central_url: str, capsys):
    db = tmp_path / "a.sqlite3"
    with SqliteInspectionLog(db) as log:
        for i in range(30):
            log.record(make_inspection(i, T0 + i, station_id="press-1"))
        log.record_event("error", "camera said \x00")  # PostgreSQL text refuses NUL
        for i in range(30, 40):
            log.record(make_inspection(i, T0 + i, station_id="press-1"))
    doc = sync(db, central_url, capsys)
    assert doc["remaining"] == 0
    (q,) = doc["quarantined"]
    assert q["kind"] == "event" and q["attempts"] == 3 and "NUL" in q["error"]
    conn = connect(central_url)
    assert conn.execute("SELECT count(*) FROM inspections").fetchone()[0] == 40
    assert conn.execute("SELECT kind, row_id FROM quarantine").fetchall() == [
        ("event", q["row_id"])
    ]
    conn.close()
    with SqliteInspectionLog(db) as log:  # the journal still holds it
        pass
    main(["sync", "--db", str(db), "--to", central_url])
    assert "quarantined: sequence" in capsys.readouterr().out


def test_server_killed_mid_stream_then_restarted(tmp_path: Path, pg_server) -> None:
    """On a server of its own (pg_server is only the skip condition): it is crashed."""
    db = tmp_path / "a.sqlite3"
    with ScratchServer() as server:
        env_before = os.environ.get("PGPASSFILE")
        os.environ["PGPASSFILE"] = str(server.pgpass)
        try:
            url = new_database(server)
            log = SqliteInspectionLog(db, archive=ArchiveLimit(None))
            fwd = start_forwarder(db, url, "press-1", poll_s=0.02, batch_rows=50)
            stop = threading.Event()
            logged = []

            def line() -> None:
                i = 0
                while not stop.is_set():
                    t = time.perf_counter()
                    log.record(make_inspection(i, time.time(), station_id="press-1"))
                    logged.append(time.perf_counter() - t)
                    fwd.wake()
                    i += 1
                    time.sleep(0.003)

            worker = threading.Thread(target=line)
            worker.start()
            try:
                _wait(lambda: fwd.status.sent > 100, "forwarding started")
                server.stop("immediate")  # a crash, mid-stream
                _wait(lambda: not fwd.status.connected, "the forwarder saw the server go")
                before = len(logged)
                time.sleep(1.0)
                assert len(logged) - before > 50  # the line kept logging: it never waits
                _wait(lambda: fwd.status.rows_behind > 50, "a backlog")
                assert fwd.status.oldest_age_s and "rows behind" in fwd.status.text()
                server.start()
            finally:
                time.sleep(0.5)
                stop.set()
                worker.join()
            _wait(lambda: fwd.status.up_to_date, "the backlog drained", timeout_s=60)
            fwd.close()
            log.close()
            # close() logged nothing after the drain? forward whatever is left, then compare.
            done = subprocess.run(
                [sys.executable, "-m", "station", "sync", "--db", str(db), "--to", url],
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            counts = assert_central_equals_local(db, url, "press-1")
            assert counts["inspections"] == len(logged)
        finally:
            if env_before is None:
                os.environ.pop("PGPASSFILE", None)
            else:
                os.environ["PGPASSFILE"] = env_before


def test_station_sigkilled_mid_batch(tmp_path: Path, pg_server: ScratchServer) -> None:
    url = new_database(pg_server)
    db = tmp_path / "a.sqlite3"
    conn = connect(url)
    for run in range(3):  # killed three times, each run appending to the same journal
        proc = subprocess.Popen(
            [sys.executable, str(STATION), str(db), url, "press-1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n", proc.stderr.read() if proc.stderr else ""
        floor = conn.execute("SELECT count(*) FROM inspections").fetchone()[0]
        _wait(
            lambda f=floor + 60 + 40 * run: (
                conn.execute("SELECT count(*) FROM inspections").fetchone()[0] > f
            ),
            "rows forwarded",
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
    conn.close()
    env = {**os.environ}
    done = subprocess.run(
        [sys.executable, "-m", "station", "sync", "--db", str(db), "--to", url, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["remaining"] == 0
    assert_central_equals_local(db, url, "press-1")


def test_password_comes_from_the_environment(tmp_path: Path, pg_server: ScratchServer) -> None:
    url = new_database(pg_server)
    db = tmp_path / "a.sqlite3"
    log_shift(db, "press-1", n=3)
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSFILE", "PGPASSWORD")}
    env["PGPASSFILE"] = str(tmp_path / "none")
    cmd = [sys.executable, "-m", "station", "sync", "--db", str(db), "--to", url]
    refused = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert refused.returncode == 2 and "cannot connect" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    env["PGPASSWORD"] = pg_server.password
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "0 remaining" in done.stdout


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://qc:secret@db.plant:5432/inspection", "a password in the URL is refused"),
        ("mysql://qc@db.plant/inspection", "expected a postgresql://"),
        ("postgresql://qc@db.plant:5432/", "names no database"),
    ],
)
def test_bad_urls_are_refused_in_one_line(tmp_path: Path, capsys, url: str, says: str) -> None:
    assert main(["central", "init", "--url", url]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert "secret" not in err


def test_central_init_is_idempotent_and_required(pg_server: ScratchServer, tmp_path, capsys):
    url = new_database(pg_server, init=False)
    db = tmp_path / "a.sqlite3"
    log_shift(db, "press-1", n=3)
    assert main(["sync", "--db", str(db), "--to", url]) == 2
    assert "run `station central init --url URL` first" in capsys.readouterr().err
    assert main(["central", "init", "--url", url]) == 0
    assert "created" in capsys.readouterr().out
    assert main(["central", "init", "--url", url]) == 0
    assert "is current" in capsys.readouterr().out


def test_forwarding_reads_an_upgraded_journal_from_its_start(tmp_path: Path, central_url: str):
    """Rows logged before the outbox existed are queued by the upgrade, in time order."""
    db = tmp_path / "a.sqlite3"
    log_shift(db, "press-1", n=10)
    fwd = open_forwarding(db, central_url)
    try:
        with sqlite3.connect(db) as conn:
            queued = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        assert fwd.status().rows_behind == queued > 10
        while True:
            fwd.step()
            if fwd.idle:
                break
        assert fwd.status().up_to_date
    finally:
        fwd.close()
    assert_central_equals_local(db, central_url, "press-1")


def _wait(cond, what: str, timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.02)


def test_tuning_sample_from_every_station_that_ran_the_model(
    tmp_path: Path, central_url: str, capsys
) -> None:
    from storage_support import MODEL

    from station.services.plant_sample import plant_confirmed_sample
    from station.services.tuning_samples import PLANT_LABEL, SampleCatalog
    from station.storage.samples import confirmed_sample

    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    log_shift(a, "press-1", n=40)
    log_shift(b, "press-2", n=30, t0=T0 + 5)
    with SqliteInspectionLog(b) as log:  # more verdicts on press-2, a changed mind included
        for row_id in (5, 6, 10, 11):
            log.confirm(row_id, row_id % 2 == 0, "crack" if row_id % 2 == 0 else None, "ida")
    sync(a, central_url, capsys)
    sync(b, central_url, capsys)
    one, two = confirmed_sample(a, MODEL), confirmed_sample(b, MODEL)
    plant = plant_confirmed_sample(central_url, MODEL)
    s = plant.sample
    assert s.n_parts == one.sample.n_parts + two.sample.n_parts  # a bigger sample
    assert set(s.part_ids) == {f"press-1#{i}" for i in one.row_ids} | {
        f"press-2#{i}" for i in two.row_ids
    }
    for station, local in (("press-1", one), ("press-2", two)):
        for k, row_id in enumerate(local.row_ids):
            j = s.part_ids.index(f"{station}#{row_id}")
            assert (s.scores[j] == local.sample.scores[k]).all()
            assert (s.truth[j] == local.sample.truth[k]).all()
    with pytest.raises(StationError, match="no confirmed parts logged with model"):
        plant_confirmed_sample(central_url, "0" * 64)
    catalog = SampleCatalog.for_model(
        Path("unused.onnx"), model_sha256=MODEL, central_url=central_url
    )
    (entry,) = [e for e in catalog.entries() if e.kind == "plant"]
    loaded = catalog.job(entry)(lambda done, total: None)
    assert loaded.label == PLANT_LABEL and loaded.sample.n_parts == s.n_parts
    assert loaded.image_paths == (None,) * s.n_parts  # the frames stay on their stations


def test_status_line_names_the_problem() -> None:
    from station.outputs.central.forward_status import ForwardStatus

    def text(error: str) -> str:
        return ForwardStatus("t", rows_behind=3, oldest_age_s=150.0, last_error=error).text()

    assert text("central database t: cannot connect (refused)") == (
        "Central: 3 rows behind (oldest 2 min) · server unreachable"
    )
    assert text("the central database needs psycopg: pip install ...").endswith(
        "psycopg not installed"
    )
    assert "run station central init" in text("...: run `station central init --url URL` first")
    assert ForwardStatus("t", connected=True).text() == "Central: up to date"
    assert ForwardStatus("t").text() == "Central: connecting…"
    assert ForwardStatus("t", connected=True, quarantined=2).text() == (
        "Central: up to date · 2 row(s) quarantined (kept in the log)"
    )
