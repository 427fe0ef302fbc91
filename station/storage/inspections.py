"""Inspection rows: what a part's row holds, and how a batch of them is inserted and chained.

The payload is built on the caller's thread (the JSON of reasons, detections
and class names); the writer thread only assigns ids, chains and inserts.
Its values are exactly what SQLite hands back (float for REAL, int for
INTEGER), so the link computed here verifies against the row read later.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import numpy as np

from station.core.decision import Outcome
from station.core.detections import Detections
from station.core.inspection import Inspection
from station.core.shifts import ShiftSchedule, ShiftSpan
from station.storage import chain
from station.storage.writer import Item

# One row: its id, the payload, then its link.
INSERT_SQL = """
INSERT INTO inspections (
    id, time_utc, station_id, product, shift_id, sequence, outcome, reasons, class_names,
    max_scores, kept, threshold_set_id, model_sha256, latency_ms, truth_defective, zone, why,
    extra, image_path, image_bytes, link
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, ?)
"""


_EMPTY_KEPT = '{"class_id":[],"confidence":[],"xyxy":[]}'
TIME, OUTCOME = 0, 5  # payload positions the writer reads back (archive tag, image time)


def kept_json(kept: Detections) -> str:
    if not len(kept):
        return _EMPTY_KEPT
    doc: dict[str, Any] = {
        "xyxy": np.round(kept.xyxy.astype(np.float64), 2).tolist(),
        "confidence": kept.confidence.tolist(),
        "class_id": kept.class_id.tolist(),
    }
    for name, column in kept.data.items():
        values = np.asarray(column)
        if values.dtype.kind in "biufUS" and name not in doc:
            doc[name] = values.tolist()
        elif name == "polygon" and values.dtype.kind == "O":  # segmentation outlines (issue 12)
            doc[name] = [np.asarray(p, np.int64).reshape(-1, 2).tolist() for p in values]
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def reasons_json(ins: Inspection) -> str:
    if not ins.decision.reasons:
        return "[]"
    return json.dumps(
        [
            {"class": r.class_name, "score": r.score, "threshold": r.threshold}
            | ({"size": r.size} if r.size else {})  # a size rule's part (issue 12)
            for r in ins.decision.reasons
        ],
        separators=(",", ":"),
    )


class InspectionRows:
    """Rows of one log: shifts and payloads on the callers' threads, inserts on the writer's."""

    def __init__(self, schedule: ShiftSchedule) -> None:
        self.schedule = schedule
        self.zone = schedule.zone
        self._names_cache: dict[tuple[str, ...], str] = {}
        self._span_cache: ShiftSpan | None = None

    def record_schedule(self, conn: sqlite3.Connection) -> None:
        """Keep the schedule in the log, so that reports show shift bounds in its zone."""
        doc = {"zone": self.zone, "starts": self.schedule.starts, "names": self.schedule.names}
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schedule', ?)", (json.dumps(doc),)
        )

    def span_for(self, ins: Inspection) -> ShiftSpan:
        """The part's shift: the schedule's, or the caller's own id (bounds unknown)."""
        span = self._span_cache
        if span is None or not span.contains(ins.time_utc):
            span = self._span_cache = self.schedule.shift_at(ins.time_utc)
        if ins.shift_id and ins.shift_id != span.id:
            return ShiftSpan(
                ins.shift_id, ins.shift_id.rpartition("/")[2], float("nan"), float("nan")
            )
        return span

    def payload(self, ins: Inspection, span: ShiftSpan) -> tuple[Any, ...]:
        """The row's values after its id, in `chain.COLUMNS["inspections"]` order."""
        truth = None if ins.truth_defective is None else int(bool(ins.truth_defective))
        return (
            float(ins.time_utc) + 0.0,  # + 0.0: SQLite keeps no -0.0, so neither may the link
            ins.station_id,
            ins.product,
            span.id,
            int(ins.sequence),
            ins.outcome.value,
            reasons_json(ins),
            self._names_json(ins.class_names),
            np.asarray(ins.max_scores, dtype="<f4").tobytes(),
            kept_json(ins.decision.kept),
            ins.threshold_set_id,
            ins.model_sha256,
            float(ins.latency_ms) + 0.0,
            truth,
            self.zone,
            ins.decision.why,
            json.dumps(dict(ins.extra), sort_keys=True) if ins.extra else "{}",
        )

    def _names_json(self, names: tuple[str, ...]) -> str:
        # One model's class list repeats on every row: encode it once.
        text = self._names_cache.get(names)
        if text is None:
            text = self._names_cache[names] = json.dumps(list(names))
        return text

    def insert(self, conn: sqlite3.Connection, items: list[Item]) -> None:
        """Assign ids, chain and insert `items` (inside the writer's transaction)."""
        next_id = (
            int(conn.execute("SELECT coalesce(max(id), 0) FROM inspections").fetchone()[0]) + 1
        )
        rows = []
        texts = []
        spans: dict[str, ShiftSpan] = {}
        for it in items:
            it.row_id = next_id
            next_id += 1
            rows.append((it.row_id, *it.payload))
            texts.append((it.row_id, chain.with_id(it.row_id, it.tail)))
            if it.shift is not None:
                spans[it.shift.id] = it.shift
        links = chain.extend_canonical(conn, "inspections", texts)
        conn.executemany(INSERT_SQL, [(*r, link) for r, link in zip(rows, links, strict=True)])
        # Usually one shift a batch: inserted (or ignored) in the batch's own transaction.
        conn.executemany(
            "INSERT OR IGNORE INTO shifts (id, name, start_utc, end_utc, zone) "
            "VALUES (?, ?, ?, ?, ?)",
            [(s.id, s.name, *_bounds(s), self.zone) for s in spans.values()],
        )


def _bounds(span: ShiftSpan) -> tuple[float | None, float | None]:
    """A shift's bounds; (None, None) for a caller's own shift id (bounds unknown)."""
    return (None, None) if np.isnan(span.start_utc) else (span.start_utc, span.end_utc)


def archive_tag(item: Item) -> str:
    """The archive file tag of an inspection item with a frame."""
    return "reject" if item.payload[OUTCOME] == Outcome.REJECT.value else "nodecision"
