"""The station's `detect` equals the exporter's own `predict` on the same ONNX files and frames.

tests/fixtures/reference/ holds tiny models exported by Ultralytics 8.4 in the layouts users
get and what `YOLO(file).predict(frame, imgsz, conf=T, iou=0.7, retina_masks=True)` returned
(scripts/make_reference_fixtures.py, run in a separate torch environment; see docs/models.md).
Here real onnxruntime sessions run those files: after matching, every box has IoU >= 0.99, the
same class and a score within 1e-4, nothing is extra and nothing missing; masks match too.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from station.core.errors import StationError
from station.core.thresholds import ThresholdSet, filter_detections
from station.detectors import load_detector
from station.detectors.masks import frame_masks

REFERENCE = Path(__file__).resolve().parent / "fixtures" / "reference"
CASES = sorted(
    p.stem
    for p in REFERENCE.glob("*.json")
    if p.stem != "shipped-defects" and "frames" in json.loads(p.read_text())
)
FAMILY = {
    "yolov8-det": "yolov8",
    "yolov8-det-nms": "end2end",
    "yolo11-det-dynamic": "yolov8",
    "yolo26-det": "end2end",
    "yolov8-seg": "segment",
    "yolo11-seg-nms": "segment-end2end",
    "yolo26-seg": "segment-end2end",
    "yolo26-seg-raw": "segment",
    "rtdetr": "rtdetr",
}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else float(np.allclose(a, b))


def reference_mask(blob: str, hw: list[int]) -> np.ndarray:
    bits = np.frombuffer(zlib.decompress(base64.b64decode(blob)), np.uint8)
    return np.unpackbits(bits)[: hw[0] * hw[1]].reshape(hw).astype(bool)


def match(ref: list[dict], xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray) -> list[int]:
    """For each reference detection, the index of the station's best same-class match."""
    free = set(range(len(conf)))
    pairs = []
    for d in sorted(ref, key=lambda d: -d["confidence"]):
        same = [j for j in free if cls[j] == d["class_id"]]
        assert same, f"missing: {d}"
        best = max(
            same, key=lambda j: (iou(np.array(d["xyxy"]), xyxy[j]), -abs(conf[j] - d["confidence"]))
        )
        free.discard(best)
        pairs.append(best)
    assert not free, f"extra: {[(xyxy[j].tolist(), float(conf[j]), int(cls[j])) for j in free]}"
    return pairs


@pytest.fixture(scope="module", params=CASES)
def case(request):
    record = json.loads((REFERENCE / f"{request.param}.json").read_text())
    return request.param, record, load_detector(REFERENCE / record["model"])


def test_family_read_from_what_the_exporter_wrote(case):
    name, _, detector = case
    assert detector.info.family == FAMILY[name]
    assert detector.info.family_evidence.startswith("metadata")


def test_detect_equals_the_exporters_predict(case):
    _name, record, detector = case
    names = detector.info.class_names
    tset = ThresholdSet({}, record["conf"])
    total = 0
    for frame in record["frames"]:
        image = cv2.imread(str(REFERENCE / frame["image"]))
        kept = filter_detections(detector.detect(image), tset.vector(names))
        ref = frame["detections"]
        assert len(kept) == len(ref), (frame["image"], len(kept), len(ref))
        pairs = match(ref, kept.xyxy, kept.confidence, kept.class_id)
        for d, j in zip(sorted(ref, key=lambda d: -d["confidence"]), pairs, strict=True):
            assert iou(np.array(d["xyxy"]), kept.xyxy[j]) >= 0.99, (d, kept.xyxy[j])
            assert abs(float(kept.confidence[j]) - d["confidence"]) <= 1e-4
        total += len(ref)
    assert total > 0  # the fixture exercises something


def test_masks_equal_the_exporters(case):
    name, record, detector = case
    if "mask" not in json.dumps(record["frames"][0]["detections"][:1]) and FAMILY[name] not in (
        "segment",
        "segment-end2end",
    ):
        pytest.skip("boxes only")
    names = detector.info.class_names
    tset = ThresholdSet({}, record["conf"])
    for frame in record["frames"]:
        image = cv2.imread(str(REFERENCE / frame["image"]))
        kept = filter_detections(detector.detect(image), tset.vector(names))
        ref = sorted(frame["detections"], key=lambda d: -d["confidence"])
        pairs = match(ref, kept.xyxy, kept.confidence, kept.class_id)
        assert kept.masks is not None
        masks = frame_masks(kept.masks, kept.xyxy, image.shape[:2])
        for d, j in zip(ref, pairs, strict=True):
            want = reference_mask(d["mask"], frame["hw"])
            got = masks[j]
            union = (want | got).sum()
            assert (want & got).sum() / union >= 0.99, (d["mask_area_px"], int(got.sum()))
            assert abs(int(kept.data["mask_area_px"][j]) - d["mask_area_px"]) <= max(
                1, 0.01 * d["mask_area_px"]
            )


def test_obb_export_is_refused_by_name():
    with pytest.raises(StationError, match=r"oriented-box \(OBB\)"):
        load_detector(REFERENCE / "yolov8-obb.onnx")


def test_shipped_model_equals_predict_on_line_frames():
    """models/defects.onnx on 40 synthetic line frames at conf 0.10, as a new user compares."""
    import hashlib

    from station.synthetic.line import PartGenerator

    record = json.loads((REFERENCE / "shipped-defects.json").read_text())
    model = REFERENCE.parent.parent.parent / record["model"]
    detector = load_detector(model)
    assert detector.info.sha256 == record["model_sha256"], "models/defects.onnx changed: " + (
        "re-run scripts/make_reference_fixtures.py --only shipped"
    )
    gen = PartGenerator(seed=record["frames_from"]["seed"])
    vector = ThresholdSet({}, record["conf"]).vector(detector.info.class_names)
    for i, frame in enumerate(record["frames"]):
        image = gen.part(i).image
        sha = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
        assert sha == frame["sha256"], f"synthetic part {i} is not the frame the fixture saw"
        kept = filter_detections(detector.detect(image), vector)
        ref = sorted(frame["detections"], key=lambda d: -d["confidence"])
        assert len(kept) == len(ref), (i, len(kept), len(ref))
        pairs = match(ref, kept.xyxy, kept.confidence, kept.class_id)
        for d, j in zip(ref, pairs, strict=True):
            assert iou(np.array(d["xyxy"]), kept.xyxy[j]) >= 0.99
            assert abs(float(kept.confidence[j]) - d["confidence"]) <= 1e-4
