"""peer: the station's inference vs Ultralytics `predict`, same ONNX file, same frames.

Optional: runs where Ultralytics is installed in its own environment (it pins its own
torch); point ``STATION_PEER_PYTHON`` at that environment's python (default
``/work/venv-ultra/bin/python``, else ``~/.venvs/ultralytics/bin/python``). How to set
one up is in docs/benchmarks.md. Skipped, saying why, when there is none.

Two models: the shipped `models/defects.onnx` and a YOLOv8n-class model at 320
(exported by Ultralytics from its own `yolov8n.yaml`, untrained: the same cost without a
weights download). The station's figure is its live line's inference path: frames prepared
on one thread and inferred on the inference lanes the headless station picks for this
machine (`station.pipeline.lanes`: preprocessing, the model and its decode, results taken
in order), without logging; `peer.*.station_detect` is one `detect()` call at a time, as
a script calling the station's detector would. Rounds alternate station / Ultralytics;
each ratio is the median over rounds of station frames/s ÷ Ultralytics frames/s (target
>= 1.2).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import Figure, Skip

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MODEL = ROOT / "models" / "defects.onnx"
CANDIDATES = ("/work/venv-ultra/bin/python", "~/.venvs/ultralytics/bin/python")
N = 200
ROUNDS = 3
TARGET = 1.2


def peer_python() -> Path:
    """The Ultralytics environment's python; Skip when there is none."""
    given = os.environ.get("STATION_PEER_PYTHON")
    for text in [given] if given else list(CANDIDATES):
        path = Path(text).expanduser()
        if path.is_file():
            probe = subprocess.run(
                [str(path), "-c", "import ultralytics"], capture_output=True, check=False
            )
            if probe.returncode == 0:
                return path
            if given:
                raise Skip(f"STATION_PEER_PYTHON={given}: cannot import ultralytics there")
    raise Skip(
        "no Ultralytics environment (set STATION_PEER_PYTHON; see docs/benchmarks.md, 'peer')"
    )


def _peer_fps(python: Path, model: Path, frames: Path, imgsz: int) -> float:
    env = {**os.environ, "YOLO_OFFLINE": "1"}
    done = subprocess.run(
        [
            str(python),
            str(BENCH / "peer_ultralytics.py"),
            str(model),
            str(frames),
            str(imgsz),
            str(N),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=600,
    )
    line = [x for x in done.stdout.splitlines() if x.startswith("FPS ")]
    if done.returncode != 0 or not line:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"Ultralytics predict failed: {tail}")
    return float(line[-1].split()[1])


def _detect_fps(detector: object, frames: np.ndarray) -> float:
    """One `detect()` at a time."""
    for f in frames[:10]:
        detector.detect(f)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    for i in range(N):
        detector.detect(frames[i % len(frames)])  # type: ignore[attr-defined]
    return N / (time.perf_counter() - t0)


def _lanes_fps(detector: object, frames: np.ndarray, lanes: int) -> float:
    """The live line's inference: prepared here, inferred on the lanes, taken in order."""
    from station.pipeline.acquisition import Acquired
    from station.pipeline.lanes import InferenceLanes

    pool = InferenceLanes(detector, lanes)  # type: ignore[arg-type]

    def take() -> None:
        _, future = pool.take()
        assert future is not None
        future.result()

    def feed(n: int) -> None:
        for i in range(n):
            frame = frames[i % len(frames)]
            prepared = detector.prepare_input(frame)  # type: ignore[attr-defined]
            pool.put(Acquired(i, 0.0, frame=frame, prepared=prepared))
            if pool.full():
                take()
        while len(pool):
            take()

    try:
        feed(10)
        t0 = time.perf_counter()
        feed(N)
        return N / (time.perf_counter() - t0)
    finally:
        pool.close()


def _yolov8n(python: Path, tmp: Path) -> Path:
    out = tmp / "yolov8n-320.onnx"
    subprocess.run(
        [str(python), str(BENCH / "peer_ultralytics.py"), "--export-yolov8n", str(out), "320"],
        capture_output=True,
        check=True,
        timeout=600,
        env={**os.environ, "YOLO_OFFLINE": "1"},
    )
    return out


def run() -> list[Figure]:
    python = peer_python()
    from bench_pipeline import _frames

    from station.detectors import load_detector
    from station.detectors.session_options import RunMode, SessionOptions

    tmp = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    frames = np.stack([f.image for f in _frames()[:32]])  # type: ignore[attr-defined]
    frames_path = tmp / "frames.npy"
    np.save(frames_path, frames)
    figures = []
    for tag, model in (("shipped", MODEL), ("yolov8n_320", _yolov8n(python, tmp))):
        line = SessionOptions.choose(RunMode.HEADLESS, None, None)  # the live line's lanes
        detector = load_detector(model, session=line)
        serial = load_detector(model, session=SessionOptions.choose(RunMode.HEADLESS))
        imgsz = max(detector.input_hw)  # predict's imgsz: what the station fits frames into
        ratios, ours, theirs, calls = [], [], [], []
        for r in range(ROUNDS):
            ours.append(_lanes_fps(detector, frames, line.lanes))
            calls.append(_detect_fps(serial, frames))
            theirs.append(_peer_fps(python, model, frames_path, imgsz))
            ratios.append(ours[-1] / theirs[-1])
            print(
                f"[bench] peer {tag} round {r + 1}: station {ours[-1]:.1f} frames/s "
                f"({line.lanes} lanes; one detect() at a time {calls[-1]:.1f}), "
                f"Ultralytics predict {theirs[-1]:.1f} frames/s",
                file=sys.stderr,
                flush=True,
            )
        ratio = float(np.median(ratios))
        figures += [
            Figure(f"peer.{tag}.station", float(np.median(ours)), "frames/s"),
            Figure(f"peer.{tag}.station_detect", float(np.median(calls)), "frames/s"),
            Figure(f"peer.{tag}.ultralytics", float(np.median(theirs)), "frames/s"),
            Figure(f"peer.{tag}.ratio", ratio, "x", f">= {TARGET:.1f}", ratio >= TARGET),
        ]
    return figures
