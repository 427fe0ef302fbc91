"""Recommended thresholds: hand-known optima, brute force on small samples, honest refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from station.core.jobs import JobCancelledError, JobState
from station.core.metrics import confusion
from station.core.rates import wilson_interval
from station.core.recommend import recommend_escape_cap, recommend_min_cost, supported_escapes
from station.core.recommend_text import shortest_float32
from station.core.recommendation import NoRecommendation, Recommendation
from station.core.sample import ScoredSample

NEG = -np.inf


def one_class(defective: list[float], good: list[float]) -> ScoredSample:
    scores = np.array(defective + good, np.float32).reshape(-1, 1)
    truth = np.array([True] * len(defective) + [False] * len(good)).reshape(-1, 1)
    return ScoredSample(("flaw",), scores, truth, tuple(map(str, range(len(scores)))), "sha")


HAND = one_class([0.9, 0.8, 0.6], [0.7, 0.3, 0.2, NEG])


@pytest.mark.parametrize(
    ("cost_escape", "cost_scrap", "threshold", "escapes", "scrap", "cost"),
    [
        (10.0, 1.0, 0.6, 0, 1, 1.0),  # catch all three, scrap the 0.7 good part
        (0.5, 1.0, 0.8, 1, 0, 0.5),  # let the 0.6 defect go rather than scrap the 0.7 part
        (0.1, 10.0, 0.8, 1, 0, 0.1),  # rejecting the two top scores costs nothing
    ],
)
def test_min_cost_on_a_hand_built_sample(
    cost_escape: float, cost_scrap: float, threshold: float, escapes: int, scrap: int, cost: float
) -> None:
    r = recommend_min_cost(HAND, [True], cost_escape, cost_scrap)
    assert isinstance(r, Recommendation)
    assert np.float32(r.thresholds["flaw"]) == np.float32(threshold)
    assert (r.escapes, r.scrap) == (escapes, scrap)
    assert r.expected_cost == pytest.approx(cost)
    assert r.exact and "exhaustive" in r.explanation


def test_given_prevalence_reweights_the_sample() -> None:
    # At 50% defective (vs the sample's 3/7), escapes weigh more: still catch everything.
    r = recommend_min_cost(HAND, [True], 1.0, 1.0, prevalence=0.5)
    assert isinstance(r, Recommendation) and r.escapes == 0
    # At 1% defective an escape barely matters: switch off.
    r = recommend_min_cost(HAND, [True], 1.0, 1.0, prevalence=0.01)
    assert isinstance(r, Recommendation) and r.scrap == 0 and "given" in r.explanation


def _levels(col: np.ndarray) -> list[np.float32]:
    u = np.unique(col[np.isfinite(col)])
    if not len(u):
        return [np.float32(0.5)]
    if u[-1] >= 1.0:  # no threshold in [0, 1] passes a score of 1.0
        return list(u)
    return [*u, np.nextafter(u[-1], np.float32(2))]


def _brute(s: ScoredSample, rej: np.ndarray, key) -> tuple[float, ...]:  # type: ignore[no-untyped-def]
    best: tuple[float, ...] | None = None
    for combo in itertools.product(*[_levels(s.scores[:, c]) for c in range(s.n_classes)]):
        v = key(confusion(s, np.array(combo, np.float32), rej))
        best = v if best is None or v < best else best
    assert best is not None
    return best


def random_sample(seed: int, n: int = 24, n_cls: int = 3) -> ScoredSample:
    rng = np.random.default_rng(seed)
    truth = rng.random((n, n_cls)) < 0.15
    truth[0, 0] = True
    truth[1] = False
    # overlapping classes: defects score high on their class and leak onto the others
    scores = np.where(truth, 0.3 + 0.7 * rng.random((n, n_cls)), 0.75 * rng.random((n, n_cls)))
    scores = np.round(scores, 1).astype(np.float32)
    scores[rng.random((n, n_cls)) < 0.3] = NEG
    names = tuple(f"c{i}" for i in range(n_cls))
    return ScoredSample(names, scores, truth, tuple(map(str, range(n))), "sha")


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("limit", [2_000_000, 0], ids=["exhaustive", "multistart"])
def test_min_cost_equals_brute_force(seed: int, limit: int) -> None:
    s = random_sample(seed)
    rej = np.array([True, True, seed % 3 != 0])
    ce = float(1 + seed % 7)
    r = recommend_min_cost(s, rej, ce, 1.0, exhaustive_limit=limit)
    assert isinstance(r, Recommendation)
    best = _brute(s, rej, lambda c: (ce * c.false_accepts + c.false_rejects,))
    assert r.expected_cost == pytest.approx(best[0])
    assert r.exact is (limit > 0)
    assert all(0.0 <= t <= 1.0 for t in r.thresholds.values())


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("limit", [2_000_000, 0], ids=["exhaustive", "multistart"])
def test_escape_cap_equals_brute_force(seed: int, limit: int) -> None:
    # Many defective parts so that a cap can be supported by the interval.
    rng = np.random.default_rng(100 + seed)
    n_def, n_good = 400, 200
    scores = np.full((n_def + n_good, 2), NEG, np.float32)
    truth = np.zeros((n_def + n_good, 2), bool)
    cls = rng.integers(0, 2, n_def)
    truth[np.arange(n_def), cls] = True
    scores[np.arange(n_def), cls] = np.round(0.4 + 0.6 * rng.random(n_def), 1)
    scores[n_def:, 0] = np.round(0.6 * rng.random(n_good), 2)
    scores[n_def:, 1] = np.where(
        rng.random(n_good) < 0.5, np.round(0.5 * rng.random(n_good), 2), NEG
    )
    s = ScoredSample(("a", "b"), scores, truth, tuple(map(str, range(len(scores)))), "sha")
    cap = 0.01
    k = supported_escapes(n_def, cap)
    assert k is not None
    r = recommend_escape_cap(s, [True, True], cap, exhaustive_limit=limit)
    assert isinstance(r, Recommendation), getattr(r, "reason", "")
    best = _brute(
        s,
        np.ones(2, bool),
        lambda c: (c.false_rejects if c.false_accepts <= k else 10**9,),
    )
    assert r.scrap == best[0]
    ci = wilson_interval(r.escapes, n_def)
    assert r.escapes <= k and ci is not None and ci[1] <= cap


def test_escape_cap_unmet_says_so() -> None:
    # one defective part of 10 is never scored: no threshold can catch it
    s = one_class([0.9] * 9 + [NEG], [0.1, 0.2])
    r = recommend_escape_cap(s, [True], 0.05)
    assert isinstance(r, NoRecommendation)
    assert "no thresholds meet the escape-rate cap of 5%" in r.reason
    assert "1 of 10" in r.reason


def test_escape_cap_on_too_small_a_sample_says_so() -> None:
    s = one_class([0.9, 0.8, 0.7], [0.1, 0.2])
    r = recommend_escape_cap(s, [True], 0.01)
    assert isinstance(r, NoRecommendation)
    assert "too small" in r.reason and "at least 381 defective parts" in r.reason


def test_escape_cap_supported_by_the_interval() -> None:
    s = one_class([0.6 + 0.3 * i / 999 for i in range(1000)], [0.1, 0.2, 0.65, 0.7])
    r = recommend_escape_cap(s, [True], 0.005, cost_escape=100.0, cost_scrap=1.0)
    assert isinstance(r, Recommendation)
    assert r.escapes == 0 and r.scrap == 2 and r.expected_cost == pytest.approx(2.0)
    assert "95% confidence" in r.explanation


@pytest.mark.parametrize(
    ("scores", "truth", "reason"),
    [
        ([[1.0], [1.0], [NEG]], [[True], [False], [False]], "constant score"),
        ([[NEG], [NEG]], [[True], [False]], "detected nothing"),
        ([[0.2], [0.7]], [[False], [False]], "no defect"),
        ([[0.2], [0.7]], [[True], [True]], "all 2 parts of the sample are defective"),
    ],
)
def test_refusals(scores: list[list[float]], truth: list[list[bool]], reason: str) -> None:
    s = ScoredSample(
        ("flaw",),
        np.array(scores, np.float32),
        np.array(truth),
        ("a", "b", "c")[: len(scores)],
        "h",
    )
    for r in (recommend_min_cost(s, [True], 1.0, 1.0), recommend_escape_cap(s, [True], 0.5)):
        assert isinstance(r, NoRecommendation) and reason in r.reason


def test_score_of_exactly_one_cannot_be_switched_off() -> None:
    s = one_class([0.9], [1.0, 0.2])
    r = recommend_min_cost(s, [True], 0.1, 100.0)
    assert isinstance(r, Recommendation)
    # the good part at 1.0 is scrapped at any threshold, so catching the 0.9 defect is free
    assert r.thresholds["flaw"] == 0.9 and r.scrap == 1 and r.escapes == 0
    assert any("cannot be switched off" in n for n in r.notes)


def test_classes_the_sample_never_scores_keep_their_threshold() -> None:
    s = ScoredSample(
        ("a", "b"),
        np.array([[0.9, NEG], [0.2, NEG]], np.float32),
        np.array([[True, False], [False, False]]),
        ("x", "y"),
        "h",
    )
    r = recommend_min_cost(s, [True, True], 1.0, 1.0, current=np.array([0.5, 0.42], np.float32))
    assert isinstance(r, Recommendation) and r.thresholds["b"] == pytest.approx(0.42)


@pytest.mark.parametrize("x", [0.7, 0.1, 0.123456789, 1.0, 0.0, 1e-7])
def test_shortest_float32_round_trips(x: float) -> None:
    assert np.float32(shortest_float32(x)) == np.float32(x)
    assert len(repr(shortest_float32(0.7))) == 3


def overlapping_sample(seed: int, n: int = 1500, n_cls: int = 3) -> ScoredSample:
    """Defects score high on their class with a long overlap with look-alikes on good parts."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((n, n_cls), bool)
    bad = rng.random(n) < 0.1
    truth[np.flatnonzero(bad), rng.integers(0, n_cls, n)[bad]] = True
    scores = np.where(truth, rng.beta(4, 2, (n, n_cls)), rng.beta(1.2, 5, (n, n_cls)))
    scores = np.round(scores, 3).astype(np.float32)
    scores[(~truth) & (rng.random((n, n_cls)) < 0.5)] = NEG
    names = tuple(f"c{i}" for i in range(n_cls))
    return ScoredSample(names, scores, truth, tuple(map(str, range(n))), "sha")


