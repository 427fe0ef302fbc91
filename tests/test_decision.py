"""DecisionPolicy: PASS, REJECT with every reason, NO DECISION (never a pass)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from station.core.decision import DecisionPolicy, Outcome, no_decision
from station.core.detections import Detections
from station.core.thresholds import ThresholdError, ThresholdSet

CLASSES = ("scratch", "dent", "stain", "ok")
TS = ThresholdSet({"scratch": 0.5, "dent": 0.7}, default_threshold=0.3)


def dets(pairs: list[tuple[int, float]]) -> Detections:
    n = len(pairs)
    return Detections(
        np.tile(np.array([[1, 2, 30, 40]], np.float32), (n, 1)),
        np.array([s for _, s in pairs], np.float32),
        np.array([c for c, _ in pairs], np.int64),
        {"mask_id": np.arange(n) + 100},
    )


@pytest.mark.parametrize(
    ("given", "reject_classes", "outcome", "reasons"),
    [
        ([], None, Outcome.PASS, []),
        ([(0, 0.49)], None, Outcome.PASS, []),
        ([(0, 0.5)], None, Outcome.REJECT, [("scratch", 0.5, 0.5)]),  # tie clears
        ([(1, 0.7)], None, Outcome.REJECT, [("dent", 0.7, 0.7)]),  # float32 tie clears
        ([(2, 0.3)], None, Outcome.REJECT, [("stain", 0.3, 0.3)]),  # unlisted -> default
        ([(2, 0.29)], None, Outcome.PASS, []),
        ([(3, 0.99)], ["scratch", "dent", "stain"], Outcome.PASS, []),  # non-reject class
        ([(3, 0.99)], None, Outcome.REJECT, [("ok", 0.99, 0.3)]),  # all classes reject by default
        (
            [(0, 0.6), (1, 0.9), (3, 0.99), (2, 0.1)],
            ["scratch", "dent", "stain"],
            Outcome.REJECT,
            [("dent", 0.9, 0.7), ("scratch", 0.6, 0.5)],  # every reason, highest score first
        ),
        (
            [(0, 0.6), (0, 0.8)],
            None,
            Outcome.REJECT,
            [("scratch", 0.8, 0.5), ("scratch", 0.6, 0.5)],
        ),
    ],
)
def test_decide(
    given: list[tuple[int, float]],
    reject_classes: list[str] | None,
    outcome: Outcome,
    reasons: list[tuple[str, float, float]],
) -> None:
    policy = DecisionPolicy.build(TS, CLASSES, reject_classes)
    decision = policy.decide(dets(given))
    assert decision.outcome is outcome
    got = [(r.class_name, r.score, r.threshold) for r in decision.reasons]
    assert got == [(c, pytest.approx(s), pytest.approx(t)) for c, s, t in reasons]
    if outcome is Outcome.REJECT:
        assert decision.summary.startswith(reasons[0][0])


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ([(0, math.nan)], "NaN score for scratch"),
        ([(0, 0.9), (3, math.nan)], "NaN score for ok"),  # NaN on a non-reject class too
        ([(7, 0.9)], "class id 7"),
        ([(-1, 0.9)], "class id -1"),
    ],
)
def test_no_decision_is_never_a_pass(given: list[tuple[int, float]], why: str) -> None:
    policy = DecisionPolicy.build(TS, CLASSES, ["scratch", "dent", "stain"])
    decision = policy.decide(dets(given))
    assert decision.outcome is Outcome.NO_DECISION
    assert why in decision.summary


def test_kept_detections_keep_their_metadata() -> None:
    policy = DecisionPolicy.build(TS, CLASSES, ["scratch", "dent", "stain"])
    decision = policy.decide(dets([(0, 0.1), (3, 0.95), (1, 0.8)]))
    assert decision.kept.class_id.tolist() == [3, 1]
    assert decision.kept.data["mask_id"].tolist() == [101, 102]
    assert decision.kept.xyxy.tolist() == [[1, 2, 30, 40]] * 2


def test_no_decision_helper() -> None:
    d = no_decision("camera lost")
    assert d.outcome is Outcome.NO_DECISION and d.summary == "camera lost" and not d.reasons


def test_policy_refuses_a_class_the_model_lacks() -> None:
    with pytest.raises(ThresholdError, match="the model's classes are: scratch, dent, stain, ok"):
        DecisionPolicy.build(ThresholdSet({"crack": 0.5}), CLASSES)
    with pytest.raises(ThresholdError, match="reject_classes"):
        DecisionPolicy.build(TS, CLASSES, ["crack"])


def test_outcome_values_are_stable_strings() -> None:
    assert [o.value for o in Outcome] == ["PASS", "REJECT", "NO DECISION"]
    assert f"{Outcome.NO_DECISION}" == "NO DECISION"


def test_a_detection_without_a_confidence_cannot_be_built() -> None:
    # a missing score never reaches the decision as "nothing found": the batch is refused
    with pytest.raises(ValueError, match="column lengths differ"):
        Detections(np.zeros((2, 4), np.float32), np.array([0.9], np.float32), np.array([0, 1]))
