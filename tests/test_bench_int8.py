"""The int8 benchmark's YOLOv8n-class stand-in: a real detector graph the station loads."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

from yolov8n_graph import build_yolov8n  # noqa: E402

from station.detectors import load_detector  # noqa: E402


def test_yolov8n_class_graph_loads_as_a_yolov8_export(tmp_path: Path) -> None:
    path = build_yolov8n(tmp_path / "y.onnx", 320, ("scratch", "pit", "stain"))
    model = onnx.load(str(path))
    params = sum(numpy_helper.to_array(i).size for i in model.graph.initializer)
    assert 3.0e6 < params < 3.3e6  # YOLOv8n: 3.15 M parameters
    det = load_detector(path)
    assert det.info.family == "yolov8"
    assert det.info.class_names == ("scratch", "pit", "stain")
    assert det.info.output_shape == (1, 7, 40 * 40 + 20 * 20 + 10 * 10)
    frame = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    dets = det.detect(frame)
    assert len(dets) > 0
    assert np.all((dets.confidence >= 0) & (dets.confidence <= 1))
