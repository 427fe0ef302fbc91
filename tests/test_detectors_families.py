"""Real onnxruntime sessions on tiny graphs, one per output family, with exact expectations."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_graphs import (
    channel_mean_model,
    constant_output_model,
    end2end_output,
    ultralytics_metadata,
    write_yolov8_model,
    yolov5_output,
    yolov8_output,
)

from station.core.errors import StationError
from station.core.ports import Detector, DetectorError
from station.core.thresholds import ThresholdSet, filter_detections
from station.detectors import DETECTION_FLOOR, load_detector, sha256_file
from station.detectors.onnx_detector import MAX_CANDIDATES, cap_keeping_class_best

NAMES = ("scratch", "pit", "crack")


def frame(h: int = 48, w: int = 64, channels: int = 3) -> np.ndarray:
    shape = (h, w) if channels == 1 else (h, w, channels)
    return np.zeros(shape, np.uint8)


# ---- YOLOv8 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame_hw", "expected"),
    [
        ((48, 64), [10.0, 10.0, 30.0, 30.0]),  # pad top 8, scale 1
        ((24, 32), [5.0, 5.0, 15.0, 15.0]),  # pad top 8, scale 2
        ((64, 48), [2.0, 18.0, 22.0, 38.0]),  # portrait: pad left 8
        ((32, 16), [0.0, 9.0, 7.0, 19.0]),  # portrait, scale 2, pad left 16, clipped at x=0
    ],
)
def test_yolov8_boxes_map_back_to_frame_pixels(tmp_path, frame_hw, expected):
    det = load_detector(
        write_yolov8_model(tmp_path / "m.onnx", [(2, 0.9, (10, 18, 30, 38))], NAMES)
    )
    dets = det.detect(frame(*frame_hw))
    assert dets.xyxy.tolist() == [expected]
    assert dets.class_id.tolist() == [2]
    assert dets.confidence.tolist() == [np.float32(0.9)]


def test_yolov8_info(tmp_path):
    path = write_yolov8_model(tmp_path / "m.onnx", [], NAMES)
    det = load_detector(path)
    assert isinstance(det, Detector)
    info = det.info
    assert info.family == "yolov8"
    assert info.class_names == NAMES
    assert info.sha256 == sha256_file(path)
    assert (info.input_name, info.input_shape, info.input_layout) == (
        "images",
        (1, 3, 64, 64),
        "NCHW",
    )
    assert info.output_shape == (1, 7, 64)
    assert info.scores_rank and info.confidence_floor is None
    assert info.execution_provider == "CPUExecutionProvider"


def test_nms_is_class_aware(tmp_path):
    rows = [
        (0, 0.9, (10, 10, 30, 30)),
        (0, 0.8, (11, 11, 31, 31)),  # same class, IoU 0.82: suppressed
        (1, 0.7, (11, 11, 31, 31)),  # other class, same place: kept
        (0, 0.6, (40, 40, 60, 60)),  # same class, elsewhere: kept
    ]
    det = load_detector(write_yolov8_model(tmp_path / "m.onnx", rows, NAMES))
    dets = det.detect(frame(64, 64))
    assert dets.class_id.tolist() == [0, 1, 0]
    assert dets.confidence.tolist() == [np.float32(s) for s in (0.9, 0.7, 0.6)]


def test_default_decode_is_single_label_as_predict(tmp_path):
    """A cell scoring 0.5 scratch and 0.4 pit reports its best class only, as `predict`."""
    out = yolov8_output([(0, 0.5, (10, 18, 30, 38))], 3)
    out[0, 4 + 1, 0] = 0.4
    det = load_detector(
        constant_output_model(tmp_path / "m.onnx", out, metadata=ultralytics_metadata(NAMES))
    )
    dets = det.detect(frame(48, 64))
    assert dets.class_id.tolist() == [0]
    assert dets.confidence.tolist() == [np.float32(0.5)]


def test_multilabel_family_reports_every_class_of_a_cell(tmp_path):
    """The conservative recipe option: a pit threshold of 0.3 must reject that cell."""
    out = yolov8_output([(0, 0.5, (10, 18, 30, 38))], 3)
    out[0, 4 + 1, 0] = 0.4
    det = load_detector(
        constant_output_model(tmp_path / "m.onnx", out, metadata=ultralytics_metadata(NAMES)),
        family="yolov8-multilabel",
    )
    assert det.info.family == "yolov8-multilabel"
    dets = det.detect(frame(48, 64))
    assert dets.class_id.tolist() == [0, 1]
    assert dets.xyxy.tolist() == [[10.0, 10.0, 30.0, 30.0]] * 2
    assert dets.confidence.tolist() == [np.float32(0.5), np.float32(0.4)]


def test_the_best_candidates_enter_nms_up_to_the_cap_and_every_class_best(tmp_path):
    # 1200 separate 2x2 boxes of class 0 (distinct scores) and one weak class-2 box
    n = MAX_CANDIDATES + 200
    rows = [
        (0, 0.1 + i / 2000, (3 * (i % 42), 3 * (i // 42), 3 * (i % 42) + 2, 3 * (i // 42) + 2))
        for i in range(n)
    ]
    rows.append((2, 0.002, (126, 126, 128, 128)))
    path = write_yolov8_model(tmp_path / "m.onnx", rows, NAMES, (128, 128), anchors=2048)
    detector = load_detector(path)
    x, plan = detector.prepare(frame(128, 128))
    dets = detector.decode(detector.session.run(None, {detector.input_name: x}), plan)
    class0 = dets.confidence[dets.class_id == 0]
    assert len(class0) >= 300  # the global cap of 300 keeps the best 300
    assert class0.max() == np.float32(0.1 + (n - 1) / 2000)
    assert dets.class_id[-1] == 2  # the weak class's best is never crowded out


def test_boxes_clipped_flat_in_the_padding_do_not_suppress_other_classes(tmp_path):
    """OpenCV rates two zero-area boxes as IoU 1 even across classes; the station must not."""
    rows = [(0, 0.9, (10, 0, 20, 6)), (1, 0.8, (40, 0, 50, 6)), (1, 0.7, (40, 0, 50, 5))]
    det = load_detector(write_yolov8_model(tmp_path / "m.onnx", rows, NAMES))
    dets = det.detect(frame(48, 64))  # rows 0..8 of the input are padding: boxes clip flat
    assert dets.class_id.tolist() == [0, 1]
    assert dets.xyxy.tolist() == [[10, 0, 20, 0], [40, 0, 50, 0]]


def test_flat_boxes_of_different_classes_survive_nms():
    from station.detectors.nms import nms_class_aware

    xyxy = np.array([[10, 5, 20, 5], [40, 5, 50, 5], [40, 5, 50, 5]], np.float32)  # zero height
    keep = nms_class_aware(xyxy, np.array([0.9, 0.8, 0.7], np.float32), np.array([0, 1, 1]), 0.7)
    assert keep.tolist() == [0, 1]  # the same-class duplicate goes, the other class stays


def test_nms_class_by_class_keeps_what_one_batched_call_keeps():
    """Overlapping boxes of three classes, tied scores included: the same boxes kept, in the
    same order, as OpenCV's batched call on the classes offset apart."""
    import cv2

    from station.detectors.nms import nms_class_aware

    rng = np.random.default_rng(7)
    for _ in range(20):
        n = 120
        xy = rng.uniform(0, 60, (n, 2)).astype(np.float32)
        xyxy = np.concatenate([xy, xy + rng.uniform(5, 30, (n, 2)).astype(np.float32)], axis=1)
        conf = np.round(rng.uniform(0.01, 1.0, n), 1).astype(np.float32)  # many ties
        cls = rng.integers(0, 3, n)
        xywh = xyxy.copy()
        xywh[:, 2:] -= xywh[:, :2]
        want = cv2.dnn.NMSBoxesBatched(xywh.tolist(), conf.tolist(), cls.tolist(), 0.0, 0.5)
        got = nms_class_aware(xyxy, conf, cls, 0.5)
        assert got.tolist() == np.asarray(want).reshape(-1).tolist()


