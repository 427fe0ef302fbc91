"""Inference lanes: several parts inferred at once, handed back in acquisition order.

On a small machine one onnxruntime run split over every core loses time at each
operator's barrier (a thread waiting for the slowest, which the logger, the
archiver or the GUI just preempted). Two parts on two one-thread sessions never
wait for each other: measured on 2 cores with the shipped model, 71-74 runs/s
against 64-66 for one two-thread run at a time (docs/benchmarks.md). A lane runs
`detect_prepared` (the model and its decode); deciding, recording and logging stay
on the pipeline's thread, in order. A lone part is slower on a lane than on all
cores (a run on half the threads): `[model] lanes = 1` for the lowest latency.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from station.core.detections import Detections
from station.pipeline.acquisition import Acquired
from station.pipeline.inspector import StagedDetector


def _timed(detector: StagedDetector, prepared: object) -> tuple[Detections, float]:
    t0 = time.perf_counter()
    dets = detector.detect_prepared(prepared)
    return dets, (time.perf_counter() - t0) * 1e3


Detected = Future[tuple[Detections, float]]
"""A lane's result: the detections and the milliseconds the model took for them."""


class InferenceLanes:
    """`n` lanes and up to `n` + 1 parts in flight; `take()` returns the oldest with its
    lane's future (None for a part that was not inferred: no frame, or no prepared input)."""

    def __init__(self, detector: StagedDetector, n: int) -> None:
        self._detector = detector
        self._n = max(1, n)
        self._pool = ThreadPoolExecutor(self._n, thread_name_prefix="inference")
        self._inflight: deque[tuple[Acquired, Detected | None]] = deque()

    def __len__(self) -> int:
        return len(self._inflight)

    def full(self) -> bool:
        """One part more than lanes: a lane that finishes finds its next part waiting, while
        the pipeline's thread decides, logs and sends the oldest."""
        return len(self._inflight) > self._n

    def put(self, part: Acquired) -> None:
        future = None
        if not part.problem and part.frame is not None and part.prepared is not None:
            future = self._pool.submit(_timed, self._detector, part.prepared)
        self._inflight.append((part, future))

    def take(self) -> tuple[Acquired, Detected | None]:
        return self._inflight.popleft()

    def close(self) -> None:
        """After the parts in flight were taken: end the lane threads."""
        self._pool.shutdown(wait=True)
