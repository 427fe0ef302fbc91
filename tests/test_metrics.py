"""Confusion, Wilson-interval rates, one-class sweeps and expected cost on hand-built samples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from station.core.costs import expected_cost
from station.core.errors import StationError
from station.core.metrics import confusion, threshold_vector
from station.core.ranking import RankingError, ranking_problem
from station.core.rates import Rate, min_trials_for_upper_bound, wilson_interval
from station.core.sample import ScoredSample
from station.core.sweep import SweepCache, sweep_class

NEG = -np.inf
NAN = math.nan
CLASSES = ("scratch", "dent", "ok")


def sample(
    rows: list[tuple[list[float], list[str]]], classes: tuple[str, ...] = CLASSES
) -> ScoredSample:
    """Each row: (max score per class, true defect classes)."""
    scores = np.array([r[0] for r in rows], np.float32).reshape(len(rows), len(classes))
    truth = np.array([[c in r[1] for c in classes] for r in rows], bool).reshape(scores.shape)
    return ScoredSample(classes, scores, truth, tuple(f"p{i}" for i in range(len(rows))), "sha")


# p0..p3 defective, p4..p7 good
ROWS = [
    ([0.9, NEG, NEG], ["scratch"]),
    ([0.4, NEG, NEG], ["scratch"]),
    ([NEG, 0.7, NEG], ["dent"]),
    ([NEG, NEG, 0.95], ["dent"]),  # the model saw only an `ok` mark
    ([NEG, NEG, NEG], []),
    ([0.5, NEG, NEG], []),
    ([NEG, 0.3, 0.99], ["ok"]),  # `ok` label is not a defect when `ok` does not reject
    ([NAN, NEG, NEG], []),  # model returned NaN: no decision
]
NOT_OK = np.array([True, True, False])


@pytest.mark.parametrize(
    ("thresholds", "rejecting", "cells"),
    [
        # (fa, fr, tr, tp): no-decision p7 is scrap (not shipped), never a pass
        ([0.5, 0.5, 0.5], NOT_OK, (2, 2, 2, 2)),  # p1 0.4<0.5 escapes, p3 escapes; p5 tie rejects
        ([0.4, 0.7, 0.5], NOT_OK, (1, 2, 3, 2)),  # ties 0.4 and float32 0.7 clear
        ([0.41, 0.71, 0.5], NOT_OK, (3, 2, 1, 2)),
        ([0.0, 0.0, 0.0], NOT_OK, (1, 3, 3, 1)),  # p4 (no score) and the ok-only p3 pass
        ([1.0, 1.0, 1.0], NOT_OK, (4, 1, 0, 3)),
        ([0.5, 0.5, 0.5], [True, True, True], (1, 2, 4, 1)),  # ok rejects: p3, p6 caught
    ],
)
def test_confusion_cells(
    thresholds: list[float], rejecting: np.ndarray, cells: tuple[int, int, int, int]
) -> None:
    s = sample(ROWS)
    rej = np.asarray(rejecting)
    c = confusion(s, np.array(thresholds, np.float32), rej)
    assert (c.false_accepts, c.false_rejects, c.true_rejects, c.true_passes) == cells
    assert c.parts == 8 == c.false_accepts + c.false_rejects + c.true_rejects + c.true_passes
    assert c.no_decision == 1
    assert c.far == Rate.of(c.false_accepts, c.defective_parts)
    assert c.frr == Rate.of(c.false_rejects, c.good_parts)
    # the cached path agrees with the plain one
    assert SweepCache(s, rej).confusion(np.array(thresholds, np.float32)) == c


def test_ok_labels_count_as_defects_only_when_ok_rejects() -> None:
    s = sample(ROWS)
    assert confusion(s, np.full(3, 0.5, np.float32), NOT_OK).defective_parts == 4
    assert confusion(s, np.full(3, 0.5, np.float32), np.ones(3, bool)).defective_parts == 5


def test_escapes_per_class() -> None:
    s = sample(ROWS)
    c = confusion(s, np.array([0.5, 0.8, 0.5], np.float32), NOT_OK)
    assert c.escapes_per_class == {"scratch": (2, 1), "dent": (2, 2)}  # ok is not a reject class


def test_unlisted_classes_use_the_default() -> None:
    v = threshold_vector(CLASSES, {"dent": 0.6}, 0.3)
    assert v.dtype == np.float32 and v.tolist() == pytest.approx([0.3, 0.6, 0.3])


def test_empty_sample() -> None:
    s = sample([])
    c = confusion(s, np.full(3, 0.5, np.float32), NOT_OK)
    assert (c.parts, c.defective_parts, c.good_parts) == (0, 0, 0)
    assert c.far.value is None and c.far.ci95 is None and str(c.far) == "0 of 0: n/a"
    assert ranking_problem(s) is not None
    with pytest.raises(StationError, match="empty"):
        expected_cost(c, 1.0, 1.0)


def test_no_defective_parts_and_no_good_parts() -> None:
    good = sample([([0.2, NEG, NEG], []), ([0.6, NEG, NEG], [])])
    c = confusion(good, np.full(3, 0.5, np.float32), NOT_OK)
    assert c.defective_parts == 0 and c.far.value is None and c.frr == Rate.of(1, 2)
    bad = sample([([0.2, NEG, NEG], ["scratch"]), ([0.6, NEG, NEG], ["dent"])])
    c = confusion(bad, np.full(3, 0.5, np.float32), NOT_OK)
    assert c.good_parts == 0 and c.frr.value is None and c.far == Rate.of(1, 2)
    sw = sweep_class(bad, np.full(3, 0.5, np.float32), NOT_OK, 0)
    assert np.isnan(sw.frr).all() and not np.isnan(sw.far).any()


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        (0, 10, 0.0, 0.2775),
        (1, 10, 0.0179, 0.4042),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (3, 212, 0.0048, 0.0408),
        (0, 765, 0.0, 0.0050),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_interval_known_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson_interval(k, n)
    assert got is not None
    assert got == (pytest.approx(lo, abs=1e-4), pytest.approx(hi, abs=1e-4))


def test_wilson_edge_cases() -> None:
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    assert str(Rate.of(3, 212)) == "3 of 212: 1.4% (0.5–4.1%)"
    assert str(Rate.of(0, 12)) == "0 of 12: 0.0% (0.0–24.2%)"
    assert min_trials_for_upper_bound(0.005) == 765
    assert min_trials_for_upper_bound(1.0) is None


def test_sweep_matches_confusion_at_every_grid_point() -> None:
    rng = np.random.default_rng(7)
    n = 400
    truth = rng.random((n, 3)) < 0.1
    scores = np.where(truth, rng.random((n, 3)) * 0.7 + 0.3, rng.random((n, 3)) * 0.6)
    scores = np.round(scores, 2).astype(np.float32)  # many exact ties with the grid
    scores[rng.random((n, 3)) < 0.4] = NEG
    scores[5, 1] = NAN
    s = ScoredSample(CLASSES, scores, truth, tuple(map(str, range(n))), "sha")
    held = np.array([0.3, 0.45, 0.8], np.float32)
    grid = np.linspace(0, 1, 101, dtype=np.float32)
    for rej in (np.ones(3, bool), NOT_OK):
        cache = SweepCache(s, rej, grid)
        for c in range(3):
            conf, sw = cache.evaluate(held, c)
            assert conf == confusion(s, held, rej)
            assert sw.operating_point.escapes == conf.false_accepts
            for i in range(0, 101, 7):
                t = held.copy()
                t[c] = grid[i]
                ref = confusion(s, t, rej)
                assert sw.escapes[i] == ref.false_accepts
                assert sw.scrap[i] == ref.false_rejects
                assert sw.far[i] == pytest.approx(ref.far.value)
                assert sw.frr[i] == pytest.approx(ref.frr.value)
            assert np.all(np.diff(sw.escapes) >= 0) and np.all(np.diff(sw.scrap) <= 0)


def test_cache_follows_a_slider_and_back() -> None:
    s = sample(ROWS)
    cache = SweepCache(s, NOT_OK)
    for t in ([0.5, 0.5, 0.5], [0.3, 0.5, 0.5], [0.3, 0.9, 0.5], [0.5, 0.5, 0.5]):
        v = np.array(t, np.float32)
        assert cache.evaluate(v, 0)[0] == confusion(s, v, NOT_OK)


def test_non_reject_class_curve_is_flat() -> None:
    s = sample(ROWS)
    sw = sweep_class(s, np.full(3, 0.5, np.float32), NOT_OK, 2)
    assert len(set(sw.escapes.tolist())) == 1 and len(set(sw.scrap.tolist())) == 1


@pytest.mark.parametrize(
    ("scores", "problem"),
    [
        ([[1.0, NEG, NEG], [NEG, 1.0, NEG], [NEG, NEG, NEG]], "constant score"),
        ([[NEG, NEG, NEG], [NEG, NEG, NEG]], "detected nothing"),
        ([[0.2, 0.5, NEG], [0.2, NEG, NEG]], "each class's score is constant"),
        ([[0.9, NEG, NEG], [0.3, 0.4, NEG]], None),
    ],
)
def test_ranking_problem(scores: list[list[float]], problem: str | None) -> None:
    s = sample([(r, ["scratch"] if i == 0 else []) for i, r in enumerate(scores)])
    got = ranking_problem(s)
    if problem is None:
        assert got is None
        SweepCache(s, NOT_OK).evaluate(np.full(3, 0.5, np.float32), 0)
    else:
        assert got is not None and problem in got
        with pytest.raises(RankingError, match=problem):
            SweepCache(s, NOT_OK).evaluate(np.full(3, 0.5, np.float32), 0)


def test_expected_cost_at_sample_and_given_prevalence() -> None:
    s = sample(ROWS)
    c = confusion(s, np.full(3, 0.5, np.float32), NOT_OK)  # fa 2 of 4, fr 2 of 4
    own = expected_cost(c, 10.0, 1.0)
    assert own.total == pytest.approx(10 * 2 + 1 * 2)
    assert own.per_1000_parts == pytest.approx(22 / 8 * 1000)
    assert own.prevalence == pytest.approx(0.5)
    given = expected_cost(c, 10.0, 1.0, prevalence=0.01)
    # 8 parts * (0.01 * 0.5 * 10 + 0.99 * 0.5 * 1)
    assert given.total == pytest.approx(8 * (0.01 * 0.5 * 10 + 0.99 * 0.5))


@pytest.mark.parametrize(
    ("ce", "cs", "prev", "field"),
    [
        (-1.0, 1.0, None, "cost_escape"),
        (1.0, math.nan, None, "cost_scrap"),
        (1.0, 1.0, 1.5, "prevalence"),
    ],
)
def test_bad_costs_are_refused(ce: float, cs: float, prev: float | None, field: str) -> None:
    c = confusion(sample(ROWS), np.full(3, 0.5, np.float32), NOT_OK)
    with pytest.raises(StationError, match=field):
        expected_cost(c, ce, cs, prev)


def test_sample_validation() -> None:
    with pytest.raises(StationError, match="scores"):
        ScoredSample(CLASSES, np.zeros((2, 2), np.float32), np.zeros((2, 2), bool), ("a", "b"), "")
    with pytest.raises(StationError, match="part_ids"):
        ScoredSample(CLASSES, np.zeros((2, 3), np.float32), np.zeros((2, 3), bool), ("a",), "")


@pytest.mark.parametrize("bad", [[0.5, NAN, 0.5], [0.5, 1.5, 0.5], [-0.1, 0.5, 0.5], [0.5, 0.5]])
def test_bad_threshold_vectors_are_refused(bad: list[float]) -> None:
    s = sample(ROWS)
    with pytest.raises(StationError, match="thresholds"):
        confusion(s, np.array(bad, np.float32), NOT_OK)
    with pytest.raises(StationError, match="thresholds"):
        SweepCache(s, NOT_OK).evaluate(np.array(bad, np.float32), 0)
