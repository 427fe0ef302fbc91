"""A labeled sample from the log: operator-confirmed parts, for the tuning view.

Each confirmed part contributes its logged per-class maximum scores (the
model is not re-run) and its truth from the latest confirmation:
"really good" -> no defect; "really defective" with a class -> that class;
"really defective" without a class -> the classes that rejected it, or,
for a passed part (an escape) whose class nobody named, it is left out and
counted in `skipped` (its class cannot be guessed). Scores belong to one
model, so only parts logged with the chosen model's SHA-256 are used. A part
without a decision has no scores (camera lost, corrupt frame, model error):
it is left out too, never added as a "clean" part with nothing detected.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from station.core.errors import StationError
from station.core.outcomes import decided_scores
from station.core.sample import ScoredSample
from station.storage.errors import explain
from station.storage.opening import connect_reader
from station.storage.paths import archive_dir

_LATEST = """
SELECT i.id, i.model_sha256, i.class_names, i.max_scores, i.reasons, i.outcome, i.image_path,
       c.defective, c.class_name
FROM confirmations c JOIN inspections i ON i.id = c.inspection_id
WHERE c.id IN (SELECT max(id) FROM confirmations GROUP BY inspection_id)
"""


@dataclass(frozen=True, slots=True, eq=False)
class ConfirmedSample:
    """`sample` plus, per part, its log row id and archived frame (None when not archived)."""

    sample: ScoredSample
    row_ids: tuple[int, ...]
    image_paths: tuple[Path | None, ...]
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConfirmedPart:
    """A logged part and its latest confirmation, as stored (a journal's or the plant's)."""

    part_id: str
    row_id: int
    class_names_json: str
    max_scores: bytes
    reasons_json: str
    outcome: str
    image: Path | None
    defective: bool
    class_name: str | None


def confirmed_sample(db_path: Path, model_sha256: str | None = None) -> ConfirmedSample:
    """Every operator-confirmed part logged with `model_sha256` (default: the model of the
    most recently confirmed part). Raises StationError when there is none."""
    db_path = Path(db_path)
    conn = connect_reader(db_path)
    try:
        if model_sha256 is None:
            row = conn.execute(
                "SELECT i.model_sha256 FROM confirmations c JOIN inspections i "
                "ON i.id = c.inspection_id ORDER BY c.id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise StationError(
                    f"{db_path}: no confirmed parts yet; confirm parts in the station first"
                )
            model_sha256 = str(row[0])
        rows = conn.execute(
            _LATEST + " AND i.model_sha256 = ? ORDER BY i.id", (model_sha256,)
        ).fetchall()
        others = conn.execute(
            "SELECT count(DISTINCT inspection_id) FROM confirmations c JOIN inspections i "
            "ON i.id = c.inspection_id WHERE i.model_sha256 != ?",
            (model_sha256,),
        ).fetchone()[0]
    except sqlite3.Error as exc:
        raise explain(db_path, exc) from exc
    finally:
        conn.close()
    root = archive_dir(db_path)
    parts = [
        ConfirmedPart(
            f"log#{row_id}",
            int(row_id),
            names_json,
            blob,
            reasons,
            outcome,
            None if image is None else root / str(image),
            bool(defective),
            cls,
        )
        for row_id, _, names_json, blob, reasons, outcome, image, defective, cls in rows
    ]
    return build_confirmed(parts, model_sha256, int(others), str(db_path))


def build_confirmed(
    parts: list[ConfirmedPart], model_sha256: str, others: int, where: str
) -> ConfirmedSample:
    """The sample of `parts` (confirmed parts of one model, oldest first) by the rules above.

    `others`: confirmed parts scored by another model (counted as skipped); `where` names
    the source in errors. Raises StationError when no part is usable.
    """
    if not parts:
        raise StationError(f"{where}: no confirmed parts logged with model {model_sha256[:12]}…")
    class_names = tuple(json.loads(parts[-1].class_names_json))
    index = {c: k for k, c in enumerate(class_names)}
    skipped: Counter[str] = Counter()
    if others:
        skipped["scored by another model"] = int(others)
    scores, truth, kept = [], [], []
    for p in parts:
        if tuple(json.loads(p.class_names_json)) != class_names:
            skipped["different class list"] += 1
            continue
        part_scores = decided_scores(p.outcome, np.frombuffer(p.max_scores, dtype="<f4"))
        if np.isnan(part_scores).any():
            skipped["no decision (no scores)"] += 1
            continue
        t = np.zeros(len(class_names), dtype=bool)
        if p.defective:
            if p.class_name is not None:
                t[index[p.class_name]] = True
            elif p.outcome == "REJECT":
                for r in json.loads(p.reasons_json):
                    t[index[r["class"]]] = True
            else:
                skipped["defective, class not confirmed"] += 1
                continue
        scores.append(part_scores)
        truth.append(t)
        kept.append(p)
    if not kept:
        raise StationError(f"{where}: no usable confirmed parts ({dict(skipped)})")
    sample = ScoredSample(
        class_names=class_names,
        scores=np.stack(scores).astype(np.float32),
        truth=np.stack(truth),
        part_ids=tuple(p.part_id for p in kept),
        model_sha256=model_sha256,
    )
    return ConfirmedSample(
        sample, tuple(p.row_id for p in kept), tuple(p.image for p in kept), dict(skipped)
    )
