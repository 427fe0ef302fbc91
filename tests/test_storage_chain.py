"""Inspections and confirmations are chained: any edit made with sqlite3 is named by verify.

Each test tampers with a real log file through the real sqlite3 module (as
someone with the sqlite3 shell would), then runs `station audit verify` and
`station report` on it.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from storage_support import make_inspection

from station.cli import main
from station.storage import chain
from station.storage.integrity import verify_log, verify_rows
from station.storage.log import SqliteInspectionLog

T0 = 1_780_000_000.0
PARTS = 20


def _log(path: Path) -> Path:
    with SqliteInspectionLog(path) as log:
        ids = [
            log.record(make_inspection(i, T0 + i, scores={"crack": 0.9} if i % 4 == 0 else {}))
            for i in range(PARTS)
        ]
        log.confirm(ids[4], False, None, operator="anna")  # a rejected part, really good
        log.confirm(ids[5], True, "dent", operator="anna")  # a passed part, really defective
        log.confirm(ids[8], True, "crack", operator="bob")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return _log(tmp_path / "log.sqlite3")


def _sql(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


def _verify(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["audit", "verify", "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def test_intact_log_verifies(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _verify(db, capsys)
    assert code == 0 and err == ""
    assert f"{PARTS} inspections, 3 confirmations" in out


@pytest.mark.parametrize(
    ("tamper", "table", "row", "says"),
    [
        (  # a REJECT flipped to PASS: the escape disappears from the report
            ["UPDATE inspections SET outcome = 'PASS', reasons = '[]' WHERE id = 5"],
            "inspections",
            5,
            "was edited",
        ),
        (["UPDATE inspections SET truth_defective = 1 WHERE id = 2"], "inspections", 2, "edited"),
        (["UPDATE inspections SET max_scores = x'00' WHERE id = 3"], "inspections", 3, "edited"),
        (["UPDATE inspections SET latency_ms = 1.0 WHERE id = 9"], "inspections", 9, "edited"),
        (["DELETE FROM inspections WHERE id = 7"], "inspections", 8, "does not follow row 6"),
        (["DELETE FROM inspections WHERE id = 20"], "inspections", 20, "at the end were deleted"),
        (["DELETE FROM inspections WHERE id > 15"], "inspections", 20, "at the end were deleted"),
        (["DELETE FROM inspections"], "inspections", 20, "at the end were deleted"),
        (["UPDATE inspections SET id = 100 WHERE id = 20"], "inspections", 100, "was edited"),
        (
            [
                "INSERT INTO inspections (id, time_utc, station_id, product, shift_id, sequence, "
                "outcome, reasons, class_names, max_scores, kept, threshold_set_id, model_sha256, "
                "latency_ms) SELECT 21, time_utc, station_id, product, shift_id, 99, 'PASS', "
                "'[]', class_names, max_scores, kept, threshold_set_id, model_sha256, latency_ms "
                "FROM inspections WHERE id = 1"
            ],
            "inspections",
            21,
            "added outside the station",
        ),
        (["DELETE FROM chain_heads WHERE tbl = 'inspections'"], "inspections", 20, "missing"),
        (["UPDATE confirmations SET defective = 0 WHERE id = 2"], "confirmations", 2, "edited"),
        (["UPDATE confirmations SET operator = 'eve' WHERE id = 1"], "confirmations", 1, "edited"),
        (["DELETE FROM confirmations WHERE id = 3"], "confirmations", 3, "at the end"),
        (["DELETE FROM confirmations WHERE id = 2"], "confirmations", 3, "does not follow"),
    ],
)
def test_each_kind_of_tampering_is_named(
    db: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: list[str],
    table: str,
    row: int,
    says: str,
) -> None:
    _sql(db, *tamper)
    code, out, err = _verify(db, capsys)
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert f"BROKEN: table {table}, row {row}: " in line
    assert says in line


def test_an_edit_breaks_one_link_and_the_count_says_how_many(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(db, "UPDATE inspections SET outcome = 'PASS' WHERE id IN (5, 9, 13)")
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "row 5:" in err and "(3 broken links in inspections)" in err


def test_report_says_when_the_chain_under_it_is_broken(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(db, "UPDATE inspections SET outcome = 'PASS', reasons = '[]' WHERE id = 5")
    assert main(["report", "--db", str(db), "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["chain"]["intact"] is False
    assert "table inspections, row 5" in doc["chain"]["problems"][0]
    assert "WARNING" in err and "station audit verify" in err
    assert main(["report", "--db", str(db)]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("WARNING: AUDIT CHAIN BROKEN (inspections row 5)")
    sheet = db.with_suffix(".csv")
    assert main(["report", "--db", str(db), "--csv", str(sheet)]) == 0
    rows = list(csv.DictReader(sheet.open()))
    assert rows and all(r["audit_chain"] == "BROKEN: inspections row 5" for r in rows)


def test_checkpoints_let_a_check_start_before_the_rows_it_covers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chain, "CHECKPOINT_EVERY", 4)
    db = _log(tmp_path / "log.sqlite3")
    with sqlite3.connect(db) as conn:
        marks = conn.execute("SELECT row_id, rows FROM chain_checkpoints WHERE tbl = 'inspections'")
        assert marks.fetchall() == [(4, 4), (8, 8), (12, 12), (16, 16), (20, 20)]
        assert verify_rows(conn, "inspections", from_id=14).ok
        conn.execute("UPDATE inspections SET outcome = 'PASS' WHERE id = 5")
        assert verify_rows(conn, "inspections", from_id=14).ok  # not under rows 14..20
        assert verify_rows(conn, "inspections").first_bad_id == 5
        conn.execute("UPDATE inspections SET sequence = 0 WHERE id = 15")
        assert verify_rows(conn, "inspections", from_id=14).first_bad_id == 15
        conn.execute("DELETE FROM inspections WHERE id = 12")
        check = verify_rows(conn, "inspections", from_id=14)
        assert check.first_bad_id == 12 and "checkpoint" in check.problem


def test_rows_written_by_a_second_writer_continue_the_chain(db: Path) -> None:
    with SqliteInspectionLog(db) as log:
        log.record(make_inspection(99, T0 + 99))
        log.confirm(1, True, "crack", operator="carl")
    with sqlite3.connect(db) as conn:
        check = verify_log(conn)
    assert check.ok, [t.line() for t in check.broken]
    assert [t.rows for t in check.tables][1:] == [PARTS + 1, 4]


def test_a_sealed_old_log_catches_later_edits(tmp_path: Path) -> None:
    from test_storage_schema import make_schema1_db

    db = tmp_path / "old.sqlite3"
    make_schema1_db(db, n=5)
    assert main(["audit", "upgrade", "--db", str(db)]) == 0
    with sqlite3.connect(db) as conn:
        (details,) = conn.execute(
            "SELECT details FROM events WHERE kind = 'records_sealed'"
        ).fetchone()
        assert json.loads(details)["sealed"] == {"inspections": 5, "confirmations": 0}
        assert verify_log(conn).ok
        conn.execute("UPDATE inspections SET outcome = 'PASS' WHERE id = 2")
        check = verify_log(conn)
    assert [(t.table, t.first_bad_id) for t in check.broken] == [("inspections", 2)]


def test_a_long_chain_is_walked_in_stretches_by_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import station.storage.walk as walk

    monkeypatch.setattr(chain, "CHECKPOINT_EVERY", 4)
    monkeypatch.setattr(walk, "PARALLEL_FROM_ROWS", 1)
    monkeypatch.setattr(walk, "MAX_WORKERS", 3)
    monkeypatch.setattr(walk.os, "sched_getaffinity", lambda _pid: {0, 1, 2})
    db = _log(tmp_path / "log.sqlite3")
    with sqlite3.connect(db) as conn:
        assert len(walk.stretches(conn, "inspections", chain.ChainHead(), 3)) == 3
        assert verify_rows(conn, "inspections").ok
        conn.execute("UPDATE inspections SET outcome = 'PASS' WHERE id IN (13, 17)")
        conn.commit()
        check = verify_rows(conn, "inspections")
        assert (check.first_bad_id, check.broken, check.rows) == (13, 2, PARTS)
        conn.execute("DELETE FROM inspections WHERE id = 8")  # a checkpoint row
        conn.commit()
        check = verify_rows(conn, "inspections")
        assert check.first_bad_id == 8 and "checkpoint" in check.problem


def test_awkward_values_verify_as_written(tmp_path: Path) -> None:
    """The writer's canonical row equals the one SQLite's quote() gives back, for every type."""
    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db) as log:
        for k, station in enumerate(["it's", "é€😀", "nul\x00after", "", "x" * 5000]):
            log.record(make_inspection(-k, T0 + 0.1 * k, station_id=station, truth=k % 2 == 0))
        log.record(make_inspection(2**40, 0.0, scores={"dent": 1.0}))
        rid = log.record(make_inspection(7, T0, nan=True))
        log.confirm(rid, True, "dent", operator="O'Brien")
    with sqlite3.connect(db) as conn:
        check = verify_log(conn)
    assert check.ok, [t.line() for t in check.broken]
    assert [t.rows for t in check.tables][1:] == [7, 1]


def test_rows_and_head_rewritten_together_are_caught_by_the_event_anchor(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SqliteInspectionLog(db).close()  # its log_opened event anchors the head: row 20
    conn = sqlite3.connect(db)
    (link19,) = conn.execute("SELECT link FROM inspections WHERE id = 19").fetchone()
    conn.execute("DELETE FROM inspections WHERE id = 20")
    conn.execute(
        "UPDATE chain_heads SET row_id = 19, rows = 19, link = ? WHERE tbl = 'inspections'",
        (link19,),
    )
    conn.commit()
    conn.close()
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "table inspections, row 20: first broken link: event" in err
    assert "recorded the chain ending at row 20" in err


def test_an_edit_re_linked_to_the_end_is_caught_by_the_event_anchor(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SqliteInspectionLog(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE inspections SET outcome = 'PASS', reasons = '[]' WHERE id = 5")
    conn.execute("UPDATE inspections SET link = NULL WHERE id >= 5")
    (prev,) = conn.execute("SELECT link FROM inspections WHERE id = 4").fetchone()
    conn.execute(
        "UPDATE chain_heads SET row_id = 4, rows = 4, link = ? WHERE tbl = 'inspections'", (prev,)
    )
    chain.seal(conn, "inspections")  # the forger's own re-linking, with the station's code
    conn.commit()
    conn.close()
    code, _, err = _verify(db, capsys)
    assert code == 1 and "recorded the chain ending at row 20" in err


def test_every_event_anchors_the_chains(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT kind, details FROM events ORDER BY id").fetchall()
    confirmations = [json.loads(d)["chain"] for k, d in rows if k == "confirmation"]
    assert [c["confirmations"][:2] for c in confirmations] == [[1, 1], [2, 2], [3, 3]]
    assert all(c["inspections"][:2] == [PARTS, PARTS] for c in confirmations)


def test_confirmations_deleted_with_their_head_are_caught(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(db, "DELETE FROM confirmations", "DELETE FROM chain_heads WHERE tbl = 'confirmations'")
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "table confirmations, row 3: first broken link: event" in err
    assert "(confirmation) recorded the chain ending at row 3" in err


def test_the_last_confirmation_cut_with_its_head_is_caught(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(
        db,
        "DELETE FROM confirmations WHERE id = 3",
        "UPDATE chain_heads SET row_id = 2, rows = 2, link = "
        "(SELECT link FROM confirmations WHERE id = 2) WHERE tbl = 'confirmations'",
    )
    code, _, err = _verify(db, capsys)
    assert code == 1 and "recorded the chain ending at row 3" in err


def test_the_last_part_cut_with_its_head_in_a_log_never_reopened_is_caught(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the log_opened event at the start anchored the chains before: nothing protected
    the rows of the run itself once chain_heads was edited to match."""
    _sql(
        db,
        f"DELETE FROM inspections WHERE id = {PARTS}",
        f"UPDATE chain_heads SET row_id = {PARTS - 1}, rows = {PARTS - 1}, link = "
        f"(SELECT link FROM inspections WHERE id = {PARTS - 1}) WHERE tbl = 'inspections'",
    )
    code, _, err = _verify(db, capsys)
    assert code == 1 and f"table inspections, row {PARTS}: first broken link: event" in err


def test_a_missing_head_is_named_as_such_in_the_report(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sql(db, "DELETE FROM meta WHERE key = 'audit_head'")
    sheet = db.with_suffix(".csv")
    assert main(["report", "--db", str(db), "--csv", str(sheet)]) == 0
    assert capsys.readouterr().out.startswith("WARNING: AUDIT CHAIN BROKEN (events head)")
    assert {r["audit_chain"] for r in csv.DictReader(sheet.open())} == {"BROKEN: events head"}
