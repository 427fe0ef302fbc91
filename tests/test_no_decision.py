"""The NO DECISION cause vocabulary: every message the pipeline writes names its cause."""

from __future__ import annotations

import pytest

from station.core.no_decision import NoDecisionCause, cause_of, count_by_cause


@pytest.mark.parametrize(
    ("why", "cause"),
    [
        ("camera lost: no frame for 2 s", NoDecisionCause.CAMERA_LOST),
        ("camera error: OSError: device busy", NoDecisionCause.CAMERA_ERROR),
        ("corrupt frame: img1.png: cannot decode", NoDecisionCause.CORRUPT_FRAME),
        ("bad label file: labels/img1.txt:2: cx = 1.5", NoDecisionCause.BAD_LABEL),
        ("wrong-size frame: 320×240, camera delivers 640×480", NoDecisionCause.WRONG_SIZE),
        ("model error: output contains NaN", NoDecisionCause.MODEL_ERROR),
        ("model returned class id 9, outside its 5 classes", NoDecisionCause.MODEL_ERROR),
        ("NaN score for crack", NoDecisionCause.NAN_SCORE),
        ("log unavailable: part not recorded", NoDecisionCause.LOG_UNAVAILABLE),
        ("camera lost", NoDecisionCause.CAMERA_LOST),
        ("", NoDecisionCause.OTHER),
        ("something new", NoDecisionCause.OTHER),
    ],
)
def test_cause_of(why: str, cause: NoDecisionCause) -> None:
    assert cause_of(why) is cause


def test_message_starts_with_its_cause() -> None:
    for cause in NoDecisionCause:
        assert cause_of(cause.message("detail")) is cause
    assert NoDecisionCause.CORRUPT_FRAME.message("  x ") == "corrupt frame: x"
    assert NoDecisionCause.CAMERA_LOST.message("") == "camera lost"


def test_count_by_cause_most_frequent_first() -> None:
    counts = count_by_cause({"camera lost: a": 2, "camera lost: b": 3, "model error: x": 4})
    assert list(counts.items()) == [("camera lost", 5), ("model error", 4)]
    assert count_by_cause(["corrupt frame: 1", "corrupt frame: 2"]) == {"corrupt frame": 2}
