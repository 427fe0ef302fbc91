"""peer: the station's `detect()` vs Ultralytics `predict`, same ONNX file, same frames.

Optional: runs where Ultralytics is installed in its own environment (it pins its own
torch); point ``STATION_PEER_PYTHON`` at that environment's python (default
``/work/venv-ultra/bin/python``, else ``~/.venvs/ultralytics/bin/python``). How to set
one up is in docs/benchmarks.md. Skipped, saying why, when there is none.

Two models: the shipped `models/defects.onnx` and a YOLOv8n-class model at 320
(exported by Ultralytics from its own `yolov8n.yaml`, untrained: the same cost without a
weights download). Rounds alternate station / Ultralytics; each figure is the median
over rounds of station frames/s ÷ Ultralytics frames/s (target >= 1.2).
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


def _station_fps(detector: object, frames: np.ndarray) -> float:
    for f in frames[:10]:
        detector.detect(f)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    for i in range(N):
        detector.detect(frames[i % len(frames)])  # type: ignore[attr-defined]
    return N / (time.perf_counter() - t0)


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
        detector = load_detector(model, session=SessionOptions.choose(RunMode.HEADLESS))
        imgsz = int(detector.info.input_shape[2])
        ratios, ours, theirs = [], [], []
        for r in range(ROUNDS):
            ours.append(_station_fps(detector, frames))
            theirs.append(_peer_fps(python, model, frames_path, imgsz))
            ratios.append(ours[-1] / theirs[-1])
            print(
                f"[bench] peer {tag} round {r + 1}: station detect {ours[-1]:.1f} frames/s, "
                f"Ultralytics predict {theirs[-1]:.1f} frames/s",
                file=sys.stderr,
                flush=True,
            )
        ratio = float(np.median(ratios))
        figures += [
            Figure(f"peer.{tag}.station", float(np.median(ours)), "frames/s"),
            Figure(f"peer.{tag}.ultralytics", float(np.median(theirs)), "frames/s"),
            Figure(f"peer.{tag}.ratio", ratio, "x", f">= {TARGET:.1f}", ratio >= TARGET),
        ]
    return figures
