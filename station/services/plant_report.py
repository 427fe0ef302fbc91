"""`station report --central`: today's shift report, over every station in the central database.

Per station (each shift row names its station) or, with `plant`, per shift
across stations; plus one row per station and the plant totals. Built from
the same ShiftReport values as the journal's report, so the JSON keys and
the text table are the same, with `station_id` and `stations` added.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from station.core.outcomes import Tally, logged_verdict, yield_of
from station.core.selection import Selection
from station.core.shift_report import Report, ShiftReport, one_shift
from station.outputs.central import schema
from station.outputs.central.connection import check_url, connect
from station.outputs.central.plant_queries import PlantFilter, PlantRows, read_plant, shift_bounds
from station.storage.report_formats import report_to_json
from station.storage.reports import iso

Key = tuple[str, str]  # (station_id or "" for the plant, shift_id)


@dataclass(frozen=True, slots=True)
class StationRow:
    station_id: str
    inspected: int
    passed: int
    rejected: int
    no_decision: int
    last_seen_utc: float | None

    @property
    def yield_(self) -> float | None:
        return yield_of(self.passed, self.inspected)


@dataclass(frozen=True, slots=True)
class PlantReport:
    """`report.shifts[i]` is station `shift_stations[i]`'s shift ("" in a plant-wide row)."""

    report: Report
    shift_stations: list[str]
    stations: list[StationRow]
    target: str


def plant_report(
    url: str, selection: Selection, *, station_id: str | None = None, plant: bool = False
) -> PlantReport:
    target = check_url(url, "--central")
    flt = PlantFilter(selection, station_id)
    conn = connect(url, application_name="station report")
    try:
        schema.require_current(conn, f"central database {target}")
        rows = read_plant(conn, flt)
        bounds = {(s, sh): shift_bounds(conn, s, sh) for s, sh in _unbounded(rows)}
    finally:
        conn.close()
    zones = {z for _, z, _ in rows.stations}
    zone = zones.pop() if len(zones) == 1 else "UTC"
    shifts, owners = _shifts(rows, bounds, zone, plant)
    report = Report(shifts, zone, selection)
    return PlantReport(report, owners, _stations(rows), target)


def _unbounded(rows: PlantRows) -> set[Key]:
    counted = {(s, sh) for s, sh, *_ in rows.counts}
    bounded = {(s, sh) for s, sh, _, start, _, _ in rows.spans if start is not None}
    return counted - bounded


def _shifts(
    rows: PlantRows, bounds: dict[Key, tuple[float | None, float | None]], zone: str, plant: bool
) -> tuple[list[ShiftReport], list[str]]:
    def key(station: str, shift: str) -> Key:
        return ("" if plant else station, shift)

    counts: dict[Key, dict[str, int]] = defaultdict(dict)
    truth: dict[Key, Tally] = {}
    for station, shift, outcome, defective, n in rows.counts:
        k = key(station, shift)
        counts[k][outcome] = counts[k].get(outcome, 0) + n
        if defective is not None:
            truth.setdefault(k, Tally()).add_outcome(bool(defective), outcome, n)
    by_class = _tally(rows.rejects_by_class, key)
    why = _tally(rows.no_decision_reasons, key)
    confirmed: dict[Key, Tally] = {}
    for station, shift, outcome, defective, class_name, extra, n in rows.confirmed:
        verdict = logged_verdict(defective, class_name, extra)
        confirmed.setdefault(key(station, shift), Tally()).add_outcome(verdict, outcome, n)
    spans = _spans(rows, bounds, zone, key)
    changes = [
        (station, t, _change(station, t, message, details, zone))
        for station, t, message, details in rows.threshold_changes
    ]
    out = []
    for k in counts:
        out.append(
            one_shift(
                k[1],
                spans[k],
                counts[k],
                [(t, ch) for station, t, ch in changes if plant or station == k[0]],
                rejects_by_class=by_class.get(k, {}),
                no_decision_reasons=why.get(k, {}),
                confirmed=confirmed.get(k),
                truth=truth.get(k),
            )
        )
    keys = list(counts)
    order = sorted(
        range(len(out)),
        key=lambda i: (
            out[i].start_utc if out[i].start_utc is not None else math.inf,
            out[i].id,
            keys[i][0],
        ),
    )
    return [out[i] for i in order], [keys[i][0] for i in order]


def _tally(rows: list[tuple[str, str, str, int]], key: Any) -> dict[Key, dict[str, int]]:
    out: dict[Key, dict[str, int]] = defaultdict(dict)
    for station, shift, label, n in rows:
        d = out[key(station, shift)]
        name = str(label) or "unknown"
        d[name] = d.get(name, 0) + n
    return {k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for k, v in out.items()}


def _spans(
    rows: PlantRows, bounds: dict[Key, tuple[float | None, float | None]], zone: str, key: Any
) -> dict[Key, tuple[str, float | None, float | None, str]]:
    """Each shift's name and bounds; a plant-wide shift spans its stations' shifts."""
    out: dict[Key, tuple[str, float | None, float | None, str]] = {}
    known = {(s, sh): (n, a, b, z) for s, sh, n, a, b, z in rows.spans}
    for station, shift, *_ in rows.counts:
        name, start, end, szone = known.get(
            (station, shift), (shift.rpartition("/")[2], None, None, zone)
        )
        if start is None:
            lo, hi = bounds.get((station, shift), (None, None))
            start, end = lo, None if hi is None else math.nextafter(hi, math.inf)
        k = key(station, shift)
        if k in out:
            _, a, b, _ = out[k]
            start = _min(a, start)
            end = _max(b, end)
        out[k] = (name, start, end, szone)
    return out


def _min(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _change(station: str, t: float, message: str, details: str, zone: str) -> dict[str, Any]:
    d = json.loads(details)
    return {
        "station_id": station,
        "time": iso(t, zone),
        "who": d.get("who"),
        "reason": d.get("reason"),
        "old": d.get("old"),
        "new": d.get("new"),
        "model_sha256": d.get("model_sha256"),
        "figures": d.get("figures", {}),
        "message": message,
    }


def _stations(rows: PlantRows) -> list[StationRow]:
    tally: dict[str, dict[str, int]] = defaultdict(dict)
    for station, _, outcome, _, n in rows.counts:
        tally[station][outcome] = tally[station].get(outcome, 0) + n
    out = []
    for station, _, last_seen in rows.stations:
        c = tally.get(station, {})
        out.append(
            StationRow(
                station,
                sum(c.values()),
                c.get("PASS", 0),
                c.get("REJECT", 0),
                c.get("NO DECISION", 0),
                last_seen,
            )
        )
    return out


def plant_report_to_json(pr: PlantReport) -> dict[str, Any]:
    """`station report --json` plus `stations`, and each shift's `station_id` (None: plant-wide)."""
    doc = report_to_json(pr.report)
    for shift, station in zip(doc["shifts"], pr.shift_stations, strict=True):
        shift["station_id"] = station or None
    doc["central"] = pr.target
    doc["stations"] = [
        {
            "station_id": s.station_id,
            "inspected": s.inspected,
            "passed": s.passed,
            "rejected": s.rejected,
            "no_decision": s.no_decision,
            "yield": None if s.yield_ is None else round(s.yield_, 6),
            "last_seen": iso(s.last_seen_utc, pr.report.zone),
        }
        for s in pr.stations
    ]
    return doc