def test_global_cap_keeps_every_class_best():
    order = np.arange(400)
    class_id = np.zeros(400, np.int64)
    class_id[390:] = 1
    kept = cap_keeping_class_best(order, class_id, 300)
    assert kept.tolist() == [*range(300), 390]


def test_all_candidates_above_the_floor_are_returned(tmp_path):
    rows = [
        (0, 0.002, (0, 0, 4, 4)),
        (1, DETECTION_FLOOR, (10, 10, 14, 14)),
        (2, 0.0009, (20, 20, 24, 24)),
    ]
    det = load_detector(write_yolov8_model(tmp_path / "m.onnx", rows, NAMES))
    assert det.detect(frame(64, 64)).class_id.tolist() == [0, 1]


def test_float32_score_equal_to_threshold_is_kept(tmp_path):
    det = load_detector(
        write_yolov8_model(tmp_path / "m.onnx", [(1, 0.7, (10, 10, 20, 20))], NAMES)
    )
    dets = det.detect(frame(64, 64))
    assert dets.confidence[0] == np.float32(0.7)
    tset = ThresholdSet({"pit": 0.7})
    assert len(filter_detections(dets, tset.vector(NAMES))) == 1
    assert len(filter_detections(dets, ThresholdSet({"pit": 0.7000001}).vector(NAMES))) == 0


