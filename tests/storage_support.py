"""Inspections for the storage tests, built through the real decision policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from station.core.decision import DecisionPolicy, no_decision
from station.core.detections import Detections
from station.core.inspection import Inspection, threshold_set_id
from station.core.thresholds import ThresholdSet

CLASSES = ("scratch", "crack", "dent")
THRESHOLDS = ThresholdSet({"crack": 0.5, "dent": 0.6}, 0.4, "f" * 64)
POLICY = DecisionPolicy.build(THRESHOLDS, CLASSES)
MODEL = "f" * 64


def make_inspection(
    seq: int,
    t: float,
    *,
    scores: dict[str, float] | None = None,
    nan: bool = False,
    frame: np.ndarray | None = None,
    truth: bool | None = None,
    station_id: str = "st-1",
    shift_id: str = "",
    image_seed: int | None = None,
) -> Inspection:
    """A part with one detection per entry of `scores` ({class: confidence}), or NO DECISION."""
    scores = scores or {}
    n = len(scores)
    dets = Detections(
        np.tile(np.array([[10, 10, 40, 40]], np.float32), (n, 1)),
        np.array(list(scores.values()), np.float32),
        np.array([CLASSES.index(c) for c in scores], np.int64),
    )
    decision = no_decision("camera lost") if nan else POLICY.decide(dets)
    if image_seed is not None:
        frame = np.random.default_rng(image_seed).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    return Inspection(
        time_utc=t,
        station_id=station_id,
        product="widget",
        sequence=seq,
        decision=decision,
        class_names=CLASSES,
        max_scores=dets.max_score_per_class(len(CLASSES)),
        threshold_set_id=threshold_set_id(THRESHOLDS),
        model_sha256=MODEL,
        latency_ms=4.5,
        frame=frame,
        truth_defective=truth,
        shift_id=shift_id,
    )


SCHEMA_1_SQL = Path(__file__).parent / "fixtures" / "schema1.sql"


def archived_frames(root: Path) -> list[Path]:
    """Every frame file in a reject archive: PNG when deflated, TIFF when stored."""
    return [p for p in root.rglob("*") if p.suffix in (".png", ".tif")]
