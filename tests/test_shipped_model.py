"""The shipped model: a real YOLOv8-layout ONNX file whose scores rank defective parts."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from station.synthetic.line import CLASS_NAMES, PartGenerator, SyntheticPart
from station.training.letterbox import input_fit, letterbox, to_input

MODEL = Path(__file__).resolve().parents[1] / "models" / "defects.onnx"
CARD = MODEL.parent / "README.md"


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(str(MODEL), opts, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def fit(session: ort.InferenceSession) -> tuple[int, int]:
    """The size the file is letterboxed into (`imgsz` metadata) and the stride its input
    sides round up to (the file takes any such size: exported dynamic)."""
    return input_fit(session)


@pytest.fixture(scope="module")
def imgsz(fit: tuple[int, int]) -> int:
    return fit[0]


@pytest.fixture(scope="module")
def scored(
    session: ort.InferenceSession, fit: tuple[int, int]
) -> list[tuple[SyntheticPart, np.ndarray]]:
    """40 parts from a seed used neither for training nor for the model card."""
    gen = PartGenerator(2024)
    out = []
    for i in range(40):
        part = gen.part(i)
        out.append((part, session.run(None, {"images": to_input(part.image, *fit)})[0]))
    return out


def test_model_is_small_and_its_card_names_its_sha256() -> None:
    assert MODEL.stat().st_size < 5_000_000
    sha = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    assert sha in CARD.read_text(), "models/README.md must state the shipped file's SHA-256"


def test_io_is_the_ultralytics_v8_layout_of_a_dynamic_export(
    session: ort.InferenceSession, fit: tuple[int, int]
) -> None:
    imgsz, stride = fit
    (inp,) = session.get_inputs()
    (out,) = session.get_outputs()
    assert imgsz % 32 == 0 and 320 <= imgsz <= 640 and stride == 32
    assert inp.name == "images" and inp.shape == ["batch", 3, "height", "width"]
    assert inp.type == "tensor(float)"
    assert out.name == "output0" and out.shape == ["batch", 4 + len(CLASS_NAMES), "anchors"]


def test_a_line_frame_runs_without_padding_rows(session: ort.InferenceSession) -> None:
    """640 x 480 in, one anchor per 8 x 8 cell of it: 80 x 60, not the 80 x 80 of a square."""
    x = to_input(PartGenerator(2024).part(0).image, 640, 32)
    assert x.shape == (1, 3, 480, 640)
    assert session.run(None, {"images": x})[0].shape == (1, 4 + len(CLASS_NAMES), 80 * 60)


def test_metadata_parses_like_an_ultralytics_export(session: ort.InferenceSession) -> None:
    meta = session.get_modelmeta().custom_metadata_map
    assert ast.literal_eval(meta["names"]) == dict(enumerate(CLASS_NAMES))
    size = ast.literal_eval(meta["imgsz"])
    assert isinstance(size, list) and len(size) == 2 and size[0] == size[1]
    assert ast.literal_eval(meta["stride"]) == 32  # as Ultralytics: the input side multiple
    assert ast.literal_eval(meta["args"])["dynamic"] is True
    assert meta["task"] == "detect"
    assert meta["description"] and meta["author"]


def test_outputs_are_boxes_in_input_pixels_and_scores_in_unit_range(
    scored: list[tuple[SyntheticPart, np.ndarray]], imgsz: int
) -> None:
    for _, out in scored[:5]:
        assert out.shape == (1, 9, 80 * 60) and out.dtype == np.float32
        assert np.isfinite(out).all()
        boxes, scores = out[0, :4], out[0, 4:]
        assert (scores >= 0).all() and (scores <= 1).all()
        assert (boxes[2:] >= 0).all()  # widths and heights
        assert (boxes[:2] > -50).all() and (boxes[:2] < imgsz + 50).all()


def test_each_defect_scores_at_one_peak_cell(
    scored: list[tuple[SyntheticPart, np.ndarray]],
) -> None:
    """The graph ends with the peak decode (`station.training.peaks`): at most one class
    scores per cell, and only where no 3x3 neighbour scores that class higher."""
    for part, out in scored[:10]:
        heat = out[0, 4:].reshape(-1, 60, 80)
        assert (np.count_nonzero(heat, axis=0) <= 1).all()
        padded = np.pad(heat, ((0, 0), (1, 1), (1, 1)))
        around = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
        assert ((heat == 0) | (heat >= around.max(axis=(-1, -2)))).all()
        if part.defective:
            assert np.count_nonzero(heat > 0.25) <= 3 * len(part.class_ids)


def test_defective_parts_score_higher_than_good_parts(
    scored: list[tuple[SyntheticPart, np.ndarray]],
) -> None:
    part_max = np.array([out[0, 4:].max() for _, out in scored])
    defective = np.array([p.defective for p, _ in scored])
    assert 5 <= defective.sum() <= 35
    assert part_max[defective].mean() > part_max[~defective].mean() + 0.15
    # Ranking: a random defective part outscores a random good one most of the time.
    auroc = (part_max[defective][:, None] > part_max[~defective][None, :]).mean()
    assert auroc > 0.75


def test_confident_detections_point_at_the_labeled_defect(
    scored: list[tuple[SyntheticPart, np.ndarray]], fit: tuple[int, int]
) -> None:
    hits = []
    for part, out in scored:
        if not part.defective:
            continue
        _, r, (px, py) = letterbox(part.image, *fit)
        scores = out[0, 4:]
        c, a = np.unravel_index(scores.argmax(), scores.shape)
        if scores[c, a] < 0.3:
            continue
        cx = (out[0, 0, a] - px) / r
        cy = (out[0, 1, a] - py) / r
        boxes = part.boxes_xyxy
        near = (boxes[:, 0] - 16 <= cx) & (cx <= boxes[:, 2] + 16)
        near &= (boxes[:, 1] - 16 <= cy) & (cy <= boxes[:, 3] + 16)
        hits.append(bool(near.any()))
    assert len(hits) >= 5
    assert np.mean(hits) >= 0.7
