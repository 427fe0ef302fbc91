"""Latency percentiles over a run of any length, in constant memory.

A station runs for weeks: keeping every part's latency would grow without
bound. Latencies go into log-spaced bins 0.5 % wide from 1 µs to 1000 s, so a
percentile is exact to within 0.5 % and the recorder holds ~4,200 counters.
"""

from __future__ import annotations

import math

import numpy as np

LOW_MS = 1e-3
HIGH_MS = 1e6
RATIO = 1.005
_LOG_RATIO = math.log(RATIO)
_N_BINS = math.ceil(math.log(HIGH_MS / LOW_MS) / _LOG_RATIO) + 1


class LatencyRecorder:
    """Counts latencies (milliseconds) and answers percentiles of what it counted."""

    def __init__(self) -> None:
        self._counts = np.zeros(_N_BINS, dtype=np.int64)
        self._n = 0

    @property
    def count(self) -> int:
        return self._n

    def add(self, latency_ms: float) -> None:
        """Count one latency; NaN is ignored, values outside [1 µs, 1000 s] are clamped."""
        if math.isnan(latency_ms):
            return
        x = min(max(latency_ms, LOW_MS), HIGH_MS)
        self._counts[min(int(math.log(x / LOW_MS) / _LOG_RATIO), _N_BINS - 1)] += 1
        self._n += 1

    def percentile(self, q: float) -> float | None:
        """The `q`-th percentile (0 < q <= 100) in ms, None before the first latency.

        The value reported is the geometric middle of the bin holding the q-th
        percent of the latencies (nearest-rank), within 0.25 % of the true value.
        """
        if self._n == 0:
            return None
        rank = max(1, math.ceil(q / 100.0 * self._n))
        index = int(np.searchsorted(np.cumsum(self._counts), rank))
        return float(LOW_MS * RATIO ** (index + 0.5))
