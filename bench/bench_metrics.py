"""metrics: a confusion and one class's FAR/FRR curves from a cached 100,000 x 8 score matrix.

This is what a threshold slider costs on every move: `SweepCache.evaluate`
with one class's threshold changed (the tuning view's case, the target), and,
for reference, with every threshold changed at once (no cached column), and
the one-time cost of building the cache. Also: how long the two joint
threshold recommendations take on a large labeled sample (5,000 x 5).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from benchlib import Figure, median, p95

N_PARTS = 100_000
N_CLASSES = 8
REPEAT = 400
TARGET_MS = 2.0
REC_PARTS = 5_000  # a large labeled sample: recommendations search jointly over all classes
REC_CLASSES = 5


def matrix(seed: int = 0, n: int = N_PARTS, n_cls: int = N_CLASSES):  # type: ignore[no-untyped-def]
    """A score matrix shaped like a real model's: ~8% defective, overlapping, half undetected."""
    from station.core.sample import ScoredSample

    rng = np.random.default_rng(seed)
    truth = np.zeros((n, n_cls), dtype=bool)
    bad = rng.random(n) < 0.08
    truth[np.flatnonzero(bad), rng.integers(0, n_cls, n)[bad]] = True
    sep = np.linspace(2.5, 6.0, n_cls)
    scores = np.where(truth, rng.beta(sep, 2.0, (n, n_cls)), rng.beta(1.2, 6.0, (n, n_cls))).astype(
        np.float32
    )
    scores[(~truth) & (rng.random((n, n_cls)) < 0.5)] = -np.inf
    ids = tuple(f"p{i}" for i in range(n))
    names = tuple(f"class{c}" for c in range(n_cls))
    return ScoredSample(names, scores, truth, ids, "bench")


def _time(step: Callable[[int], None]) -> np.ndarray:
    """Milliseconds of REPEAT calls of `step(i)`, after 10 untimed ones."""
    out = np.empty(REPEAT)
    for i in range(REPEAT + 10):
        t0 = time.perf_counter_ns()
        step(i)
        if i >= 10:
            out[i - 10] = (time.perf_counter_ns() - t0) / 1e6
    return out


def run() -> list[Figure]:
    from station.core.metrics import confusion
    from station.core.sweep import SweepCache

    sample = matrix()
    rejecting = np.ones(N_CLASSES, dtype=bool)
    t0 = time.perf_counter_ns()
    cache = SweepCache(sample, rejecting)
    build_ms = (time.perf_counter_ns() - t0) / 1e6
    rng = np.random.default_rng(1)
    thresholds = np.full(N_CLASSES, 0.5, np.float32)
    # correctness guard: the cached path must agree with the plain one
    assert cache.evaluate(thresholds, 0)[0] == confusion(sample, thresholds, rejecting)

    def slider_move(i: int) -> None:
        c = i % N_CLASSES
        thresholds[c] = np.float32(rng.random())  # one slider moved, the others held
        cache.evaluate(thresholds, c)

    def all_changed(i: int) -> None:
        cache.evaluate(rng.random(N_CLASSES).astype(np.float32), i % N_CLASSES)

    slider = _time(slider_move)
    cold = _time(all_changed)
    from station.core.recommend import recommend_escape_cap, recommend_min_cost

    small = matrix(2, REC_PARTS, REC_CLASSES)
    rej = np.ones(REC_CLASSES, dtype=bool)
    t0 = time.perf_counter()
    recommend_min_cost(small, rej, 50.0, 2.0)
    t1 = time.perf_counter()
    recommend_escape_cap(small, rej, 0.02)
    t2 = time.perf_counter()
    target = f"<= {TARGET_MS:g}"
    return [
        Figure("metrics.slider_median", median(slider), "ms", target, median(slider) <= TARGET_MS),
        Figure("metrics.slider_p95", p95(slider), "ms", "none"),
        Figure("metrics.all_thresholds_changed_median", median(cold), "ms", "none"),
        Figure("metrics.all_thresholds_changed_p95", p95(cold), "ms", "none"),
        Figure("metrics.cache_build", build_ms, "ms", "none (once per sample)"),
        Figure(f"metrics.recommend_min_cost_{REC_PARTS}x{REC_CLASSES}", t1 - t0, "s", "none"),
        Figure(f"metrics.recommend_escape_cap_{REC_PARTS}x{REC_CLASSES}", t2 - t1, "s", "none"),
    ]
