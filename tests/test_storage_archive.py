"""The reject archive: frames beside the db, a size/age limit enforced and logged, rows kept."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from storage_support import archived_frames, make_inspection

from station.core.errors import StationError
from station.storage.archive_limit import ArchiveLimit
from station.storage.audit import verify_chain
from station.storage.log import SqliteInspectionLog
from station.storage.paths import archive_dir


def _images(db: Path) -> list[tuple[int, str | None, float | None]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT id, image_path, image_pruned_utc FROM inspections ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def test_size_limit_prunes_oldest_images_never_rows(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    now = time.time()
    # Noise frames do not compress: each PNG is about 12 kB, the limit holds about eight.
    with SqliteInspectionLog(db, archive=ArchiveLimit(0.1)) as log:
        for i in range(30):
            log.record(make_inspection(i, now + i, scores={"crack": 0.9}, image_seed=i))
    stats = log.stats  # after close: every frame written, the limit applied
    rows = _images(db)
    assert len(rows) == 30  # every row is kept
    kept = [r for r in rows if r[1] is not None]
    pruned = [r for r in rows if r[1] is None]
    assert kept and pruned
    assert max(r[0] for r in pruned) < min(r[0] for r in kept)  # the oldest go first
    assert all(r[2] is not None for r in pruned)
    root = archive_dir(db)
    on_disk = sum(f.stat().st_size for f in archived_frames(root))
    assert on_disk <= 100_000 and on_disk == stats.archive_bytes
    assert {str(p.relative_to(root)) for p in archived_frames(root)} == {r[1] for r in kept}
    conn = sqlite3.connect(db)
    try:
        messages = [
            m for (m,) in conn.execute("SELECT message FROM events WHERE kind = 'archive_pruned'")
        ]
        assert messages and all("size limit 0.1 MB" in m and "rows kept" in m for m in messages)
        assert verify_chain(conn).ok
    finally:
        conn.close()


def test_age_limit_prunes_old_images(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    now = time.time()
    with SqliteInspectionLog(db, archive=ArchiveLimit(None, 1)) as log:
        for i in range(3):
            log.record(make_inspection(i, now - 3 * 86400 + i, scores={"dent": 0.9}, image_seed=i))
        log.record(make_inspection(9, now, scores={"dent": 0.9}, image_seed=9))
    rows = _images(db)
    assert [r[1] is None for r in rows] == [True, True, True, False]
    assert len(list(archived_frames(archive_dir(db)))) == 1


def test_archive_size_is_remembered_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db, archive=ArchiveLimit(None)) as log:
        for i in range(3):
            log.record(make_inspection(i, time.time(), scores={"crack": 0.9}, image_seed=i))
    size = log.stats.archive_bytes  # after close: every frame written
    with SqliteInspectionLog(db, archive=ArchiveLimit(None)) as log:
        assert log.stats.archive_bytes == size > 0


def test_frames_are_written_off_the_commit_path_and_attached(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db) as log:
        row = log.record(make_inspection(1, time.time(), scores={"crack": 0.9}, image_seed=1))
    [(rid, path, _)] = _images(db)
    assert rid == row and path is not None and (archive_dir(db) / path).is_file()


def test_a_frame_that_cannot_be_written_keeps_its_row_and_is_logged(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    archive_dir(db).write_text("a file where the archive folder should be")
    with SqliteInspectionLog(db) as log:
        row = log.record(make_inspection(1, time.time(), scores={"crack": 0.9}, image_seed=1))
    assert log.stats.archive_failures == 1
    assert _images(db) == [(row, None, None)]
    conn = sqlite3.connect(db)
    try:
        [(message,)] = conn.execute("SELECT message FROM events WHERE kind = 'archive_error'")
        assert f"frame of part {row} not saved" in message
        assert verify_chain(conn).ok
    finally:
        conn.close()


@pytest.mark.parametrize("kwargs", [{"max_mb": 0}, {"max_mb": -1.0}, {"max_age_days": 0}])
def test_bad_limits_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(StationError, match="archive limit"):
        ArchiveLimit(**kwargs)
