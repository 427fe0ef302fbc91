"""The audit chain: intact logs verify; an edited, deleted or truncated entry is named."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from storage_support import MODEL, THRESHOLDS

from station.cli import main
from station.storage.log import SqliteInspectionLog


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(path) as log:  # event 1: log_opened
        log.record_event("camera_lost", "camera lost", camera="cam0")  # 2
        log.record_event("camera_found", "camera found", camera="cam0")  # 3
        log.record_threshold_change(  # 4
            who="sup",
            old=THRESHOLDS,
            new=THRESHOLDS.with_thresholds({"crack": 0.3}),
            reason="test",
            model_sha256=MODEL,
            figures={"escapes": 0, "scrap": 3},
        )
        log.record_event("error", "model error", detail="NaN")  # 5
    return path


def _sql(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_intact_chain_exits_zero(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--db", str(db)]) == 0
    assert "intact: 5 events, 0 inspections, 0 confirmations" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("tamper", "bad_id", "says"),
    [
        ("UPDATE events SET message = 'camera fine' WHERE id = 2", 2, "was edited"),
        (
            "UPDATE events SET details = replace(details, '0.3', '0.6') WHERE id = 4",
            4,
            "was edited",
        ),
        ("UPDATE events SET time_utc = time_utc - 3600 WHERE id = 3", 3, "was edited"),
        ("DELETE FROM events WHERE id = 3", 4, "does not follow event 2"),
        ("DELETE FROM events WHERE id = 5", 5, "entries at the end were deleted"),
        ("DELETE FROM events", 5, "entries at the end were deleted"),
    ],
)
def test_tampering_is_detected_and_named(
    db: Path, tamper: str, bad_id: int, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(db, tamper)
    assert main(["audit", "verify", "--db", str(db)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert f"BROKEN: table events, row {bad_id}:" in line and says in line


def test_rechaining_after_an_edit_still_breaks_at_the_head(db: Path) -> None:
    # Re-hashing the edited entry alone moves the break to the next entry.
    from station.storage.audit import entry_hash

    conn = sqlite3.connect(db)
    t, kind, details, prev = conn.execute(
        "SELECT time_utc, kind, details, prev_hash FROM events WHERE id = 2"
    ).fetchone()
    forged = entry_hash(prev, 2, t, kind, "camera fine", details)
    conn.execute("UPDATE events SET message = 'camera fine', hash = ? WHERE id = 2", (forged,))
    conn.commit()
    conn.close()
    from station.storage.audit import verify_chain

    conn = sqlite3.connect(db)
    check = verify_chain(conn)
    conn.close()
    assert not check.ok and check.first_bad_id == 3


def test_missing_log_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--db", str(tmp_path / "none.sqlite3")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_entries_appended_by_a_new_process_keep_the_chain(db: Path) -> None:
    with SqliteInspectionLog(db) as log:
        log.record_event("model_loaded", "model loaded", sha256=MODEL)
    assert main(["audit", "verify", "--db", str(db)]) == 0
