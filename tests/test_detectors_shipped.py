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


def test_shipped_model_reads_as_yolov8_by_metadata(detector):
    info = detector.info
    assert info.family == "yolov8"
    assert "family yolov8 chosen by metadata" in info.notes
    assert info.class_names == CLASS_NAMES
    assert info.input_layout == "NCHW"
    # Exported dynamic: the anchors follow the input size, so the shape names them.
    assert info.input_shape == ("batch", 3, "height", "width")
    assert info.output_shape == ("batch", 4 + len(CLASS_NAMES), "anchors")
    assert info.sha256 == sha256_file(MODEL)
    assert info.scores_rank and info.confidence_floor is None


def test_station_preprocessing_equals_the_training_contract(detector):
    """The model was trained on `station.training.letterbox.to_input`: feed it the same."""
    from station.training.letterbox import input_fit, to_input

    frame = PartGenerator(seed=3).part(0).image
    x, _ = detector.prepare(frame)
    np.testing.assert_array_equal(x, to_input(frame, *input_fit(detector.session)))


def _best_anchor_scores(scores: np.ndarray, multi_label: bool) -> np.ndarray:
    """Each class's raw maximum over the anchors that propose it (all, or those it tops)."""
    if not multi_label:
        best = scores.argmax(axis=0)
        scores = np.where(np.arange(len(scores))[:, None] == best[None], scores, -np.inf)
    raw = scores.max(axis=1)
    return np.where(raw >= np.float32(DETECTION_FLOOR), raw, -np.inf).astype(np.float32)


@pytest.mark.parametrize("family", [None, "yolov8-multilabel"])
def test_each_class_maximum_survives_decode_and_nms(detector, family):
    """A reject rests on each class's best score: it must equal the raw output's, exactly.

    Single-label (the default, as `predict`): the best score among the anchors whose best
    class it is; multi-label: the best over every anchor.
    """
    det = detector if family is None else load_detector(MODEL, family=family)
    gen = PartGenerator(seed=5)
    nc = len(CLASS_NAMES)
    for i in range(6):
        frame = gen.part(i).image
        x, _ = det.prepare(frame)
        scores = det.session.run(None, {det.input_name: x})[0][0, 4:]
        expected = _best_anchor_scores(scores, multi_label=family is not None)
        got = det.detect(frame).max_score_per_class(nc)
        np.testing.assert_array_equal(got, expected)


def test_top_detection_is_the_raw_best_anchor_mapped_back(detector):
    """Back-mapping checked against the training's own letterbox ratio and padding."""
    from station.training.letterbox import input_fit, letterbox, to_input

    fit = input_fit(detector.session)
    gen = PartGenerator(seed=1001)
    for i in range(5):
        frame = gen.part(i).image
        h, w = frame.shape[:2]
        _, r, (pad_x, pad_y) = letterbox(frame, *fit)
        raw = detector.session.run(None, {detector.input_name: to_input(frame, *fit)})[0][0]
        cls, anchor = np.unravel_index(np.argmax(raw[4:]), raw[4:].shape)
        cx, cy, bw, bh = raw[:4, anchor]
        expected = np.clip(
            [(cx - bw / 2 - pad_x) / r, (cy - bh / 2 - pad_y) / r,
             (cx + bw / 2 - pad_x) / r, (cy + bh / 2 - pad_y) / r],
            0, [w, h, w, h],
        )  # fmt: skip
        dets = detector.detect(frame)
        assert np.all(np.diff(dets.confidence) <= 0)  # best first
        assert (dets.class_id[0], dets.confidence[0]) == (cls, raw[4 + cls, anchor])
        np.testing.assert_allclose(dets.xyxy[0], expected, atol=1e-3)
