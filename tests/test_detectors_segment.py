"""Segmentation masks and family evidence through the commands, on real exported models."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_graphs import constant_output_model, ultralytics_metadata

from station.cli import main
from station.core.detections import Detections, InstanceMasks
from station.core.errors import StationError
from station.detectors import load_detector
from station.detectors.masks import box_masks, frame_masks, mask_polygon

REFERENCE = Path(__file__).resolve().parent / "fixtures" / "reference"
SEG = REFERENCE / "yolov8-seg.onnx"
FRAME = REFERENCE / "frame0.png"


def test_detect_json_adds_mask_area_and_polygon(capsys):
    assert main(["detect", str(SEG), str(FRAME), "--default-threshold", "0.95", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    dets = result["detections"]
    assert dets
    h, w = cv2.imread(str(FRAME)).shape[:2]
    for d in dets:
        x1, y1, x2, y2 = d["box_xyxy"]
        assert d["mask_area_px"] > 0
        assert d["mask_area_px"] <= (x2 - x1 + 1) * (y2 - y1 + 1)
        poly = np.array(d["polygon"])
        assert poly.shape[1] == 2 and len(poly) >= 1
        assert (poly[:, 0] >= np.floor(x1)).all() and (poly[:, 0] < np.ceil(x2)).all()
        assert (poly[:, 1] >= np.floor(y1)).all() and (poly[:, 1] < np.ceil(y2)).all()
        assert (poly[:, 0] < w).all() and (poly[:, 1] < h).all()


def test_detect_json_of_a_box_model_has_no_mask_fields(capsys):
    model = REFERENCE / "yolov8-det.onnx"
    assert main(["detect", str(model), str(FRAME), "--default-threshold", "0.9", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["detections"]
    assert all("mask_area_px" not in d and "polygon" not in d for d in result["detections"])


@pytest.mark.parametrize(
    ("model", "family", "evidence"),
    [
        ("yolov8-det-nms.onnx", "end2end", "metadata args 'nms': True"),
        ("yolo26-det.onnx", "end2end", "metadata end2end True"),
        ("yolov8-seg.onnx", "segment", "metadata task 'segment'"),
        ("yolo11-seg-nms.onnx", "segment-end2end", "metadata args 'nms': True"),
        ("rtdetr.onnx", "rtdetr", "metadata head RTDETRDecoder"),
        ("yolov8-det.onnx", "yolov8", "metadata task 'detect'"),
    ],
)
def test_model_info_json_says_which_evidence_decided(capsys, model, family, evidence):
    assert main(["model-info", str(REFERENCE / model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["family"] == family
    assert info["family_evidence"].startswith(evidence)


def test_override_evidence_is_override(capsys):
    model = REFERENCE / "yolov8-det.onnx"
    assert main(["model-info", str(model), "--family", "yolov8-multilabel", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["family"], info["family_evidence"]) == ("yolov8-multilabel", "override")


def test_nms_export_with_end2end_false_loads(tmp_path):
    """The issue's case: (1, 300, 6), `end2end: False`, `'nms': True` in args, 3 names."""
    out = np.zeros((1, 300, 6), np.float32)
    out[0, 0] = (10, 18, 30, 38, 0.8, 2)
    meta = ultralytics_metadata(
        ["a", "b", "c"], end2end="False", args="{'batch': 1, 'nms': True, 'dynamic': False}"
    )
    det = load_detector(constant_output_model(tmp_path / "m.onnx", out, metadata=meta))
    assert det.info.family == "end2end"
    dets = det.detect(np.zeros((48, 64, 3), np.uint8))
    assert dets.class_id.tolist() == [2] and dets.xyxy.tolist() == [[10.0, 10.0, 30.0, 30.0]]


def test_rtdetr_per_class_layout_is_stretched_normalised_and_single_label(tmp_path):
    """The (1, N, 4+nc) RT-DETR layout: normalised cx cy w h, each query's best class."""
    out = np.zeros((1, 300, 4 + 3), np.float32)
    out[0, 0] = (0.5, 0.25, 0.5, 0.5, 0.1, 0.7, 0.3)  # best class 1
    meta = ultralytics_metadata(["a", "b", "c"], head="RTDETRDecoder")
    det = load_detector(constant_output_model(tmp_path / "m.onnx", out, metadata=meta))
    assert det.info.family == "rtdetr"
    dets = det.detect(np.zeros((50, 200, 3), np.uint8))  # stretched: x * 200, y * 50
    top = dets.select(np.flatnonzero(dets.confidence >= 0.5))
    assert top.class_id.tolist() == [1]
    np.testing.assert_allclose(top.xyxy, [[50.0, 0.0, 150.0, 25.0]], atol=1e-4)


