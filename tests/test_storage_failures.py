"""When the log cannot be written it says what to do, and nothing committed is lost."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from storage_support import make_inspection

from station.storage.errors import LogUnavailable
from station.storage.log import SqliteInspectionLog
from station.storage.opening import connect_reader

T0 = 1_780_000_000.0
SMALL_DISK = Path(__file__).parent / "fixtures" / "log_on_small_disk.py"


def test_locked_database_fails_the_batch_then_recovers(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db, busy_timeout_s=0.1) as log:
        first = log.record(make_inspection(1, T0))
        other = sqlite3.connect(db, isolation_level=None)  # e.g. a database browser
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(LogUnavailable, match=r"locked by another program.*close whatever"):
                log.record(make_inspection(2, T0 + 1))
        finally:
            other.execute("ROLLBACK")
            other.close()
        second = log.record(make_inspection(3, T0 + 2))  # the next part is logged again
    with sqlite3.connect(db) as conn:
        seqs = [s for (s,) in conn.execute("SELECT sequence FROM inspections ORDER BY id")]
    assert seqs == [1, 3] and second == first + 1


def test_corrupt_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    garbage = b"this is not a database, it is a shopping list\n" * 200
    db.write_bytes(garbage)
    with pytest.raises(LogUnavailable, match=r"corrupt or not a station log.*move .* aside"):
        SqliteInspectionLog(db)
    assert db.read_bytes() == garbage


def test_damaged_pages_are_reported_as_corrupt(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db) as log:
        handles = [
            log.submit(make_inspection(i, T0 + i, scores={"crack": 0.9})) for i in range(300)
        ]
        for h in handles:
            h.result()
    data = bytearray(db.read_bytes())
    data[4096 : 4096 * 3] = b"\xff" * (4096 * 2)  # smash two pages past the header
    db.write_bytes(bytes(data))
    with pytest.raises(LogUnavailable, match="corrupt or not a station log"):
        log = SqliteInspectionLog(db)  # may already fail here, or at the first write
        try:
            for i in range(300, 400):
                log.record(make_inspection(i, T0 + i, scores={"crack": 0.9}))
        finally:
            log.close()
    with pytest.raises(LogUnavailable, match="corrupt"):
        conn = connect_reader(db)
        try:
            conn.execute("SELECT count(*), sum(latency_ms) FROM inspections").fetchone()
        except sqlite3.DatabaseError as exc:
            from station.storage.errors import explain

            raise explain(db, exc) from exc
        finally:
            conn.close()


def _namespace_cmd() -> list[str] | None:
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    probe = subprocess.run(
        [unshare, "--map-root-user", "--mount", "true"], capture_output=True, text=True, timeout=10
    )
    return None if probe.returncode else [unshare, "--map-root-user", "--mount"]


def test_full_disk_and_read_only_disk(tmp_path: Path) -> None:
    """A real tiny tmpfs in a private mount namespace: filled, freed, then remounted read-only."""
    ns = _namespace_cmd()
    if ns is None:
        pytest.skip("needs `unshare --map-root-user --mount` (user namespaces) for a tiny disk")
    result = subprocess.run(
        [*ns, sys.executable, str(SMALL_DISK), str(tmp_path / "disk")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    steps = {s["step"]: s for s in map(json.loads, result.stdout.splitlines())}
    full = steps["full"]
    assert full["committed"] > 0
    assert "is full" in full["error"] and "free space there" in full["error"]
    assert "is full" in steps["full_image"]["error"]
    assert steps["freed"]["ok"], steps["freed"]
    after = steps["after_full"]
    assert after["rows"] == after["committed"]  # every acknowledged row, no more, no fewer
    assert after["integrity"] == "ok"
    readonly = steps["readonly"]["error"]
    assert "read-only" in readonly and "write access" in readonly
