"""sizes: what a tuning view size control costs (issue 12): a new size rule re-derives the
sample's per-class maxima from the cached detections, then the figures' sweep cache.

A 400-part sample with 300 detections per part (the detector's per-frame cap, so the worst
case) and 5 classes: `ScoredSample.sized` (the maxima) and, after it, what the view rebuilds
(`SweepCache` and a confusion). Target: well under a second; the figure's target is 100 ms.
"""

from __future__ import annotations

import numpy as np
from benchlib import Figure, median, p95, time_ms

N_PARTS = 400
PER_PART = 300
N_CLASSES = 5
TARGET_MS = 100.0


def sample():  # type: ignore[no-untyped-def]
    """A scored sample with every detection kept, sizes and scores drawn at random."""
    from station.core.part_detections import PartDetections
    from station.core.sample import ScoredSample

    rng = np.random.default_rng(0)
    n = N_PARTS * PER_PART
    table = PartDetections(
        np.repeat(np.arange(N_PARTS), PER_PART),
        rng.integers(0, N_CLASSES, n),
        rng.beta(1.2, 6.0, n).astype(np.float32),
        rng.gamma(2.0, 400.0, n),
        rng.gamma(2.0, 20.0, n),
    )
    scores = np.full((N_PARTS, N_CLASSES), -np.inf, np.float32)
    np.maximum.at(scores, (table.part, table.class_id), table.confidence)
    truth = rng.random((N_PARTS, N_CLASSES)) < 0.05
    names = tuple(f"class{c}" for c in range(N_CLASSES))
    ids = tuple(f"p{i}" for i in range(N_PARTS))
    return ScoredSample(names, scores, truth, ids, "bench", table)


def run() -> list[Figure]:
    from station.core.size_rules import SizeRules
    from station.core.sweep import SweepCache

    s = sample()
    rejecting = np.ones(N_CLASSES, dtype=bool)
    t = np.full(N_CLASSES, 0.3, np.float32)
    steps = iter(range(10**9))

    def recompute() -> None:
        rules = SizeRules(min_length={"class1": float(next(steps) % 60)}, min_area={"class3": 500})
        s.sized(rules)

    def whole() -> None:
        rules = SizeRules(min_length={"class1": float(next(steps) % 60)}, min_area={"class3": 500})
        SweepCache(s.sized(rules), rejecting).confusion(t)

    maxima = time_ms(recompute, 50)
    view = time_ms(whole, 50)
    label = f"{N_PARTS} parts x {PER_PART} detections"
    return [
        Figure(f"sizes.maxima_ms ({label})", median(maxima), "ms"),
        Figure(f"sizes.maxima_p95_ms ({label})", p95(maxima), "ms"),
        Figure(
            f"sizes.control_edit_ms ({label}, maxima + sweep cache + confusion)",
            median(view),
            "ms",
            f"<= {TARGET_MS:g}",
            median(view) <= TARGET_MS,
        ),
    ]