def test_rtdetr_shape_alone_is_never_guessed(tmp_path):
    out = np.zeros((1, 300, 7), np.float32)
    path = constant_output_model(tmp_path / "m.onnx", out)
    det = load_detector(path, labels=_labels(tmp_path, 3), family="rtdetr")
    assert det.info.family_evidence == "override"
    # without metadata (1, 300, 7) reads as a 2-class YOLOv5, by shape
    assert load_detector(path).info.family == "yolov5"


def test_segment_without_metadata_is_read_by_its_two_outputs(tmp_path):
    det = load_detector(REFERENCE / "yolov8-seg.onnx")
    assert det.info.family == "segment"
    assert any("mask prototypes (1, 32, 32, 32)" in n for n in det.info.notes)


def test_obb_refusal_names_obb(tmp_path):
    out = np.zeros((1, 8, 64), np.float32)
    meta = ultralytics_metadata(["a", "b", "c"], task="obb")
    with pytest.raises(StationError, match="OBB"):
        load_detector(constant_output_model(tmp_path / "m.onnx", out, metadata=meta))


def test_masks_follow_select_and_render_inside_their_boxes():
    det = load_detector(SEG)
    image = cv2.imread(str(FRAME))
    dets = det.detect(image)
    assert dets.masks is not None and len(dets.masks) == len(dets)
    top = dets.select(np.arange(3))
    assert top.masks is not None and len(top.masks) == 3
    full = frame_masks(top.masks, top.xyxy, image.shape[:2])
    for m, box, area in zip(full, top.xyxy, top.data["mask_area_px"], strict=True):
        ys, xs = np.nonzero(m)
        assert int(m.sum()) == int(area) > 0
        assert xs.min() >= np.floor(box[0]) and xs.max() < np.ceil(box[2])
        assert ys.min() >= np.floor(box[1]) and ys.max() < np.ceil(box[3])


def test_mask_is_sigmoid_of_coefficients_times_prototypes_cropped_to_the_box():
    """One prototype, upsampled x4 (64 px input over 16 px prototypes), 64 x 64 frame."""
    protos = np.full((1, 16, 16), -1.0, np.float32)
    protos[0, 4:12, 4:12] = 1.0  # a positive square, input pixels 16..48
    masks = InstanceMasks(np.array([[1.0], [-1.0]], np.float32), protos, (64, 64))
    dets = Detections(
        np.array([[0, 0, 64, 64], [0, 0, 64, 64]], np.float32), np.ones(2), np.zeros(2)
    )
    (_, _, pos), (_, _, neg) = box_masks(masks, dets.xyxy, (64, 64))
    ys, xs = np.nonzero(pos)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (16, 47, 16, 47)
    assert pos.sum() + neg.sum() == 64 * 64  # coefficient -1 flips the sign: the complement
    cropped = box_masks(
        masks.select(np.array([0])), np.array([[20, 0, 30, 64]], np.float32), (64, 64)
    )
    assert cropped[0][2].shape == (64, 10) and cropped[0][1] == 20


def test_polygon_of_an_empty_mask_is_empty():
    assert mask_polygon(np.zeros((5, 5), bool)).shape == (0, 2)


def _labels(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "labels.txt"
    path.write_text("".join(f"c{i}\n" for i in range(n)), encoding="utf-8")
    return path


def test_masks_survive_the_log_and_are_drawn_in_the_live_view(qapp):
    """Outlines go into the logged `kept` JSON, read back for the part dialog, and are drawn."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QImage, QPainter
    from storage_support import make_inspection

    from station.storage.inspections import kept_json
    from station.storage.queries import _kept
    from station.ui.widgets.live_view import paint_part
    from station.ui.workers.inspection_worker import PartResult

    image = cv2.imread(str(FRAME))
    dets = load_detector(SEG).detect(image)
    kept = dets.select(np.flatnonzero(dets.confidence >= np.float32(0.95)))
    assert len(kept) and all(len(p) for p in kept.data["polygon"])
    back = _kept(json.loads(kept_json(kept)))
    assert back.data["mask_area_px"].tolist() == kept.data["mask_area_px"].tolist()
    for got, want in zip(back.data["polygon"], kept.data["polygon"], strict=True):
        np.testing.assert_array_equal(got, want)

    def render(d: Detections) -> QImage:
        h, w = image.shape[:2]
        part = PartResult(
            make_inspection(1, 0.0), image, d, np.full(3, 0.95, np.float32), np.ones(3, bool)
        )
        canvas = QImage(w, h, QImage.Format.Format_RGB888)
        canvas.fill(QColor("black"))
        painter = QPainter(canvas)
        paint_part(painter, QRectF(0, 0, w, h), part, ("scratch", "pit", "stain"), label_px=0)
        painter.end()
        return canvas

    boxes_only = Detections(back.xyxy, back.confidence, back.class_id)
    assert render(back) != render(boxes_only)  # the outlines add pixels to the boxes