def test_grayscale_frame_is_accepted(tmp_path):
    det = load_detector(
        write_yolov8_model(tmp_path / "m.onnx", [(0, 0.5, (10, 18, 30, 38))], NAMES)
    )
    assert det.detect(frame(48, 64, channels=1)).xyxy.tolist() == [[10.0, 10.0, 30.0, 30.0]]


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((48, 64, 3), np.float32),
        np.zeros((0, 64, 3), np.uint8),
        np.zeros((4, 4, 5), np.uint8),
    ],
)
def test_bad_frame_raises_detector_error(tmp_path, bad):
    det = load_detector(write_yolov8_model(tmp_path / "m.onnx", [], NAMES))
    with pytest.raises(DetectorError):
        det.detect(bad)


def test_nan_in_model_output_is_a_detector_error_not_an_empty_frame(tmp_path):
    out = yolov8_output([(0, 0.9, (10, 10, 20, 20))], 3)
    out[0, 5, 3] = np.nan
    det = load_detector(
        constant_output_model(tmp_path / "m.onnx", out, metadata=ultralytics_metadata(NAMES))
    )
    with pytest.raises(DetectorError, match="NaN"):
        det.detect(frame())


def test_detect_from_several_threads_gives_each_its_own_result(tmp_path):
    """detect() reuses an input buffer per thread; threads must never see each other's frame."""
    from concurrent.futures import ThreadPoolExecutor

    det = load_detector(channel_mean_model(tmp_path / "m.onnx"), family="classifier")
    colours = [(v, 0, 255 - v) for v in (0, 60, 120, 180, 240)]  # BGR: distinct channel means
    frames = [np.full((48, 64, 3), c, np.uint8) for c in colours] * 8
    expected = [det.detect(f).confidence.tolist() for f in frames]
    assert len({tuple(e) for e in expected}) == len(colours)
    with ThreadPoolExecutor(max_workers=3) as pool:
        got = list(pool.map(lambda f: det.detect(f).confidence.tolist(), frames))
    assert got == expected


# ---- YOLOv5 -------------------------------------------------------------------------------


