"""Per-shift summaries computed from the journal (never from counters kept elsewhere).

The report's shape is `core.shift_report`; writing it out as JSON or CSV is
`report_formats`. Confirmed figures use each
part's latest operator confirmation; the SQL only groups parts by outcome and
verdict, and `station.core.outcomes` reads the verdict (`logged_verdict`: a class
that did not reject where the part was judged makes it good) and counts them: an escape
is a defective part that shipped (passed), scrap a good part that did not (rejected or
NO DECISION).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from station.core.errors import StationError
from station.core.no_decision import count_by_cause
from station.core.outcomes import Tally, logged_verdict
from station.core.selection import Selection
from station.core.shift_report import Report, one_shift
from station.storage.errors import LogUnavailable, explain
from station.storage.opening import connect_reader
from station.storage.shadow import counts_by_shift


@contextmanager
def _reading(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = connect_reader(db_path)
    try:
        yield conn
    except sqlite3.Error as exc:
        raise explain(Path(db_path), exc) from exc
    finally:
        conn.close()


def station_zone(conn: sqlite3.Connection) -> str:
    """The display zone the station last recorded (its shift schedule's zone)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schedule'").fetchone()
    if row is None:
        return "UTC"
    return str(json.loads(row[0]).get("zone", "UTC"))


def parse_time(text: str, zone: str, field_name: str) -> float:
    """ISO 8601 date or date-time; without an offset it is the station's local time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StationError(
            f"{field_name}: expected an ISO 8601 time like 2026-03-29T06:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        from station.core.shifts import local_to_utc

        return local_to_utc(moment, ZoneInfo(zone)).timestamp()
    return moment.timestamp()


def shift_report(db_path: Path, selection: Selection | None = None) -> Report:
    """Summaries of the selected shifts, oldest first. Raises LogUnavailable if unreadable."""
    sel = selection or Selection()
    with _reading(Path(db_path)) as conn:
        return _report(conn, sel)


def _report(conn: sqlite3.Connection, sel: Selection) -> Report:
    zone = station_zone(conn)
    where, args = sel.where()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    truth: dict[str, Tally] = {}
    # One index-only pass gives both the outcome counts and the ground-truth tallies.
    for shift_id, outcome, is_defective, n in conn.execute(
        "SELECT shift_id, outcome, truth_defective, count(*) FROM inspections "
        f"WHERE {where} GROUP BY 1, 2, 3",
        args,
    ):
        n = int(n)
        counts[shift_id][outcome] = counts[shift_id].get(outcome, 0) + n
        if is_defective is not None:
            truth.setdefault(shift_id, Tally()).add_outcome(bool(is_defective), outcome, n)
    by_class: dict[str, dict[str, int]] = defaultdict(dict)
    iwhere, iargs = sel.where(alias="i")
    for shift_id, cls, n in conn.execute(
        "SELECT i.shift_id, json_extract(j.value, '$.class'), count(DISTINCT i.id) "
        f"FROM inspections i, json_each(i.reasons) j WHERE i.outcome = 'REJECT' AND {iwhere} "
        "GROUP BY 1, 2 ORDER BY 3 DESC, 2",
        iargs,
    ):
        by_class[shift_id][str(cls)] = int(n)
    messages: dict[str, dict[str, int]] = defaultdict(dict)
    for shift_id, reason, n in conn.execute(
        "SELECT shift_id, why, count(*) FROM inspections "
        f"WHERE outcome = 'NO DECISION' AND {where} GROUP BY 1, 2",
        args,
    ):
        messages[shift_id][str(reason or "")] = int(n)
    # Grouped by cause: a camera outage is one entry, not one per frame number.
    why = {sid: count_by_cause(m) for sid, m in messages.items()}
    confirmed: dict[str, Tally] = {}
    for shift_id, outcome, defective, class_name, extra, n in conn.execute(
        "SELECT i.shift_id, i.outcome, c.defective, c.class_name, i.extra, count(*) "
        "FROM inspections i JOIN confirmations c ON c.inspection_id = i.id "
        "WHERE c.id IN (SELECT max(id) FROM confirmations GROUP BY inspection_id) "
        f"AND {iwhere} GROUP BY 1, 2, 3, 4, 5",
        iargs,
    ):
        verdict = logged_verdict(defective, class_name, extra)
        confirmed.setdefault(shift_id, Tally()).add_outcome(verdict, outcome, int(n))
    shadow = counts_by_shift(conn, iwhere, iargs)
    ids = sorted(counts)
    spans = _spans(conn, ids, zone)
    changes = _threshold_changes(conn, zone)
    reports = []
    for sid in ids:
        reports.append(
            one_shift(
                sid,
                spans[sid],
                counts[sid],
                changes,
                rejects_by_class=by_class.get(sid, {}),
                no_decision_reasons=why.get(sid, {}),
                confirmed=confirmed.get(sid),
                truth=truth.get(sid),
                shadow=shadow.get(sid),
            )
        )
    reports.sort(key=lambda r: (r.start_utc if r.start_utc is not None else math.inf, r.id))
    return Report(reports, zone, sel)


def _spans(
    conn: sqlite3.Connection, ids: list[str], zone: str
) -> dict[str, tuple[str, float | None, float | None, str]]:
    out: dict[str, tuple[str, float | None, float | None, str]] = {}
    for sid, name, start, end, szone in conn.execute(
        "SELECT id, name, start_utc, end_utc, zone FROM shifts"
    ):
        if sid in ids:
            out[sid] = (str(name), start, end, str(szone))
    missing = [sid for sid in ids if sid not in out or out[sid][1] is None]
    for sid in missing:
        # A shift logged without bounds (an old log, or a caller's own shift ids):
        # its first and last inspection bound it.
        lo, hi, rzone = conn.execute(
            "SELECT min(time_utc), max(time_utc), max(zone) FROM inspections WHERE shift_id = ?",
            (sid,),
        ).fetchone()
        name = out[sid][0] if sid in out else sid.rpartition("/")[2]
        out[sid] = (
            name,
            lo,
            None if hi is None else math.nextafter(hi, math.inf),
            str(rzone or zone),
        )
    return out


def _threshold_changes(conn: sqlite3.Connection, zone: str) -> list[tuple[float, dict[str, Any]]]:
    out = []
    for t, message, details in conn.execute(
        "SELECT time_utc, message, details FROM events WHERE kind = 'threshold_change' ORDER BY id"
    ):
        d = json.loads(details)
        out.append(
            (
                float(t),
                {
                    "time": iso(float(t), zone),
                    "who": d.get("who"),
                    "reason": d.get("reason"),
                    "old": d.get("old"),
                    "new": d.get("new"),
                    "model_sha256": d.get("model_sha256"),
                    "figures": d.get("figures", {}),
                    "message": message,
                },
            )
        )
    return out


def iso(t_utc: float | None, zone: str) -> str | None:
    """ISO 8601 with the zone's offset (seconds precision), None for None."""
    if t_utc is None:
        return None
    return (
        datetime.fromtimestamp(t_utc, UTC).astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
    )


__all__ = [
    "LogUnavailable",
    "iso",
    "parse_time",
    "shift_report",
    "station_zone",
]
