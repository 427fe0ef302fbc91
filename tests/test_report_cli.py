"""`station report`: totals equal the rows, per-shift figures, selections, JSON and CSV."""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from storage_support import MODEL, THRESHOLDS, make_inspection

from station.cli import main
from station.core.shifts import ShiftSchedule
from station.storage.log import SqliteInspectionLog

BERLIN = ShiftSchedule("Europe/Berlin")


def _t(local: str) -> float:
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Europe/Berlin")).timestamp()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three shifts around the spring-forward night, plus the current shift."""
    path = tmp_path_factory.mktemp("report") / "log.sqlite3"
    with SqliteInspectionLog(path, schedule=BERLIN) as log:
        # 2026-03-28 late: 4 parts, 1 crack reject, 1 crack+dent reject, 1 no decision
        log.record(make_inspection(1, _t("2026-03-28T15:00"), scores={"scratch": 0.1}, truth=False))
        crack = log.record(make_inspection(2, _t("2026-03-28T15:01"), scores={"crack": 0.9}))
        log.record(make_inspection(3, _t("2026-03-28T15:02"), scores={"crack": 0.7, "dent": 0.8}))
        log.record(make_inspection(4, _t("2026-03-28T15:03"), nan=True))
        # 2026-03-28 night (7 h, crosses midnight and the DST jump): 3 parts, one escape
        escape = log.record(make_inspection(5, _t("2026-03-28T23:30"), scores={"crack": 0.2}))
        log.record(make_inspection(6, _t("2026-03-29T01:59"), scores={}))
        log.record(make_inspection(7, _t("2026-03-29T05:59"), scores={"dent": 0.95}, truth=True))
        # 2026-03-29 early: 1 part
        log.record(make_inspection(8, _t("2026-03-29T06:00"), scores={}))
        log.confirm(crack, False, None, operator="anna")  # a scrapped good part
        log.confirm(escape, True, "crack", operator="anna")  # an escape
        log.confirm(escape, True, "crack", operator="bob")  # re-confirmed: still one part
        now = time.time()
        for i in range(5):
            log.record(make_inspection(100 + i, now, scores={"scratch": 0.5} if i == 0 else {}))
        log.record_threshold_change(
            who="sup",
            old=THRESHOLDS,
            new=THRESHOLDS.with_thresholds({"scratch": 0.6}),
            reason="scrap",
            model_sha256=MODEL,
            figures={"escapes": 0, "scrap": 1},
        )
    return path


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["report", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_totals_equal_the_rows(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--db", str(db))
    conn = sqlite3.connect(db)
    counts = dict(
        conn.execute("SELECT outcome, count(*) FROM inspections GROUP BY outcome").fetchall()
    )
    conn.close()
    assert doc["totals"]["inspected"] == sum(counts.values()) == 13
    assert doc["totals"]["passed"] == counts["PASS"]
    assert doc["totals"]["rejected"] == counts["REJECT"]
    assert doc["totals"]["no_decision"] == counts["NO DECISION"]
    for key in ("inspected", "passed", "rejected", "no_decision"):
        assert sum(s[key] for s in doc["shifts"]) == doc["totals"][key]


def test_per_shift_figures(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--db", str(db))
    shifts = {s["id"]: s for s in doc["shifts"]}
    late = shifts["2026-03-28/late"]
    assert (late["inspected"], late["passed"], late["rejected"], late["no_decision"]) == (
        4,
        1,
        2,
        1,
    )
    assert late["yield"] == 0.25
    assert late["rejects_by_class"] == {"crack": 2, "dent": 1}
    assert late["no_decision_reasons"] == {"camera lost": 1}
    assert late["confirmed"] == {"parts": 1, "defective": 0, "good": 1, "escapes": 0, "scrap": 1}
    night = shifts["2026-03-28/night"]
    assert (
        night["start"] == "2026-03-28T22:00:00+01:00"
        and night["end"] == "2026-03-29T06:00:00+02:00"
    )
    assert (night["inspected"], night["passed"], night["rejected"]) == (3, 2, 1)
    assert night["confirmed"]["escapes"] == 1 and night["confirmed"]["parts"] == 1
    assert night["truth"] == {"parts": 1, "defective": 1, "good": 0, "escapes": 0, "scrap": 0}
    assert shifts["2026-03-29/early"]["inspected"] == 1
    current = doc["shifts"][-1]
    assert current["inspected"] == 5 and current["rejects_by_class"] == {"scratch": 1}
    [change] = current["threshold_changes"]
    assert change["who"] == "sup" and change["new"]["class_thresholds"]["scratch"] == 0.6
    assert all(not s["threshold_changes"] for s in doc["shifts"][:-1])


def test_json_keys_are_the_contract(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--db", str(db))
    assert {"inspected", "passed", "rejected", "no_decision"} <= set(doc["totals"])
    required = {"id", "name", "start", "end", "inspected", "passed", "rejected", "no_decision"}
    required |= {"yield", "rejects_by_class"}
    for s in doc["shifts"]:
        assert required <= set(s)
        assert isinstance(s["rejects_by_class"], dict)


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (["--shift", "2026-03-28/night"], ["2026-03-28/night"]),
        (["--date", "2026-03-28"], ["2026-03-28/late", "2026-03-28/night"]),
        (
            ["--from", "2026-03-28T23:00", "--to", "2026-03-29T06:30"],
            ["2026-03-28/night", "2026-03-29/early"],
        ),
        (
            ["--from", "2026-03-29T05:00+02:00", "--to", "2026-03-29T06:00+02:00"],
            ["2026-03-28/night"],
        ),
    ],
)
def test_selections(
    db: Path, capsys: pytest.CaptureFixture[str], args: list[str], ids: list[str]
) -> None:
    doc = _json(capsys, "--db", str(db), *args)
    assert [s["id"] for s in doc["shifts"]] == ids


def test_from_to_counts_only_the_window(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(
        capsys,
        "--db",
        str(db),
        "--from",
        "2026-03-29T05:00+02:00",
        "--to",
        "2026-03-29T06:00+02:00",
    )
    assert doc["totals"]["inspected"] == 1  # only the 05:59 part of the night shift


def test_csv(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.csv"
    assert main(["report", "--db", str(db), "--date", "2026-03-28", "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2026-03-28/late" in text and "total" in text
    rows = list(csv.DictReader(out.open()))
    assert [r["id"] for r in rows] == ["2026-03-28/late", "2026-03-28/night"]
    assert rows[0]["rejected_crack"] == "2" and rows[0]["rejected_dent"] == "1"
    assert rows[1]["confirmed_escapes"] == "1" and rows[0]["yield"] == "0.25"
    assert {r["audit_chain"] for r in rows} == {"intact"}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--date", "28.03.2026"], "--date: expected YYYY-MM-DD"),
        (["--from", "yesterday"], "--from: expected an ISO 8601 time"),
        (["--from", "2026-03-29", "--to", "2026-03-28"], "is not after"),
        (["--shift", "x", "--to", "2026-03-28"], "--to: use it with --from"),
    ],
)
def test_bad_arguments_are_user_errors(
    db: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    assert main(["report", "--db", str(db), *args]) == 2
    assert says in capsys.readouterr().err


def test_missing_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--db", str(tmp_path / "nope.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "Traceback" not in err


def test_unknown_shift_is_refused_listing_the_logged_ones(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--db", str(db), "--shift", "nonsense"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "no shift 'nonsense'" in err
    assert "2026-03-28/late, 2026-03-28/night, 2026-03-29/early" in err


def test_intact_report_says_so_in_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--db", str(db), "--shift", "2026-03-28/night")
    assert doc["chain"] == {"intact": True, "problems": []}


def test_report_on_a_schema_1_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An old log is not upgraded by a report (which never writes): it names the command
    that does. Upgraded, it has no shift bounds: its first and last inspection bound each shift.
    """
    from test_storage_schema import T0, make_schema1_db

    db = tmp_path / "old.sqlite3"
    make_schema1_db(db, n=5)
    before = db.read_bytes()
    assert main(["report", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "schema version 1 is older" in err and f"station audit upgrade --db {db}" in err
    assert db.read_bytes() == before
    assert main(["audit", "upgrade", "--db", str(db)]) == 0
    assert "upgraded from schema 1" in capsys.readouterr().out
    doc = _json(capsys, "--db", str(db))
    [shift] = doc["shifts"]
    assert shift["id"] == "2026-05-28/night" and shift["name"] == "night"
    assert (shift["inspected"], shift["passed"], shift["rejected"]) == (5, 3, 2)
    assert shift["start"] == datetime.fromtimestamp(T0, ZoneInfo("UTC")).isoformat()
    assert shift["rejects_by_class"] == {"crack": 2}


def test_no_decision_reasons_are_grouped_by_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Half a minute without a camera is one line, not one key per frame number."""
    from dataclasses import replace

    from station.core.decision import no_decision

    path = tmp_path / "log.sqlite3"
    whys = [f"camera lost: GigE camera cam-1: no frame for 2 s (frame {n})" for n in range(40)]
    whys += ["corrupt frame: img07.png: cannot decode", "corrupt frame: img09.png: truncated"]
    whys += ["wrong-size frame: 320×240, camera delivers 640×480", "model error: NaN output"]
    whys += ["log unavailable: part not recorded", "model returned class id 9, outside its 5"]
    now = time.time()
    with SqliteInspectionLog(path) as log:
        for i, why in enumerate(whys):
            part = make_inspection(i, now, nan=True)
            log.record(replace(part, decision=no_decision(why)))
    doc = _json(capsys, "--db", str(path))
    assert doc["shifts"][0]["no_decision_reasons"] == {
        "camera lost": 40,
        "corrupt frame": 2,
        "model error": 2,
        "log unavailable": 1,
        "wrong-size frame": 1,
    }
    with sqlite3.connect(path) as conn:  # the full message stays on each part
        (n,) = conn.execute("SELECT count(DISTINCT why) FROM inspections").fetchone()
    assert n == len(whys)
