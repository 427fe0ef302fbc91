"""ThresholdSet: `>=` in float32, unlisted classes, refusals that name the field."""

from __future__ import annotations

import math

import numpy as np
import pytest

from station.core.detections import Detections
from station.core.thresholds import (
    DEFAULT_THRESHOLD,
    ThresholdError,
    ThresholdSet,
    filter_detections,
    keep_mask,
    reject_mask,
)

CLASSES = ("scratch", "dent", "stain", "ok")


def dets(scores: list[float], classes: list[int]) -> Detections:
    n = len(scores)
    return Detections(
        np.tile(np.array([[0, 0, 10, 10]], np.float32), (n, 1)),
        np.array(scores, np.float32),
        np.array(classes, np.int64),
        {"track": np.arange(n)},
    )


@pytest.mark.parametrize(
    ("score", "threshold", "kept"),
    [
        (0.7, 0.7, True),  # float32(0.7) < float64 0.7, yet a score shown as 0.7 clears T = 0.7
        (0.1, 0.1, True),
        (0.3, 0.3, True),
        (1.0, 1.0, True),
        (0.0, 0.0, True),
        (np.nextafter(np.float32(0.7), np.float32(0)), 0.7, False),
        (0.69, 0.7, False),
        (0.71, 0.7, True),
    ],
)
def test_boundary_ties_compare_in_float32(score: float, threshold: float, kept: bool) -> None:
    ts = ThresholdSet({"scratch": threshold})
    assert keep_mask(dets([score], [0]), ts.vector(CLASSES)).tolist() == [kept]


def test_float64_comparison_would_drop_the_tie() -> None:
    # the trap the station avoids: float32 0.7 promoted to float64 is below 0.7
    assert float(np.float32(0.7)) < 0.7


@pytest.mark.parametrize(
    ("class_thresholds", "default", "expected"),
    [
        ({}, 0.25, [0.25, 0.25, 0.25, 0.25]),
        ({"dent": 0.6}, 0.25, [0.25, 0.6, 0.25, 0.25]),
        ({"dent": 0.6, "ok": 1.0}, 0.5, [0.5, 0.6, 0.5, 1.0]),
        ({"scratch": 0, "dent": 1}, 0.0, [0.0, 1.0, 0.0, 0.0]),
    ],
)
def test_unlisted_classes_fall_back_to_default(
    class_thresholds: dict[str, float], default: float, expected: list[float]
) -> None:
    ts = ThresholdSet(class_thresholds, default)
    assert ts.vector(CLASSES).tolist() == pytest.approx(expected)
    assert ts.vector(CLASSES).dtype == np.float32
    assert list(ts.resolved(CLASSES)) == list(CLASSES)


def test_default_threshold_default() -> None:
    assert ThresholdSet().default_threshold == DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("kwargs", "field_named", "why"),
    [
        ({"class_thresholds": {"dent": 1.5}}, "class_thresholds.dent", "outside [0, 1]"),
        ({"class_thresholds": {"dent": -0.01}}, "class_thresholds.dent", "outside [0, 1]"),
        ({"class_thresholds": {"dent": math.nan}}, "class_thresholds.dent", "NaN"),
        ({"class_thresholds": {"dent": "0.5"}}, "class_thresholds.dent", "expected a number"),
        ({"class_thresholds": {"dent": None}}, "class_thresholds.dent", "expected a number"),
        ({"class_thresholds": {"dent": True}}, "class_thresholds.dent", "expected a number"),
        ({"class_thresholds": {"dent": math.inf}}, "class_thresholds.dent", "outside [0, 1]"),
        ({"default_threshold": 2}, "default_threshold", "outside [0, 1]"),
        ({"default_threshold": math.nan}, "default_threshold", "NaN"),
        ({"default_threshold": "high"}, "default_threshold", "expected a number"),
        ({"class_thresholds": [("dent", 0.5)]}, "class_thresholds", "mapping"),
    ],
)
def test_bad_thresholds_are_refused_naming_the_field(
    kwargs: dict[str, object], field_named: str, why: str
) -> None:
    with pytest.raises(ThresholdError) as err:
        ThresholdSet(**kwargs)  # type: ignore[arg-type]
    assert str(err.value).startswith(field_named + ":")
    assert why in str(err.value)


def test_numpy_numbers_are_accepted() -> None:
    ts = ThresholdSet({"dent": np.float32(0.5)}, np.float64(0.3))
    assert ts.class_thresholds["dent"] == 0.5
    assert ts.default_threshold == pytest.approx(0.3)


def test_a_class_the_model_lacks_is_refused_listing_the_models_classes() -> None:
    ts = ThresholdSet({"scrach": 0.5})  # typo
    with pytest.raises(ThresholdError) as err:
        ts.vector(CLASSES)
    msg = str(err.value)
    assert "'scrach'" in msg and "scratch, dent, stain, ok" in msg


def test_threshold_set_is_immutable_and_bound_to_a_model() -> None:
    ts = ThresholdSet({"dent": 0.5})
    with pytest.raises(TypeError):
        ts.class_thresholds["dent"] = 0.1  # type: ignore[index]
    bound = ts.bound_to("abc")
    assert bound.model_sha256 == "abc"
    assert not bound.needs_retuning("abc")
    assert bound.needs_retuning("def")
    assert ts.needs_retuning("abc")  # no hash recorded: not known to fit any model
    assert bound.with_thresholds({"stain": 0.9}).class_thresholds == {"dent": 0.5, "stain": 0.9}


@pytest.mark.parametrize(
    ("reject", "expected"),
    [
        (None, [True, True, True, True]),
        (["scratch", "dent", "stain"], [True, True, True, False]),
    ],
)
def test_reject_mask(reject: list[str] | None, expected: list[bool]) -> None:
    assert reject_mask(CLASSES, reject).tolist() == expected


def test_reject_mask_refuses_an_empty_set_it_would_pass_every_part() -> None:
    with pytest.raises(ThresholdError, match="reject_classes: expected at least one class"):
        reject_mask(CLASSES, [])


def test_reject_mask_refuses_unknown_class() -> None:
    with pytest.raises(ThresholdError, match="reject_classes: 'bent'"):
        reject_mask(CLASSES, ["bent"])


def test_nan_scores_are_never_kept_and_metadata_is_preserved() -> None:
    d = dets([0.9, math.nan, 0.2, 0.95], [0, 1, 2, 3])
    kept = filter_detections(d, ThresholdSet({}, 0.5).vector(CLASSES))
    assert kept.class_id.tolist() == [0, 3]
    assert kept.data["track"].tolist() == [0, 3]


def test_keep_mask_on_no_detections() -> None:
    assert keep_mask(Detections.empty(), ThresholdSet().vector(CLASSES)).shape == (0,)


@pytest.mark.parametrize(
    ("old", "new", "moves"),
    [
        (ThresholdSet({"pit": 0.3}, 0.5), ThresholdSet({"pit": 0.3}, 0.5), []),
        (
            ThresholdSet({"scratch": 0.4, "pit": 0.3}, 0.5),
            ThresholdSet({"scratch": 0.35, "pit": 0.3}, 0.45),
            ["scratch 0.40 → 0.35", "default 0.50 → 0.45"],
        ),
        # A class newly listed at the default it already had does not move.
        (ThresholdSet({}, 0.5), ThresholdSet({"pit": 0.5, "dent": 0.2}, 0.5), ["dent 0.50 → 0.20"]),
    ],
)
def test_moves_between_two_sets_for_people(
    old: ThresholdSet, new: ThresholdSet, moves: list[str]
) -> None:
    assert old.moves_to(new) == moves
