"""Reading single parts and recent parts back from the log, for the part view.

Small indexed queries: fine on the GUI thread. Whole-shift summaries live in
`reports` and belong on a worker thread.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from station.core.decision import Outcome, RejectReason
from station.core.detections import Detections
from station.core.errors import StationError
from station.core.outcomes import decided_scores, reject_classes_of
from station.storage.paths import archive_dir


@dataclass(frozen=True, slots=True)
class Confirmation:
    """An operator's verdict on a part (the latest one is its truth)."""

    defective: bool
    class_name: str | None
    operator: str
    time_utc: float


@dataclass(frozen=True, slots=True, eq=False)
class LoggedPart:
    """One part as logged. `thresholds` is each class's threshold in force (NaN where the
    log does not know it); `rejecting` which classes reject a part, as far as the
    log shows (a class kept without rejecting is an `ok` class)."""

    row_id: int
    time_utc: float
    zone: str
    shift_id: str
    station_id: str
    product: str
    sequence: int
    outcome: Outcome
    why: str
    reasons: tuple[RejectReason, ...]
    class_names: tuple[str, ...]
    max_scores: npt.NDArray[np.float32]
    kept: Detections
    thresholds: npt.NDArray[np.float32]
    rejecting: npt.NDArray[np.bool_]
    threshold_set_id: str
    model_sha256: str
    latency_ms: float
    truth_defective: bool | None
    image_path: Path | None
    image_pruned_utc: float | None
    confirmation: Confirmation | None
    reject_classes: frozenset[str] | None = None
    """The classes that rejected where the part was judged (None: every class, or a log
    from before the station kept them): how its confirmation counts."""


_PART = """
SELECT id, time_utc, zone, shift_id, station_id, product, sequence, outcome, why, reasons,
       class_names, max_scores, kept, threshold_set_id, model_sha256, latency_ms,
       truth_defective, image_path, image_pruned_utc, extra
FROM inspections WHERE id = ?
"""


def _kept(doc: dict[str, list[object]]) -> Detections:
    if not doc.get("confidence"):
        return Detections.empty()
    n = len(doc["confidence"])
    data: dict[str, np.ndarray] = {}
    if len(doc.get("mask_area_px") or ()) == n:  # a segmentation model's (issue 12)
        data["mask_area_px"] = np.asarray(doc["mask_area_px"], np.int64)
    if len(doc.get("mask_length_px") or ()) == n:  # size rules' mask length (issue 12)
        data["mask_length_px"] = np.asarray(doc["mask_length_px"], np.float32)
    outlines = doc.get("polygon") or ()
    if len(outlines) == n:
        data["polygon"] = np.empty(n, dtype=object)
        for i, points in enumerate(outlines):
            data["polygon"][i] = np.asarray(points, np.int32).reshape(-1, 2)
    return Detections(
        np.asarray(doc["xyxy"], np.float32).reshape(-1, 4),
        np.asarray(doc["confidence"], np.float32),
        np.asarray(doc["class_id"], np.int64),
        data,
    )


