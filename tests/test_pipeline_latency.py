"""Latency percentiles in constant memory agree with numpy's exact nearest-rank percentile."""

from __future__ import annotations

import numpy as np
import pytest

from station.pipeline.latency import LatencyRecorder


@pytest.mark.parametrize("q", [50, 99, 100])
def test_percentiles_within_half_a_percent(q: float) -> None:
    values = np.random.default_rng(4).lognormal(mean=2.0, sigma=0.8, size=20_000)
    rec = LatencyRecorder()
    for v in values:
        rec.add(float(v))
    exact = float(np.percentile(values, q, method="inverted_cdf"))
    assert rec.percentile(q) == pytest.approx(exact, rel=0.005)
    assert rec.count == len(values)


def test_empty_and_nan() -> None:
    rec = LatencyRecorder()
    assert rec.percentile(50) is None
    rec.add(float("nan"))
    assert rec.percentile(50) is None
    rec.add(12.0)
    assert rec.percentile(99) == pytest.approx(12.0, rel=0.005)