def test_yolov5_confidence_is_objectness_times_class_score(tmp_path):
    out = yolov5_output([(1, 0.5, 0.8, (10, 18, 30, 38)), (2, 0.0005, 1.0, (0, 0, 5, 5))], 3)
    meta = ultralytics_metadata(NAMES, task=None)
    det = load_detector(constant_output_model(tmp_path / "m.onnx", out, metadata=meta))
    assert det.info.family == "yolov5"
    dets = det.detect(frame(48, 64))
    assert dets.xyxy.tolist() == [[10.0, 10.0, 30.0, 30.0]]
    assert dets.confidence.tolist() == [np.float32(0.5) * np.float32(0.8)]
    assert dets.class_id.tolist() == [1]


# ---- end-to-end ---------------------------------------------------------------------------


def test_end2end_drops_zero_padded_rows_and_needs_no_nms(tmp_path):
    rows = [(0, 0.9, (10, 18, 30, 38)), (0, 0.8, (11, 19, 31, 39)), (2, 0.3, (0, 8, 64, 56))]
    out = end2end_output(rows, n_rows=20)
    meta = ultralytics_metadata(NAMES, end2end="True")
    det = load_detector(constant_output_model(tmp_path / "m.onnx", out, metadata=meta))
    assert det.info.family == "end2end"
    dets = det.detect(frame(48, 64))
    # the graph already suppressed: overlapping same-class rows both stay
    assert dets.xyxy.tolist() == [[10, 10, 30, 30], [11, 11, 31, 31], [0, 0, 64, 48]]
    assert dets.class_id.tolist() == [0, 0, 2]
    assert dets.confidence.tolist() == [np.float32(s) for s in (0.9, 0.8, 0.3)]


def test_end2end_floor_from_metadata_or_unknown(tmp_path):
    out = end2end_output([])
    known = load_detector(
        constant_output_model(
            tmp_path / "a.onnx",
            out,
            metadata=ultralytics_metadata(NAMES, end2end="True", conf="0.25"),
        )
    ).info
    assert known.confidence_floor == 0.25
    unknown = load_detector(
        constant_output_model(
            tmp_path / "b.onnx", out, metadata=ultralytics_metadata(NAMES, end2end="True")
        )
    ).info
    assert unknown.confidence_floor is None
    assert any("floor unknown" in n for n in unknown.notes)


def test_end2end_without_names_needs_a_labels_file(tmp_path):
    path = constant_output_model(tmp_path / "m.onnx", end2end_output([(1, 0.5, (0, 0, 8, 8))]))
    with pytest.raises(StationError, match="labels file"):
        load_detector(path)
    labels = tmp_path / "names.txt"
    labels.write_text("a\nb\n", encoding="utf-8")
    det = load_detector(path, labels=labels)
    assert det.info.class_names == ("a", "b")
    assert det.detect(frame(64, 64)).class_id.tolist() == [1]


def test_end2end_class_id_outside_the_names_is_a_detector_error(tmp_path):
    out = end2end_output([(5, 0.5, (0, 0, 8, 8))])
    det = load_detector(
        constant_output_model(tmp_path / "m.onnx", out, metadata=ultralytics_metadata(NAMES))
    )
    with pytest.raises(DetectorError, match="class id 5"):
        det.detect(frame())


# ---- classifier ---------------------------------------------------------------------------


def test_classifier_probabilities_are_used_as_given(tmp_path):
    out = np.array([[0.1, 0.7, 0.2]], np.float32)
    meta = ultralytics_metadata(NAMES, task="classify")
    det = load_detector(constant_output_model(tmp_path / "m.onnx", out, metadata=meta))
    assert det.info.family == "classifier"
    dets = det.detect(frame(48, 64))
    assert dets.class_id.tolist() == [1, 2, 0]
    assert dets.confidence.tolist() == [np.float32(s) for s in (0.7, 0.2, 0.1)]
    assert dets.xyxy.tolist() == [[0, 0, 64, 48]] * 3  # a classification is a full-frame box