def load_part(conn: sqlite3.Connection, db_path: Path, row_id: int) -> LoggedPart:
    """The logged part `row_id`; StationError when there is none."""
    row = conn.execute(_PART, (int(row_id),)).fetchone()
    if row is None:
        raise StationError(f"no logged part with row id {row_id}")
    (rid, t, zone, shift, station, product, seq, outcome, why, reasons_json, names_json, blob,
     kept_json, tsid, sha, latency, truth, image, pruned, extra) = row  # fmt: skip
    names = tuple(json.loads(names_json))
    reasons = tuple(
        RejectReason(r["class"], float(r["score"]), float(r["threshold"]), r.get("size", ""))
        for r in json.loads(reasons_json)
    )
    kept = _kept(json.loads(kept_json))
    thresholds = np.full(len(names), np.nan, np.float32)
    stored = conn.execute("SELECT thresholds FROM threshold_sets WHERE id = ?", (tsid,)).fetchone()
    if stored is not None:
        doc = json.loads(stored[0])
        per_class = doc.get("class_thresholds", {})
        default = float(doc.get("default_threshold", np.nan))
        thresholds[:] = [per_class.get(c, default) for c in names]
    index = {c: k for k, c in enumerate(names)}
    for r in reasons:  # a reason carries the threshold it cleared
        thresholds[index[r.class_name]] = r.threshold
    reject_classes = reject_classes_of(extra)
    rejecting = np.ones(len(names), bool)
    if reject_classes is not None:  # kept with the part: exact
        rejecting[:] = [n in reject_classes for n in names]
    else:  # older logs: a class kept (it cleared its threshold) yet did not reject
        reason_classes = {index[r.class_name] for r in reasons}
        for c in {int(c) for c in kept.class_id}:
            if c not in reason_classes:
                rejecting[c] = False
    conf = conn.execute(
        "SELECT defective, class_name, operator, time_utc FROM confirmations "
        "WHERE inspection_id = ? ORDER BY id DESC LIMIT 1",
        (rid,),
    ).fetchone()
    return LoggedPart(
        row_id=int(rid),
        time_utc=float(t),
        zone=str(zone),
        shift_id=str(shift),
        station_id=str(station),
        product=str(product),
        sequence=int(seq),
        outcome=Outcome(outcome),
        why=str(why),
        reasons=reasons,
        class_names=names,
        max_scores=decided_scores(outcome, np.frombuffer(blob, dtype="<f4")),
        kept=kept,
        thresholds=thresholds,
        rejecting=rejecting,
        threshold_set_id=str(tsid),
        model_sha256=str(sha),
        latency_ms=float(latency),
        truth_defective=None if truth is None else bool(truth),
        image_path=None if image is None else archive_dir(db_path) / str(image),
        image_pruned_utc=None if pruned is None else float(pruned),
        confirmation=None
        if conf is None
        else Confirmation(bool(conf[0]), conf[1], str(conf[2]), float(conf[3])),
        reject_classes=reject_classes,
    )


@dataclass(frozen=True, slots=True)
class PartLine:
    """One line of a list of logged parts."""

    row_id: int
    time_utc: float
    sequence: int
    outcome: Outcome
    summary: str
    confirmed: bool | None


def recent_parts(
    conn: sqlite3.Connection,
    shift_id: str | None = None,
    *,
    limit: int = 50,
    not_passed: bool = True,
) -> list[PartLine]:
    """The newest parts (rejects and no-decisions by default), newest first."""
    where = ["1"]
    args: list[object] = []
    if shift_id is not None:
        where.append("shift_id = ?")
        args.append(shift_id)
    if not_passed:
        where.append("outcome != 'PASS'")
    sql = (
        "SELECT i.id, i.time_utc, i.sequence, i.outcome, i.why, i.reasons, "
        "(SELECT defective FROM confirmations c WHERE c.inspection_id = i.id "
        "ORDER BY c.id DESC LIMIT 1) "
        f"FROM inspections i WHERE {' AND '.join(where)} ORDER BY i.id DESC LIMIT ?"
    )
    out = []
    for rid, t, seq, outcome, why, reasons, confirmed in conn.execute(sql, (*args, int(limit))):
        rs = json.loads(reasons)
        summary = ", ".join(f"{r['class']} {r['score']:.2f}" for r in rs[:3]) if rs else str(why)
        out.append(
            PartLine(
                int(rid),
                float(t),
                int(seq),
                Outcome(outcome),
                summary,
                None if confirmed is None else bool(confirmed),
            )
        )
    return out


def load_image(part: LoggedPart) -> npt.NDArray[np.uint8] | None:
    """The part's archived frame (BGR or grey uint8), or None when absent or unreadable."""
    if part.image_path is None or not part.image_path.is_file():
        return None
    image = cv2.imread(str(part.image_path), cv2.IMREAD_UNCHANGED)
    return None if image is None else np.asarray(image, dtype=np.uint8)
