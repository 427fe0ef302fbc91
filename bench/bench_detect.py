"""detect: the shipped model's bare `session.run` vs the full `detect()` on a camera-size frame.

Both are timed in one run, interleaved call by call on the same session and
frame, so machine load hits both alike. The ratio of medians is the
detector's overhead (letterbox, tensor, decode, NMS, back-mapping).
Set ``STATION_BENCH_MODEL`` to time another model file.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from benchlib import Figure, bench_detector, median, p95, time_ms

REPEAT = 300
WARMUP = 10
TARGET_RATIO = 1.10


def _frame() -> np.ndarray:
    """A 640x480 frame from the synthetic line camera (a defective part, so NMS has work)."""
    try:
        from station.synthetic.line import PartGenerator
    except ImportError:  # the generator is optional for this benchmark
        return np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    gen = PartGenerator(seed=0, width=640, height=480)
    part = next(p for p in map(gen.part, range(100)) if p.defective)
    return part.image


def run() -> list[Figure]:
    model, det = bench_detector()
    frame = _frame()
    x, _ = det.prepare(frame)
    session, feeds, outputs = det.session, {det.input_name: x}, det.output_names

    for _ in range(WARMUP):
        session.run(outputs, feeds)
        det.detect(frame)
    bare = np.empty(REPEAT)
    full = np.empty(REPEAT)
    n_dets = 0
    for i in range(REPEAT):
        t0 = time.perf_counter_ns()
        session.run(outputs, feeds)
        t1 = time.perf_counter_ns()
        n_dets = len(det.detect(frame))
        t2 = time.perf_counter_ns()
        bare[i], full[i] = (t1 - t0) / 1e6, (t2 - t1) / 1e6
    ratio = median(full) / median(bare)
    out = session.run(outputs, feeds)[0]
    _, plan = det.prepare(frame)
    prep = time_ms(lambda: det.prepare(frame), REPEAT)
    post = time_ms(lambda: det.decode(out, plan), REPEAT)
    print(
        f"[bench] detect: {model.name} family {det.info.family}, input {det.info.input_shape}, "
        f"frame {frame.shape}, {n_dets} candidates per frame, {REPEAT} interleaved calls",
        file=sys.stderr,
        flush=True,
    )
    return [
        Figure("detect.session_run_median", median(bare), "ms"),
        Figure("detect.session_run_p95", p95(bare), "ms"),
        Figure("detect.detect_median", median(full), "ms"),
        Figure("detect.detect_p95", p95(full), "ms"),
        Figure("detect.overhead_median", median(full) - median(bare), "ms"),
        Figure("detect.prepare_median", median(prep), "ms"),  # letterbox + tensor
        Figure("detect.decode_median", median(post), "ms"),  # decode + NMS + back-mapping
        Figure("detect.ratio", ratio, "x", f"<= {TARGET_RATIO:.2f}", ratio <= TARGET_RATIO),
    ]