def test_classifier_logits_get_softmax(tmp_path):
    logits = np.array([[2.0, 0.0, -1.0]], np.float32)
    det = load_detector(constant_output_model(tmp_path / "m.onnx", logits))
    e = np.exp(logits[0].astype(np.float64))
    expected = (e / e.sum()).astype(np.float32)
    dets = det.detect(frame())
    assert dets.class_id.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(dets.confidence, expected)


def test_preprocessing_feeds_rgb_in_0_1_with_114_padding(tmp_path):
    """A model that outputs each channel's mean shows what reached it."""
    det = load_detector(channel_mean_model(tmp_path / "m.onnx"), family="classifier")
    blue = np.zeros((48, 64, 3), np.uint8)
    blue[:, :, 0] = 255  # BGR: pure blue
    x, plan = det.prepare(blue)
    assert (plan.pad_top, plan.resized_hw) == (8, (48, 64))
    r, g, b = det.session.run(None, {det.input_name: x})[0][0]
    pad = 16 / 64 * 114 / 255  # a quarter of the rows are padding
    assert r == pytest.approx(pad, abs=1e-6)
    assert g == pytest.approx(pad, abs=1e-6)
    assert b == pytest.approx(48 / 64 + pad, abs=1e-6)


# ---- choosing the family ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "metadata", "override", "family", "by"),
    [
        (yolov8_output([], 3), None, None, "yolov8", "shape"),
        (yolov8_output([], 3), ultralytics_metadata(NAMES), None, "yolov8", "metadata"),
        (yolov5_output([], 3), None, None, "yolov5", "shape"),
        (yolov5_output([], 3), ultralytics_metadata(NAMES, task=None), None, "yolov5", "metadata"),
        # (1, N, 6) without end2end metadata: end-to-end (priority) over a 1-class YOLOv5
        (end2end_output([]), None, None, "end2end", "shape"),
        (end2end_output([]), ultralytics_metadata(NAMES), None, "end2end", "shape"),
        (
            end2end_output([], 64),
            ultralytics_metadata(["x"], end2end="True"),
            None,
            "end2end",
            "metadata",
        ),
        # a one-class YOLOv5 is (1, A, 6) too: a names count of 1 or end2end=False decides...
        (yolov5_output([], 1), ultralytics_metadata(["x"]), None, "yolov5", "metadata"),
        (yolov5_output([], 1), {"end2end": "False"}, None, "yolov5", "shape"),
        # ...or the override, which wins over everything
        (yolov5_output([], 1), None, "yolov5", "yolov5", "override"),
        (end2end_output([]), ultralytics_metadata(["x"]), "yolov5", "yolov5", "override"),
        (yolov8_output([], 3), ultralytics_metadata(NAMES), "YOLO11", "yolov8", "override"),
        (np.zeros((1, 3), np.float32), None, None, "classifier", "shape"),
        (np.zeros((1, 3), np.float32), {"task": "classify"}, None, "classifier", "metadata"),
    ],
)
def test_family_choice(tmp_path, output, metadata, override, family, by):
    path = constant_output_model(tmp_path / "m.onnx", output, metadata=metadata)
    labels = tmp_path / "l.txt"
    labels.write_text("a\n", encoding="utf-8")
    needs_labels = family == "end2end" and not (metadata and "names" in metadata)
    det = load_detector(path, labels=labels if needs_labels else None, family=override)
    assert det.info.family == family
    assert f"family {family} chosen by {by}" in det.info.notes


def test_override_that_cannot_decode_the_output_is_refused(tmp_path):
    path = write_yolov8_model(tmp_path / "m.onnx", [], NAMES)
    with pytest.raises(StationError, match=r"family 'end2end' expects output \(1, N, 6\)"):
        load_detector(path, family="end2end")
    with pytest.raises(StationError, match=r"not known; known families: .*yolov8"):
        load_detector(path, family="detr")


