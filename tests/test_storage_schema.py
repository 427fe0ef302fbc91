"""Schema versions: a schema-1 log is upgraded in place, a newer one is refused; paths."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import platformdirs
import pytest
from storage_support import CLASSES, MODEL, SCHEMA_1_SQL, make_inspection

from station.storage.audit import GENESIS, entry_hash, verify_chain
from station.storage.errors import LogUnavailable, SchemaTooNew
from station.storage.integrity import verify_log
from station.storage.log import SqliteInspectionLog
from station.storage.opening import connect_reader
from station.storage.paths import archive_dir, default_db_path
from station.storage.schema import SCHEMA_VERSION

T0 = 1_780_000_000.0


def make_schema1_db(path: Path, n: int = 5) -> None:
    """A log as the first release wrote it: schema-1 DDL, rows and a chained event."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_1_SQL.read_text())
    for i in range(n):
        outcome = "REJECT" if i % 2 else "PASS"
        reasons = json.dumps([{"class": "crack", "score": 0.9, "threshold": 0.5}] if i % 2 else [])
        conn.execute(
            "INSERT INTO inspections (time_utc, station_id, product, shift_id, sequence, outcome, "
            "reasons, class_names, max_scores, kept, threshold_set_id, model_sha256, latency_ms, "
            "truth_defective) VALUES (?, 'st-old', 'widget', '2026-05-28/night', ?, ?, ?, ?, ?, "
            "'{}', 'abc', ?, 3.0, NULL)",
            (T0 + i, i, outcome, reasons, json.dumps(CLASSES), np.zeros(3, "<f4").tobytes(), MODEL),
        )
    details = '{"sha256":"abc"}'
    h = entry_hash(GENESIS, 1, T0, "model_loaded", "model loaded", details)
    conn.execute(
        "INSERT INTO events VALUES (1, ?, 'model_loaded', 'model loaded', ?, ?, ?)",
        (T0, details, GENESIS, h),
    )
    conn.commit()
    conn.close()


def test_fixture_is_schema_1(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    make_schema1_db(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)


def test_schema_1_log_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    make_schema1_db(db)
    with SqliteInspectionLog(db) as log:
        new_id = log.record(make_inspection(99, T0 + 100, scores={"dent": 0.9}))
    assert new_id == 6
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        old_rows = "SELECT count(*) FROM inspections WHERE station_id = 'st-old'"
        assert conn.execute(old_rows).fetchone() == (5,)
        old = conn.execute("SELECT zone, why, image_path, extra FROM inspections WHERE id = 1")
        assert old.fetchone() == ("UTC", "", None, "{}")
        # the old rows' shift is known to the shifts table (bounds unknown)
        shifts = conn.execute("SELECT id, name, start_utc FROM shifts ORDER BY id").fetchall()
        assert ("2026-05-28/night", "night", None) in shifts
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY id")]
        assert kinds == ["model_loaded", "records_sealed", "schema_migrated", "log_opened"]
        check = verify_chain(conn)
        assert check.ok, check.problem
        log_check = verify_log(conn)
        assert log_check.ok, log_check.broken
        assert [t.rows for t in log_check.tables] == [4, 6, 0]
        indexes = {
            n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert "inspections_shift_outcome" in indexes and "inspections_shift" not in indexes


def test_reader_refuses_an_old_log_untouched(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    make_schema1_db(db)
    before = db.read_bytes()
    with pytest.raises(LogUnavailable, match=r"schema version 1 is older.*station audit upgrade"):
        connect_reader(db)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.sqlite3"]


def test_newer_log_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "future.sqlite3"
    with SqliteInspectionLog(db) as log:
        log.record(make_inspection(1, T0))
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = db.read_bytes()
    with pytest.raises(SchemaTooNew, match=f"schema version {SCHEMA_VERSION + 1} is newer"):
        SqliteInspectionLog(db)
    with pytest.raises(SchemaTooNew):
        connect_reader(db)
    assert db.read_bytes() == before


def test_reader_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LogUnavailable, match="no such file"):
        connect_reader(tmp_path / "nope.sqlite3")
    assert not (tmp_path / "nope.sqlite3").exists()


def test_default_path_is_in_the_user_data_dir() -> None:
    path = default_db_path()
    assert path.parent == Path(platformdirs.user_data_dir("inspection-station", appauthor=False))
    assert path.suffix == ".sqlite3"


def test_archive_is_beside_the_database(tmp_path: Path) -> None:
    assert archive_dir(tmp_path / "line3.sqlite3") == tmp_path / "line3-rejects"
