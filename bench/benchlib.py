"""Helpers for benchmark modules: the Figure record, Skip, and latency statistics.

A benchmark module ``bench/bench_<name>.py`` defines ``run()`` returning an
iterable of figures; plain ``(name, value, unit, target)`` tuples work as
well as `Figure`. Raise `Skip("why")` when it cannot run here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Figure(NamedTuple):
    """One measured number. `target` is text such as ``"<= 1.10"`` or ``""`` for none.

    `met` says whether the target was reached (None: no target or not judged).
    """

    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


class Skip(Exception):  # noqa: N818 - reads as `raise Skip("model absent")`
    """The benchmark cannot run on this machine or checkout; the message says why."""


def time_ms(fn: Callable[[], object], repeat: int, warmup: int = 5) -> np.ndarray:
    """Wall-clock milliseconds of `repeat` calls of `fn`, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = np.empty(repeat, np.float64)
    for i in range(repeat):
        t0 = time.perf_counter_ns()
        fn()
        out[i] = (time.perf_counter_ns() - t0) / 1e6
    return out


def median(ms: np.ndarray) -> float:
    return float(np.median(ms))


def p95(ms: np.ndarray) -> float:
    return float(np.percentile(ms, 95))
