"""Per-shift summaries computed from the log (never from counters kept elsewhere).

Counts are parts: yield = passed / inspected (a NO DECISION is not a pass).
`rejects_by_class` counts each rejected part once per class that rejected it,
so its values can sum to more than `rejected`. Confirmed figures use each
part's latest operator confirmation; the SQL only groups parts by outcome and
truth, and `station.core.outcomes` counts them: an escape is a defective part
that shipped (passed), scrap a good part that did not (rejected or NO DECISION).
"""

from __future__ import annotations

import csv
import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from station.core.errors import StationError
from station.core.no_decision import count_by_cause
from station.core.outcomes import Tally, yield_of
from station.core.selection import Selection
from station.core.shadow import KEYS as SHADOW_KEYS
from station.core.shadow import ShadowCounts
from station.storage.errors import LogUnavailable, explain
from station.storage.opening import connect_reader
from station.storage.shadow import counts_by_shift


@dataclass(frozen=True, slots=True)
class ShiftReport:
    id: str
    name: str
    start_utc: float | None
    end_utc: float | None
    zone: str
    inspected: int = 0
    passed: int = 0
    rejected: int = 0
    no_decision: int = 0
    rejects_by_class: dict[str, int] = field(default_factory=dict)
    no_decision_reasons: dict[str, int] = field(default_factory=dict)
    threshold_changes: list[dict[str, Any]] = field(default_factory=list)
    confirmed: dict[str, int] = field(default_factory=dict)
    truth: dict[str, int] = field(default_factory=dict)
    shadow: dict[str, int] = field(default_factory=lambda: ShadowCounts().as_dict())

    @property
    def yield_(self) -> float | None:
        """passed / inspected, None for an empty shift."""
        return yield_of(self.passed, self.inspected)


Span = tuple[str, float | None, float | None, str]
"""A shift's name, start and end (UTC seconds, None when unknown) and time zone."""


def one_shift(
    shift_id: str,
    span: Span,
    outcomes: dict[str, int],
    changes: list[tuple[float, dict[str, Any]]],
    *,
    rejects_by_class: dict[str, int],
    no_decision_reasons: dict[str, int],
    confirmed: Tally | None,
    truth: Tally | None,
    shadow: ShadowCounts | None = None,
) -> ShiftReport:
    """One shift's report from its outcome counts: the journal's and the plant's alike.

    `changes` are (time, change) pairs; those inside the shift's span are kept.
    """
    name, start, end, zone = span
    return ShiftReport(
        id=shift_id,
        name=name,
        start_utc=start,
        end_utc=end,
        zone=zone,
        inspected=sum(outcomes.values()),
        passed=outcomes.get("PASS", 0),
        rejected=outcomes.get("REJECT", 0),
        no_decision=outcomes.get("NO DECISION", 0),
        rejects_by_class=rejects_by_class,
        no_decision_reasons=no_decision_reasons,
        threshold_changes=[
            ch for t, ch in changes if start is not None and end is not None and start <= t < end
        ],
        confirmed=(confirmed or Tally()).as_dict(),
        truth=(truth or Tally()).as_dict(),
        shadow=(shadow or ShadowCounts()).as_dict(),
    )


@dataclass(frozen=True, slots=True)
class Report:
    shifts: list[ShiftReport]
    zone: str
    selection: Selection

    @property
    def totals(self) -> dict[str, int]:
        keys = ("inspected", "passed", "rejected", "no_decision")
        return {k: sum(getattr(s, k) for s in self.shifts) for k in keys}


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
    for shift_id, outcome, defective, n in conn.execute(
        "SELECT i.shift_id, i.outcome, c.defective, count(*) "
        "FROM inspections i JOIN confirmations c ON c.inspection_id = i.id "
        "WHERE c.id IN (SELECT max(id) FROM confirmations GROUP BY inspection_id) "
        f"AND {iwhere} GROUP BY 1, 2, 3",
        iargs,
    ):
        confirmed.setdefault(shift_id, Tally()).add_outcome(bool(defective), outcome, int(n))
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


def report_to_json(report: Report) -> dict[str, Any]:
    """The stable `station report --json` document (keys are only ever added)."""
    shifts = []
    for s in report.shifts:
        shifts.append(
            {
                "id": s.id,
                "name": s.name,
                "start": iso(s.start_utc, s.zone),
                "end": iso(s.end_utc, s.zone),
                "inspected": s.inspected,
                "passed": s.passed,
                "rejected": s.rejected,
                "no_decision": s.no_decision,
                "yield": None if s.yield_ is None else round(s.yield_, 6),
                "rejects_by_class": dict(s.rejects_by_class),
                "no_decision_reasons": dict(s.no_decision_reasons),
                "threshold_changes": list(s.threshold_changes),
                "confirmed": dict(s.confirmed),
                "truth": dict(s.truth),
                "shadow": dict(s.shadow),
            }
        )
    totals: dict[str, Any] = dict(report.totals)
    y = yield_of(totals["passed"], totals["inspected"])
    totals["yield"] = None if y is None else round(y, 6)
    shadow = {k: sum(s.shadow[k] for s in report.shifts) for k in SHADOW_KEYS}
    return {"zone": report.zone, "totals": totals, "shadow": shadow, "shifts": shifts}


CSV_COLUMNS = (
    "id",
    "name",
    "start",
    "end",
    "inspected",
    "passed",
    "rejected",
    "no_decision",
    "yield",
    "confirmed_parts",
    "confirmed_escapes",
    "confirmed_scrap",
    "threshold_changes",
)


def write_csv(report: Report, path: Path) -> None:
    """One row per shift; one `rejected_<class>` column per class seen in the report."""
    classes = sorted({c for s in report.shifts for c in s.rejects_by_class})
    doc = report_to_json(report)
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow([*CSV_COLUMNS, *(f"rejected_{c}" for c in classes)])
            for s, js in zip(report.shifts, doc["shifts"], strict=True):
                w.writerow(
                    [
                        js["id"],
                        js["name"],
                        js["start"],
                        js["end"],
                        s.inspected,
                        s.passed,
                        s.rejected,
                        s.no_decision,
                        "" if js["yield"] is None else js["yield"],
                        s.confirmed["parts"],
                        s.confirmed["escapes"],
                        s.confirmed["scrap"],
                        len(s.threshold_changes),
                        *(s.rejects_by_class.get(c, 0) for c in classes),
                    ]
                )
    except OSError as exc:
        raise StationError(f"--csv {path}: cannot write ({exc.strerror})") from exc


__all__ = [
    "LogUnavailable",
    "Report",
    "ShiftReport",
    "iso",
    "parse_time",
    "report_to_json",
    "shift_report",
    "station_zone",
    "write_csv",
]