def test_metadata_task_excludes_families(tmp_path):
    """A segmentation export without its prototypes output fits no family (not YOLOv8)."""
    out = yolov8_output([], 3 + 32)
    path = constant_output_model(tmp_path / "m.onnx", out, metadata={"task": "segment"})
    with pytest.raises(StationError, match="matches no known family"):
        load_detector(path)


# ---- class names --------------------------------------------------------------------------


def test_labels_file_names_a_model_without_metadata(tmp_path):
    path = write_yolov8_model(
        tmp_path / "m.onnx", [(1, 0.9, (0, 0, 8, 8))], NAMES, with_metadata=False
    )
    assert load_detector(path).info.class_names == ("class0", "class1", "class2")
    labels = tmp_path / "names.txt"
    labels.write_text("a\nb\nc\n", encoding="utf-8")
    assert load_detector(path, labels=labels).info.class_names == ("a", "b", "c")


def test_sidecar_labels_file_is_found_beside_the_model(tmp_path):
    path = write_yolov8_model(tmp_path / "m.onnx", [], NAMES, with_metadata=False)
    (tmp_path / "m.labels.txt").write_text("x\ny\nz\n", encoding="utf-8")
    assert load_detector(path).info.class_names == ("x", "y", "z")


def test_labels_file_overrides_metadata_names(tmp_path):
    path = write_yolov8_model(tmp_path / "m.onnx", [], NAMES)
    labels = tmp_path / "names.txt"
    labels.write_text("a\nb\nc\n", encoding="utf-8")
    assert load_detector(path, labels=labels).info.class_names == ("a", "b", "c")


def test_label_count_must_fit_the_output(tmp_path):
    path = write_yolov8_model(tmp_path / "m.onnx", [], NAMES, with_metadata=False)
    labels = tmp_path / "names.txt"
    labels.write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(StationError, match=r"2 class names .* has 3 classes"):
        load_detector(path, labels=labels)


# ---- input geometry -----------------------------------------------------------------------


def test_dynamic_input_uses_imgsz_metadata(tmp_path):
    out = yolov8_output([(0, 0.9, (10, 18, 30, 38))], 3)
    path = constant_output_model(
        tmp_path / "m.onnx",
        out,
        input_shape=("batch", 3, "h", "w"),
        metadata=ultralytics_metadata(NAMES),
    )
    det = load_detector(path)
    assert det.info.input_shape == ("batch", 3, "h", "w")
    assert det.detect(frame(48, 64)).xyxy.tolist() == [[10.0, 10.0, 30.0, 30.0]]


def test_dynamic_input_without_a_size_is_refused(tmp_path):
    out = yolov8_output([], 3)
    path = constant_output_model(tmp_path / "m.onnx", out, input_shape=(1, 3, "h", "w"))
    with pytest.raises(StationError, match=r"dynamic size .* no 'imgsz' metadata"):
        load_detector(path)


def test_nhwc_input_is_supported(tmp_path):
    out = yolov8_output([(0, 0.9, (10, 18, 30, 38))], 3)
    path = constant_output_model(tmp_path / "m.onnx", out, input_shape=(1, 64, 64, 3))
    det = load_detector(path)
    assert det.info.input_layout == "NHWC"
    assert det.detect(frame(48, 64)).xyxy.tolist() == [[10.0, 10.0, 30.0, 30.0]]


def test_missing_and_non_onnx_files_are_refused(tmp_path):
    with pytest.raises(StationError, match="model file not found"):
        load_detector(tmp_path / "absent.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_text("not a model", encoding="utf-8")
    with pytest.raises(StationError, match="not an ONNX model"):
        load_detector(junk)


def test_output_of_no_family_is_refused(tmp_path):
    path = constant_output_model(tmp_path / "m.onnx", np.zeros((1, 2, 3, 4), np.float32))
    with pytest.raises(StationError, match=r"output shape \(1, 2, 3, 4\) matches no known family"):
        load_detector(path)
