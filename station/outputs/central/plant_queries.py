"""The plant's questions, asked of the central database: the grouped rows a report is built from.

The same figures as `station report` computes from one journal (counts per
outcome and ground truth, rejects by class, no-decision reasons, the latest
confirmation per part, threshold changes), grouped by station and shift. Each
query is one GROUP BY the indexes of schema.py answer; the report service
turns these rows into the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.core.selection import Selection


@dataclass(frozen=True, slots=True)
class PlantFilter:
    """Which rows: the report's selection, of one station or (None) every station."""

    selection: Selection
    station_id: str | None = None

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        return self.selection.where("%s", alias, self.station_id)


@dataclass(frozen=True, slots=True)
class PlantRows:
    """Rows keyed by (station_id, shift_id) first; see `read_plant` for each tuple's columns."""

    counts: list[tuple[str, str, str, int | None, int]]
    rejects_by_class: list[tuple[str, str, str, int]]
    no_decision_reasons: list[tuple[str, str, str, int]]
    confirmed: list[tuple[str, str, str, int, str | None, str, int]]
    spans: list[tuple[str, str, str, float | None, float | None, str]]
    threshold_changes: list[tuple[str, float, str, str]]
    stations: list[tuple[str, str, float]]


def read_plant(conn: Any, flt: PlantFilter) -> PlantRows:
    """Every grouped row the report needs, in one read-only transaction (one snapshot)."""
    where, args = flt.where()
    iwhere, iargs = flt.where("i")
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        counts = conn.execute(
            "SELECT station_id, shift_id, outcome, truth_defective, count(*) FROM inspections "
            f"WHERE {where} GROUP BY 1, 2, 3, 4",
            args,
        ).fetchall()
        by_class = conn.execute(
            "SELECT i.station_id, i.shift_id, r ->> 'class', count(DISTINCT i.id) "
            "FROM inspections i, jsonb_array_elements(i.reasons::jsonb) r "
            f"WHERE i.outcome = 'REJECT' AND {iwhere} GROUP BY 1, 2, 3 ORDER BY 4 DESC, 3",
            iargs,
        ).fetchall()
        why = conn.execute(
            "SELECT station_id, shift_id, why, count(*) FROM inspections "
            f"WHERE outcome = 'NO DECISION' AND {where} GROUP BY 1, 2, 3 ORDER BY 4 DESC, 3",
            args,
        ).fetchall()
        # Grouped by outcome and truth: `station.core.outcomes` counts escapes and scrap.
        confirmed = conn.execute(
            "SELECT i.station_id, i.shift_id, i.outcome, c.defective, c.class_name, i.extra, "
            "count(*) FROM inspections i JOIN ("
            "  SELECT DISTINCT ON (station_id, inspection_id) station_id, inspection_id, "
            "  defective, class_name"
            "  FROM confirmations ORDER BY station_id, inspection_id, id DESC"
            ") c ON c.station_id = i.station_id AND c.inspection_id = i.id "
            f"WHERE {iwhere} GROUP BY 1, 2, 3, 4, 5, 6",
            iargs,
        ).fetchall()
        station_clause = "" if flt.station_id is None else " AND station_id = %s"
        station_args = [] if flt.station_id is None else [flt.station_id]
        changes = conn.execute(
            "SELECT station_id, time_utc, message, details FROM events "
            f"WHERE kind = 'threshold_change'{station_clause} ORDER BY time_utc, station_id",
            station_args,
        ).fetchall()
        spans = conn.execute(  # a few per station and day: the report keeps those it counted
            "SELECT station_id, id, name, start_utc, end_utc, zone FROM shifts "
            f"WHERE true{station_clause}",
            station_args,
        ).fetchall()
        stations = conn.execute(
            "SELECT station_id, zone, extract(epoch FROM last_seen)::float8 FROM stations "
            f"WHERE true{station_clause} ORDER BY station_id",
            station_args,
        ).fetchall()
    return PlantRows(counts, by_class, why, confirmed, spans, changes, stations)


def shift_bounds(conn: Any, station_id: str, shift_id: str) -> tuple[float | None, float | None]:
    """First and last inspection of a shift logged without bounds."""
    row = conn.execute(
        "SELECT min(time_utc), max(time_utc) FROM inspections "
        "WHERE station_id = %s AND shift_id = %s",
        (station_id, shift_id),
    ).fetchone()
    return (None, None) if row is None else (row[0], row[1])


def confirmed_parts(conn: Any, model_sha256: str) -> tuple[list[tuple[Any, ...]], int]:
    """Every station's confirmed parts scored by `model_sha256`, with their latest verdict.

    Rows (station_id, id, class_names, max_scores, reasons, outcome, image path, defective,
    class_name), oldest first; and how many confirmed parts other models scored.
    """
    latest = (
        "SELECT DISTINCT ON (station_id, inspection_id) station_id, inspection_id, defective, "
        "class_name FROM confirmations ORDER BY station_id, inspection_id, id DESC"
    )
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        rows = conn.execute(
            "SELECT i.station_id, i.id, i.class_names, i.max_scores, i.reasons, i.outcome, "
            "g.path, c.defective, c.class_name "
            f"FROM ({latest}) c JOIN inspections i "
            "ON i.station_id = c.station_id AND i.id = c.inspection_id "
            "LEFT JOIN images g ON g.station_id = i.station_id AND g.inspection_id = i.id "
            "WHERE i.model_sha256 = %s ORDER BY i.time_utc, i.station_id, i.id",
            (model_sha256,),
        ).fetchall()
        others = conn.execute(
            f"SELECT count(*) FROM ({latest}) c JOIN inspections i "
            "ON i.station_id = c.station_id AND i.id = c.inspection_id "
            "WHERE i.model_sha256 <> %s",
            (model_sha256,),
        ).fetchone()[0]
    return rows, int(others)
