"""pipeline: headless parts/s on the shipped model with logging on, vs bare `session.run`.

The same frames (640x480 synthetic parts, rendered before timing and served from
memory, as a camera's DMA buffers are) go through the full headless pipeline
(`HeadlessRunner`: acquisition and letterbox overlapped with inference, decide,
inspection record, durable SQLite log with the lossless reject archive) and, prepared
once, through bare `session.run` on the same session. Each round runs bare, pipeline,
bare, so machine load hits all alike; the figure is the median over rounds of pipeline
parts/s ÷ the round's bare runs/s (target >= 0.95). A run's time includes closing the
log, so every archived frame is on disk before its clock stops; the archive figures say
how many frames the archiver stored undeflated to keep up and how many the writer
thread wrote itself (a full queue). Set ``STATION_BENCH_MODEL`` to time another model.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
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
    detector: object, frames: list[object], db: Path
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


def run() -> list[Figure]:
    model, detector = bench_detector()
    frames = _frames()
    tensors = [detector.prepare(f.image)[0] for f in frames]  # type: ignore[attr-defined]
    for t in tensors[:10]:  # warm-up
        detector.session.run(detector.output_names, {detector.input_name: t})
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    ratios, bare_rates, pipe_rates = [], [], []
    frames_n = stored = overflows = 0
    summary: object = None
    for r in range(ROUNDS):  # bare, pipeline, bare: load hits all alike
        before = _bare_rate(detector, tensors)
        rate, summary, stats = _headless_rate(detector, frames, tmp / f"log{r}.sqlite3")
        after = _bare_rate(detector, tensors)
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
            f"headless {rate:.1f} parts/s, ratio {rate / bare:.3f}; archive {n} frames, "
            f"{stats.archive_stored} stored, {stats.archive_overflows} by the writer "  # type: ignore[attr-defined]
            f"({stats.archive_bytes / 1e6:.0f} MB)",  # type: ignore[attr-defined]
            file=sys.stderr,
            flush=True,
        )
    ratio = float(np.median(ratios))
    lat = summary.to_dict()["latency_ms"]  # type: ignore[attr-defined]
    print(
        f"[bench] pipeline: {model.name}, {PARTS} parts per run, frames 640x480, "
        f"log {tmp}, {os.cpu_count()} CPUs, session {dict(detector.info.session_options)}",
        file=sys.stderr,
    )
    return [
        Figure("pipeline.bare_session_run", float(np.median(bare_rates)), "runs/s"),
        Figure("pipeline.headless", float(np.median(pipe_rates)), "parts/s"),
        Figure("pipeline.latency_p50", float(lat["p50"]), "ms"),
        Figure("pipeline.latency_p99", float(lat["p99"]), "ms"),
        Figure("pipeline.archive_frames", frames_n / ROUNDS, "frames/run"),
        Figure("pipeline.archive_stored_share", stored / max(frames_n, 1), ""),
        Figure("pipeline.archive_written_by_writer_share", overflows / max(frames_n, 1), ""),
        Figure("pipeline.ratio", ratio, "x", f">= {TARGET:.2f}", ratio >= TARGET),
    ]
