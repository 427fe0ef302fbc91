"""A real log for the Shift tab tests: parts in the current shift and in the previous one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from storage_support import THRESHOLDS, make_inspection

from station.core.shifts import ShiftSchedule
from station.storage.log import SqliteInspectionLog

SCHEDULE = ShiftSchedule("Europe/Berlin")


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[Path, SqliteInspectionLog, dict[str, int]]]:
    """A log with parts in the current shift and in the previous one; the log stays open."""
    db = tmp_path / "log.sqlite3"
    log = SqliteInspectionLog(db, schedule=SCHEDULE)
    now = time.time()
    prev = SCHEDULE.shift_at(SCHEDULE.shift_at(now).start_utc - 1)
    log.register_thresholds(THRESHOLDS)
    rows = {
        "reject": log.record(make_inspection(1, now, scores={"crack": 0.9}, image_seed=1)),
        "pass": log.record(make_inspection(2, now, scores={"scratch": 0.1})),
        "nodecision": log.record(make_inspection(3, now, nan=True, image_seed=3)),
        "dent": log.record(make_inspection(4, now, scores={"dent": 0.7, "crack": 0.6})),
        "old": log.record(make_inspection(5, prev.start_utc + 60, scores={"crack": 0.95})),
    }
    log.record(make_inspection(6, prev.start_utc + 61, scores={}))
    log.close()  # frames written; reopened below for confirmations
    log = SqliteInspectionLog(db, schedule=SCHEDULE)
    yield db, log, rows
    log.close()
