"""The shipped model through the station's detector: read as the user's YOLOv8 export would be."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from station.detectors import DETECTION_FLOOR, load_detector, sha256_file
from station.synthetic.line import CLASS_NAMES, PartGenerator

MODEL = Path(__file__).resolve().parent.parent / "models" / "defects.onnx"

pytestmark = pytest.mark.skipif(
    not MODEL.is_file(), reason="models/defects.onnx is absent (not trained and committed yet)"
)


@pytest.fixture(scope="module")
def detector():
    return load_detector(MODEL)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def test_shipped_model_reads_as_yolov8_by_metadata(detector):
    info = detector.info
    assert info.family == "yolov8"
    assert "family yolov8 chosen by metadata" in info.notes
    assert info.class_names == CLASS_NAMES
    assert info.input_layout == "NCHW" and info.input_shape[:2] == (1, 3)
    assert info.output_shape[:2] == (1, 4 + len(CLASS_NAMES))
    assert info.sha256 == sha256_file(MODEL)
    assert info.scores_rank and info.confidence_floor is None


def test_station_preprocessing_equals_the_training_contract(detector):
    """The model was trained on `station.training.letterbox.to_input`: feed it the same."""
    from station.training.letterbox import to_input

    frame = PartGenerator(seed=3).part(0).image
    x, _ = detector.prepare(frame)
    np.testing.assert_allclose(x, to_input(frame, detector.info.input_shape[2]), rtol=0, atol=1e-6)


def test_each_class_maximum_survives_decode_and_nms(detector):
    """A reject rests on each class's best score: it must equal the raw output's, exactly."""
    gen = PartGenerator(seed=5)
    nc = len(CLASS_NAMES)
    for i in range(6):
        frame = gen.part(i).image
        x, _ = detector.prepare(frame)
        raw = detector.session.run(None, {detector.input_name: x})[0][0, 4:].max(axis=1)
        expected = np.where(raw >= np.float32(DETECTION_FLOOR), raw, -np.inf).astype(np.float32)
        got = detector.detect(frame).max_score_per_class(nc)
        np.testing.assert_array_equal(got, expected)


def test_finds_most_defects_on_the_synthetic_line(detector):
    gen = PartGenerator(seed=1001)
    parts = [p for p in map(gen.part, range(120)) if p.defective][:20]
    found = 0
    for part in parts:
        dets = detector.detect(part.image)
        assert np.all(np.diff(dets.confidence) <= 0)  # best first
        h, w = part.image.shape[:2]
        assert np.all((dets.xyxy >= 0) & (dets.xyxy <= [w, h, w, h]))
        box, cls = part.boxes_xyxy[0], part.class_ids[0]
        same = dets.select(dets.class_id == cls)
        if len(same) and iou(same.xyxy[0], box) >= 0.3:
            found += 1
    assert found >= len(parts) // 2, f"true class best box hit {found}/{len(parts)}"
