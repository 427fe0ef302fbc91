"""Helpers for benchmark modules: the Figure record, Skip, and latency statistics.

A benchmark module ``bench/bench_<name>.py`` defines ``run()`` returning an
iterable of figures; plain ``(name, value, unit, target)`` tuples work as
well as `Figure`. Raise `Skip("why")` when it cannot run here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from station.detectors.onnx_detector import OnnxDetector

SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "defects.onnx"


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


def bench_detector() -> tuple[Path, OnnxDetector]:
    """The model file under test (``STATION_BENCH_MODEL`` or the shipped model) and its ONNX
    detector; Skip when the file is absent.

    The station is imported here, not at module level, so listing benchmarks stays cheap.
    """
    from station.detectors import load_detector
    from station.detectors.onnx_detector import OnnxDetector

    model = Path(os.environ.get("STATION_BENCH_MODEL", SHIPPED_MODEL))
    if not model.is_file():
        raise Skip(f"{model} is absent")
    detector = load_detector(model)
    assert isinstance(detector, OnnxDetector)
    return model, detector


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
