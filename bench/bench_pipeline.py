"""pipeline: headless parts/s on the shipped model with logging on, vs bare `session.run`.

The same frames (640x480 synthetic parts, rendered before timing and served from
memory, as a camera's DMA buffers are) go through the full headless pipeline
(`HeadlessRunner` with the station's own session options and inference lanes:
acquisition and letterbox overlapped with inference, decide, inspection record,
durable SQLite log with the lossless reject archive) and, prepared once, through a
bare `session.run` loop: one run at a time on a session using every CPU, the fastest
serial loop (what a user writes). Each round runs bare, pipeline, bare, so machine load
hits all alike; the figure is the median over rounds of pipeline parts/s ÷ the round's
bare runs/s (target >= 0.95). `pipeline.bare_lanes` is the ceiling of the station's
own layout: bare runs on its lane sessions, one caller per lane, nothing else.
A run's time includes closing the log, so every archived frame is on disk before its
clock stops; the archive figures say how many frames the archiver stored undeflated to
keep up and how many the writer thread wrote itself (a full queue). Set
``STATION_BENCH_MODEL`` to time another model, ``STATION_BENCH_LANES`` for other lanes.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from benchlib import Figure, bench_detector

N_FRAMES = 64
PARTS = 300
ROUNDS = 5
TARGET = 0.95


class MemoryLine:
    """A FrameSource serving pre-rendered read-only frames in a loop, with their truth."""

    def __init__(self, frames: list[object]) -> None:
        self._frames = frames
        self._i = 0

    def open(self):  # type: ignore[no-untyped-def]
        from station.core.ports import CameraInfo

        h, w = self._frames[0].image.shape[:2]  # type: ignore[attr-defined]
        return CameraInfo("memory line", "memory", w, h)

    def read(self, timeout_s: float = 2.0):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        frame = self._frames[self._i % len(self._frames)]
        self._i += 1
        return replace(frame, sequence=self._i, timestamp_s=time.time())  # type: ignore[type-var]

    def close(self) -> None:
        return None


def _frames() -> list[object]:
    from station.sources.synthetic import SyntheticCamera

    line = SyntheticCamera(seed=0, width=640, height=480, parts_per_minute=0.0)
    line.open()
    frames = [line.read() for _ in range(N_FRAMES)]
    line.close()
    return frames  # type: ignore[return-value]


def _headless_rate(
    detector: object, frames: list[object], db: Path, lanes: int
) -> tuple[float, object, object]:
    from station.core.thresholds import ThresholdSet
    from station.pipeline import PipelineSetup
    from station.pipeline.headless import HeadlessRunner
    from station.storage.log import SqliteInspectionLog

    log = SqliteInspectionLog(db)
    setup = PipelineSetup(
        source=MemoryLine(frames),  # type: ignore[arg-type]
        detector=detector,  # type: ignore[arg-type]
        thresholds=ThresholdSet({}, 0.5),
        reject_classes=None,
        open_log=lambda: log,
        lanes=lanes,
    )
    runner = HeadlessRunner(setup, max_parts=PARTS, status=io.StringIO())
    summary = runner.run()  # closes the log: every frame written
    return summary.parts_per_s, summary, log.stats


def _bare_rate(detector: object, tensors: list[np.ndarray]) -> float:
    session = detector.session  # type: ignore[attr-defined]
    name, outputs = detector.input_name, detector.output_names  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    for i in range(PARTS):
        session.run(outputs, {name: tensors[i % len(tensors)]})
    return PARTS / (time.perf_counter() - t0)


def _lanes_rate(detector: object, tensors: list[np.ndarray], lanes: int) -> float:
    """Bare runs, one caller per lane, on the station's lane session."""
    session = detector.session  # type: ignore[attr-defined]
    name, outputs = detector.input_name, detector.output_names  # type: ignore[attr-defined]
    per_lane = PARTS // lanes

    def lane(k: int) -> None:
        for i in range(per_lane):
            session.run(outputs, {name: tensors[(i * lanes + k) % len(tensors)]})

    threads = [threading.Thread(target=lane, args=(k,)) for k in range(lanes)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per_lane * lanes / (time.perf_counter() - t0)


def _station_detector(model: Path) -> tuple[object, int]:
    """The detector as `station run --headless` loads it, and its lanes."""
    from station.core.priority import quick_handoffs
    from station.detectors import load_detector
    from station.detectors.session_options import RunMode, SessionOptions

    quick_handoffs()
    lanes = os.environ.get("STATION_BENCH_LANES")  # as the recipe's [model] lanes
    options = SessionOptions.choose(RunMode.HEADLESS, None, int(lanes) if lanes else None)
    return load_detector(model, session=options), options.lanes


def run() -> list[Figure]:
    model, detector = bench_detector()  # every CPU on one run: the bare serial loop
    station, lanes = _station_detector(model)
    frames = _frames()
    tensors = [detector.prepare(f.image)[0] for f in frames]  # type: ignore[attr-defined]
    for t in tensors[:10]:  # warm-up
        detector.session.run(detector.output_names, {detector.input_name: t})
        station.session.run(station.output_names, {station.input_name: t})  # type: ignore[attr-defined]
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    ratios, bare_rates, pipe_rates, lane_rates = [], [], [], []
    frames_n = stored = overflows = 0
    summary: object = None
    for r in range(ROUNDS):  # bare, pipeline, bare: load hits all alike
        before = _bare_rate(detector, tensors)
        rate, summary, stats = _headless_rate(station, frames, tmp / f"log{r}.sqlite3", lanes)
        after = _bare_rate(detector, tensors)
        lane_rates.append(_lanes_rate(station, tensors, lanes))
        bare = (before + after) / 2
        bare_rates.append(bare)
        pipe_rates.append(rate)
        ratios.append(rate / bare)
        n = summary.rejected + summary.no_decision  # type: ignore[attr-defined]
        frames_n += n
        stored += stats.archive_stored  # type: ignore[attr-defined]
        overflows += stats.archive_overflows  # type: ignore[attr-defined]
        print(
            f"[bench] pipeline round {r + 1}: bare {before:.1f}/{after:.1f} runs/s, "
            f"headless {rate:.1f} parts/s ({lanes} lanes: bare {lane_rates[-1]:.1f}), "
            f"ratio {rate / bare:.3f}; archive {n} frames, "
            f"{stats.archive_stored} stored, {stats.archive_overflows} by the writer "  # type: ignore[attr-defined]
            f"({stats.archive_bytes / 1e6:.0f} MB)",  # type: ignore[attr-defined]
            file=sys.stderr,
            flush=True,
        )
    ratio = float(np.median(ratios))
    lat = summary.to_dict()["latency_ms"]  # type: ignore[attr-defined]
    print(
        f"[bench] pipeline: {model.name}, {PARTS} parts per run, frames 640x480, "
        f"log {tmp}, {os.cpu_count()} CPUs, bare session {dict(detector.info.session_options)}, "
        f"station session {dict(station.info.session_options)}",  # type: ignore[attr-defined]
        file=sys.stderr,
    )
    return [
        Figure("pipeline.bare_session_run", float(np.median(bare_rates)), "runs/s"),
        Figure("pipeline.headless", float(np.median(pipe_rates)), "parts/s"),
        Figure("pipeline.bare_lanes", float(np.median(lane_rates)), "runs/s"),
        Figure("pipeline.lanes", float(lanes), ""),
        Figure("pipeline.latency_p50", float(lat["p50"]), "ms"),
        Figure("pipeline.latency_p99", float(lat["p99"]), "ms"),
        Figure("pipeline.archive_frames", frames_n / ROUNDS, "frames/run"),
        Figure("pipeline.archive_stored_share", stored / max(frames_n, 1), ""),
        Figure("pipeline.archive_written_by_writer_share", overflows / max(frames_n, 1), ""),
        Figure("pipeline.ratio", ratio, "x", f">= {TARGET:.2f}", ratio >= TARGET),
    ]