@pytest.mark.parametrize("seed", range(3))
def test_multistart_search_reaches_the_exhaustive_optimum(seed: int) -> None:
    s = overlapping_sample(seed)
    rej = np.ones(3, bool)
    exact = recommend_min_cost(s, rej, 20.0, 1.0)
    multi = recommend_min_cost(s, rej, 20.0, 1.0, exhaustive_limit=0)
    assert isinstance(exact, Recommendation) and isinstance(multi, Recommendation)
    assert exact.exact and not multi.exact and "near, not provably at" in multi.explanation
    assert multi.expected_cost == pytest.approx(exact.expected_cost)
    cap_exact = recommend_escape_cap(s, rej, 0.05)
    cap_multi = recommend_escape_cap(s, rej, 0.05, exhaustive_limit=0)
    if isinstance(cap_exact, Recommendation):
        assert isinstance(cap_multi, Recommendation) and cap_multi.scrap == cap_exact.scrap
    else:
        assert isinstance(cap_multi, NoRecommendation)


def test_a_long_search_reports_progress_and_can_be_cancelled() -> None:
    s = overlapping_sample(5)
    rej = np.ones(s.n_classes, bool)
    seen: list[tuple[int, int]] = []
    state = JobState(lambda done, total: seen.append((done, total)))
    plain = recommend_min_cost(s, rej, 20.0, 1.0, exhaustive_limit=0)
    watched = recommend_min_cost(s, rej, 20.0, 1.0, exhaustive_limit=0, progress=state)
    assert seen and all(0 <= d <= t for d, t in seen)  # progress never runs past its total
    assert dict(watched.thresholds) == dict(plain.thresholds)  # watching changes nothing

    calls = [0]

    def cancel_soon(done: int, total: int) -> None:
        calls[0] += 1
        if calls[0] == 3:
            state.cancel()

    state = JobState(cancel_soon)
    with pytest.raises(JobCancelledError):
        recommend_escape_cap(s, rej, 0.05, exhaustive_limit=0, progress=state)
