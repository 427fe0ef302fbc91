"""One report selection, one SQL condition: the same rows in the journal and centrally.

The condition `Selection.where` writes is run on a real SQLite journal (`?`
marks) and on a real PostgreSQL holding the same rows forwarded by
`station sync` (`%s` marks); both must select exactly the same inspections.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from storage_support import make_inspection

from station.cli import main
from station.core.selection import Selection
from station.core.shifts import ShiftSchedule
from station.outputs.central.connection import connect
from station.storage.log import SqliteInspectionLog
from station.storage.opening import connect_reader

SCHEDULE = ShiftSchedule("Europe/Berlin")
T0 = 1_780_000_000.0  # 2026-05-28 22:26 in Berlin: a night shift, then the next day's
STEP_S = 600.0
PARTS = 100


def _journal(db: Path) -> list[str]:
    """A day and a half of parts, one every ten minutes; the shift ids they fell in."""
    with SqliteInspectionLog(db, schedule=SCHEDULE) as log:
        for i in range(PARTS):
            log.record(make_inspection(i, T0 + i * STEP_S, station_id="press-1"))
    conn = connect_reader(db)
    try:
        return [s for (s,) in conn.execute("SELECT DISTINCT shift_id FROM inspections ORDER BY 1")]
    finally:
        conn.close()


def _selections(shifts: list[str]) -> list[Selection]:
    day = date.fromisoformat(shifts[1].split("/")[0])
    return [
        Selection(),
        Selection(shift_id=shifts[1]),
        Selection(day=day),
        Selection(start_utc=T0 + 30 * STEP_S),
        Selection(end_utc=T0 + 30 * STEP_S),
        Selection(start_utc=T0 + 10 * STEP_S, end_utc=T0 + 70 * STEP_S),
        Selection(shift_id=shifts[-1], start_utc=T0 + 90 * STEP_S),
        Selection(shift_id="no-such-shift"),
    ]


def test_the_same_condition_selects_the_same_rows_in_sqlite_and_postgresql(
    tmp_path: Path, central_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "journal.sqlite3"
    shifts = _journal(db)
    assert len(shifts) >= 3  # the selections below cut across shifts and days
    assert main(["sync", "--db", str(db), "--to", central_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["remaining"] == 0
    local = connect_reader(db)
    central = connect(central_url)
    try:
        counts = []
        for sel in _selections(shifts):
            where, args = sel.where()
            mine = [r for (r,) in local.execute(f"SELECT id FROM inspections WHERE {where}", args)]
            where, args = sel.where("%s", "i", station_id="press-1")
            theirs = [
                r
                for (r,) in central.execute(
                    f"SELECT i.id FROM inspections i WHERE {where} ORDER BY 1", args
                ).fetchall()
            ]
            assert sorted(mine) == theirs, sel
            counts.append(len(mine))
        other, args = Selection().where("%s", station_id="press-2")
        sql = f"SELECT count(*) FROM inspections WHERE {other}"
        (none,) = central.execute(sql, args).fetchone()
        assert none == 0
    finally:
        local.close()
        central.close()
    assert counts[0] == PARTS and counts[-1] == 0
    assert min(counts[1:-1]) > 0 and max(counts[1:-1]) < PARTS  # each one selects a part


def test_an_unknown_parameter_mark_is_refused() -> None:
    with pytest.raises(ValueError, match="mark"):
        Selection(shift_id="x").where(":name")
