"""The dark-blob heuristic: exact boxes on a drawn part, constant score, no ranking."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from station.core.errors import StationError
from station.core.ports import Detector
from station.detectors import load_detector


def drawn_part() -> np.ndarray:
    """Dark belt, a bright plate with a through-hole, one 5x5 pit on it and a speck on the belt."""
    img = np.full((240, 320, 3), 60, np.uint8)
    cv2.rectangle(img, (20, 20), (220, 160), (180, 180, 180), cv2.FILLED)
    cv2.circle(img, (60, 60), 12, (60, 60, 60), cv2.FILLED)  # designed hole: above max_area
    img[80:85, 100:105] = 100  # the pit
    img[200:205, 260:265] = 10  # on the belt, not the part
    return img


def test_dark_blob_on_the_part_is_found_with_constant_confidence():
    det = load_detector("heuristic:dark-blobs")
    assert isinstance(det, Detector)
    dets = det.detect(drawn_part())
    assert dets.xyxy.tolist() == [[100.0, 80.0, 105.0, 85.0]]
    assert dets.confidence.tolist() == [1.0]
    assert dets.class_id.tolist() == [0]


def test_grayscale_frame_works_too():
    gray = cv2.cvtColor(drawn_part(), cv2.COLOR_BGR2GRAY)
    assert load_detector("heuristic:dark-blobs").detect(gray).xyxy.tolist() == [[100, 80, 105, 85]]


def test_heuristic_says_its_score_carries_no_ranking():
    info = load_detector("heuristic:dark-blobs").info
    assert info.scores_rank is False
    assert info.family == "heuristic:dark-blobs"
    assert info.class_names == ("dark_blob",)
    assert info.path.startswith("heuristic:dark-blobs?delta=")
    assert len(info.sha256) == 64


def test_parameters_change_the_identity_and_the_result():
    default = load_detector("heuristic:dark-blobs")
    strict = load_detector("heuristic:dark-blobs?min_area=30")
    assert strict.info.sha256 != default.info.sha256
    assert len(strict.detect(drawn_part())) == 0  # the 25-pixel pit is below min_area


def test_labels_file_renames_the_single_class(tmp_path):
    labels = tmp_path / "l.txt"
    labels.write_text("pit\n", encoding="utf-8")
    assert load_detector("heuristic:dark-blobs", labels=labels).info.class_names == ("pit",)
    labels.write_text("pit\nstain\n", encoding="utf-8")
    with pytest.raises(StationError, match="1 class"):
        load_detector("heuristic:dark-blobs", labels=labels)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("heuristic:bright-blobs", "unknown heuristic"),
        ("heuristic:dark-blobs?size=3", "unknown parameter 'size'"),
        ("heuristic:dark-blobs?delta=x", "must be an integer"),
        ("heuristic:dark-blobs?window=4", "odd"),
        ("heuristic:dark-blobs?min_area=10&max_area=5", "min_area <= max_area"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(StationError, match=message):
        load_detector(spec)
