"""The inspection log on real SQLite files: rows, group commit, events, confirmations."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from storage_support import CLASSES, MODEL, make_inspection

from station.core.errors import StationError
from station.core.shifts import ShiftSchedule
from station.storage.audit import verify_chain
from station.storage.errors import LogUnavailable
from station.storage.log import SqliteInspectionLog

T0 = 1_780_000_000.0  # 2026-05-28T20:26:40Z, 22:26 in Berlin: the night shift
BERLIN = ShiftSchedule("Europe/Berlin")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "log.sqlite3"


def _rows(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_record_writes_every_field(db: Path) -> None:
    with SqliteInspectionLog(db, schedule=BERLIN) as log:
        scores = {"crack": 0.81, "scratch": 0.1}
        ins = make_inspection(7, T0, scores=scores, truth=True, image_seed=1)
        row_id = log.record(ins)
    [row] = _rows(
        db,
        "SELECT time_utc, zone, station_id, product, shift_id, sequence, outcome, reasons, "
        "class_names, max_scores, kept, threshold_set_id, model_sha256, latency_ms, "
        "truth_defective, image_path FROM inspections WHERE id = ?",
        row_id,
    )
    assert row[:7] == (T0, "Europe/Berlin", "st-1", "widget", "2026-05-28/night", 7, "REJECT")
    reasons = [{"class": "crack", "score": pytest.approx(0.81), "threshold": 0.5}]
    assert json.loads(row[7]) == reasons
    assert json.loads(row[8]) == list(CLASSES)
    np.testing.assert_array_equal(np.frombuffer(row[9], dtype="<f4"), ins.max_scores)
    kept = json.loads(row[10])
    assert kept["class_id"] == [1] and kept["xyxy"] == [[10.0, 10.0, 40.0, 40.0]]
    assert row[11:15] == (ins.threshold_set_id, MODEL, 4.5, 1)
    image = db.parent / "log-rejects" / str(row[15])
    assert image.is_file() and image.read_bytes()[:4] == b"\x89PNG"
    [shift] = _rows(db, "SELECT id, name, start_utc, end_utc, zone FROM shifts")
    span = BERLIN.shift_at(T0)
    assert shift == (span.id, "night", span.start_utc, span.end_utc, "Europe/Berlin")


def test_passes_are_not_archived_and_nan_scores_survive(db: Path) -> None:
    frame = np.zeros((8, 8, 3), np.uint8)
    with SqliteInspectionLog(db) as log:
        passed = log.record(make_inspection(1, T0, scores={"scratch": 0.1}, frame=frame))
        held = log.record(make_inspection(2, T0, nan=True, frame=frame))
    rows = dict(_rows(db, "SELECT id, image_path FROM inspections"))
    assert rows[passed] is None
    assert str(rows[held]).endswith("-nodecision.png")
    [(why, shift)] = _rows(db, "SELECT why, shift_id FROM inspections WHERE id = ?", held)
    assert why == "camera lost" and shift == "2026-05-28/day"  # no schedule: one shift per UTC day


def test_concurrent_callers_share_commits_and_get_distinct_ids(db: Path) -> None:
    ids: list[int] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for i in range(100):
            row_id = log.record(make_inspection(k * 1000 + i, T0 + i))
            with lock:
                ids.append(row_id)

    with SqliteInspectionLog(db) as log:
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = log.stats
    assert sorted(ids) == list(range(1, 801))
    assert _rows(db, "SELECT count(*) FROM inspections") == [(800,)]
    assert stats.rows >= 800 and stats.batches <= stats.rows


def test_submit_returns_a_handle_that_commits(db: Path) -> None:
    with SqliteInspectionLog(db) as log:
        handles = [log.submit(make_inspection(i, T0)) for i in range(50)]
        ids = [h.result(timeout_s=30) for h in handles]
        assert all(h.done() for h in handles)
    assert ids == list(range(1, 51))


def test_events_are_chained_and_verify(db: Path) -> None:
    with SqliteInspectionLog(db) as log:
        log.record_event("camera_lost", "camera lost: timeout", camera="cam0", timeout_s=2.0)
        log.record_event("model_loaded", "model loaded", sha256=MODEL, classes=list(CLASSES))
    kinds = [k for (k,) in _rows(db, "SELECT kind FROM events ORDER BY id")]
    assert kinds == ["log_opened", "camera_lost", "model_loaded"]
    with sqlite3.connect(db) as conn:
        check = verify_chain(conn)
    assert check.ok and check.entries == 3


def test_confirmations_are_validated_and_audited(db: Path) -> None:
    with SqliteInspectionLog(db) as log:
        part = log.record(make_inspection(1, T0, scores={"scratch": 0.3}))
        cid = log.confirm(part, True, "scratch", operator="anna")
        with pytest.raises(StationError, match="no logged part with row id 99"):
            log.confirm(99, True, None, operator="anna")
        with pytest.raises(StationError, match="'rust' is not a class"):
            log.confirm(part, True, "rust", operator="anna")
        with pytest.raises(StationError, match="a good part has no defect class"):
            log.confirm(part, False, "scratch", operator="anna")
        with pytest.raises(StationError, match="operator"):
            log.confirm(part, False, None, operator="")
        log.confirm(part, False, None, operator="bob")  # the latest verdict wins
    sql = "SELECT id, inspection_id, defective, class_name, operator FROM confirmations"
    assert _rows(db, sql) == [
        (cid, part, 1, "scratch", "anna"),
        (cid + 1, part, 0, None, "bob"),
    ]
    messages = [m for (m,) in _rows(db, "SELECT message FROM events WHERE kind = 'confirmation'")]
    assert messages == ["anna: part 1 really defective (scratch)", "bob: part 1 really good"]


def test_threshold_change_is_audited_with_figures(db: Path) -> None:
    from storage_support import THRESHOLDS

    new = THRESHOLDS.with_thresholds({"crack": 0.45})
    with SqliteInspectionLog(db) as log:
        log.record_threshold_change(
            who="supervisor",
            old=THRESHOLDS,
            new=new,
            reason="escapes on crack",
            model_sha256=MODEL,
            figures={"escapes_per_1000": 1.2, "scrap_per_1000": 8.0},
        )
    sql = "SELECT message, details FROM events WHERE kind = 'threshold_change'"
    [(message, details)] = _rows(db, sql)
    assert message == "supervisor changed thresholds: crack 0.50 → 0.45 (escapes on crack)"
    d = json.loads(str(details))
    assert d["old"]["class_thresholds"]["crack"] == 0.5
    assert d["new"]["class_thresholds"]["crack"] == 0.45
    assert d["figures"] == {"escapes_per_1000": 1.2, "scrap_per_1000": 8.0}
    assert (d["model_sha256"], d["who"], d["reason"]) == (MODEL, "supervisor", "escapes on crack")


def test_closed_log_refuses_and_close_is_idempotent(db: Path) -> None:
    log = SqliteInspectionLog(db)
    log.close()
    log.close()
    with pytest.raises(LogUnavailable, match="closed"):
        log.record(make_inspection(1, T0))


def test_reopening_appends(db: Path) -> None:
    for k in range(3):
        with SqliteInspectionLog(db) as log:
            log.record(make_inspection(k, T0 + k))
    assert _rows(db, "SELECT count(*) FROM inspections") == [(3,)]
    with sqlite3.connect(db) as conn:
        assert verify_chain(conn).ok
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_bad_image_format_is_refused(db: Path) -> None:
    with pytest.raises(StationError, match="image_format"):
        SqliteInspectionLog(db, image_format="bmp")


def test_a_logged_part_reads_back(db: Path) -> None:
    from storage_support import THRESHOLDS

    from station.core.decision import Outcome
    from station.storage.queries import load_part, recent_parts

    with SqliteInspectionLog(db, schedule=BERLIN) as log:
        log.register_thresholds(THRESHOLDS)
        row = log.record(make_inspection(3, T0, scores={"crack": 0.81, "dent": 0.2}, image_seed=3))
        log.record(make_inspection(4, T0 + 1, scores={}))
        log.confirm(row, True, "crack", operator="anna")
    conn = sqlite3.connect(db)
    try:
        part = load_part(conn, db, row)
        lines = recent_parts(conn, part.shift_id)
        with pytest.raises(StationError, match="no logged part"):
            load_part(conn, db, 999)
    finally:
        conn.close()
    assert part.outcome is Outcome.REJECT and part.sequence == 3 and part.zone == "Europe/Berlin"
    assert [r.class_name for r in part.reasons] == ["crack"]
    np.testing.assert_array_equal(part.thresholds, np.float32([0.4, 0.5, 0.6]))
    assert part.max_scores[2] == np.float32(0.2) and part.max_scores[0] == -np.inf
    assert len(part.kept) == 1 and part.rejecting.all()
    assert part.image_path is not None and part.image_path.is_file()
    assert part.confirmation is not None and part.confirmation.class_name == "crack"
    assert [(p.row_id, p.confirmed) for p in lines] == [(row, True)]  # passes are not listed


def _writer(committed: list[list[int]]):  # type: ignore[no-untyped-def]
    from station.storage.writer import GroupCommitWriter

    def commit(items) -> None:  # type: ignore[no-untyped-def]
        committed.append([it.payload[0] for it in items if it.payload])  # not the barrier

    writer = GroupCommitWriter(commit, lambda items: None, LogUnavailable, "test log")
    writer.start()
    return writer


def test_an_archived_frames_path_rides_with_the_next_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lazy item (the archiver's ATTACH) waits for the next row instead of a commit of its
    own; alone, it is committed after LAZY_S; closing commits it at once."""
    from station.storage import writer as w

    monkeypatch.setattr(w, "LAZY_S", 30.0)
    committed: list[list[int]] = []
    writer = _writer(committed)
    lazy = writer.enqueue(w.Item(w.Kind.ATTACH, (1,)), internal=True, lazy=True)
    threading.Event().wait(0.2)  # the writer had time to commit it alone: it must not
    assert not lazy.done() and committed == []
    writer.enqueue(w.Item(w.Kind.EVENT, (2,))).result(timeout_s=10)
    assert lazy.done() and committed == [[1, 2]]
    late = writer.enqueue(w.Item(w.Kind.ATTACH, (3,)), internal=True, lazy=True)
    closing = writer.stop_intake()
    assert closing is not None
    closing.result(timeout_s=10)  # well before LAZY_S
    assert late.done() and committed[-1][0] == 3
    writer.finish()

    monkeypatch.setattr(w, "LAZY_S", 0.05)
    committed.clear()
    writer = _writer(committed)
    writer.enqueue(w.Item(w.Kind.ATTACH, (4,)), internal=True, lazy=True).result(timeout_s=10)
    assert committed == [[4]]
    writer.stop_intake()
    writer.finish()
