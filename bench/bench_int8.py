"""int8: the int8 pipeline's throughput against the fp32 model's bare `session.run`.

`station optimize` quantises a model (QDQ, per-channel int8 weights, uint8
activations, decode tail in float). What a line gains is frames per second of
the whole int8 pipeline (letterbox, run, decode, NMS: `detect()`) over what
the float model alone costs (`session.run` on a prepared tensor, no pre- or
post-processing): ratio = median fp32 run time / median int8 detect time,
target >= 1.5 on a YOLOv8n-class model at 320 (built by `yolov8n_graph.py`,
random weights, nothing downloaded). Both are timed interleaved call by call on
the same frame, so machine load hits them alike.

The shipped model gets the same figure, and its int8 copy is qualified the way
`station optimize` does it: FAR and FRR at re-derived thresholds on the
held-out sample (400 parts, seed 1001), against the fp32 model's Wilson 95%
intervals. (Error rates of the random-weight YOLOv8n stand-in mean nothing.)
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from benchlib import Figure, Skip, median

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models" / "defects.onnx"
TARGET_RATIO = 1.5
REPEAT = {"yolov8n": 60, "shipped": 200}
WARMUP = 5
CALIBRATION_FRAMES = 32
SAMPLE_PARTS = 400
SAMPLE_SEED = 1001


def _frames(n: int) -> list[np.ndarray]:
    from station.synthetic.line import PartGenerator

    gen = PartGenerator(seed=7, width=640, height=480)
    return [gen.part(i).image for i in range(n)]


def _ratio(name: str, fp32_path: Path, int8_path: Path, frame: np.ndarray) -> list[Figure]:
    from station.detectors import OnnxDetector, load_detector

    fp32 = load_detector(fp32_path)
    int8 = load_detector(int8_path)
    assert isinstance(fp32, OnnxDetector) and isinstance(int8, OnnxDetector)
    x, _ = fp32.prepare(frame)
    xi, _ = int8.prepare(frame)
    run32 = lambda: fp32.session.run(fp32.output_names, {fp32.input_name: x})  # noqa: E731
    run8 = lambda: int8.session.run(int8.output_names, {int8.input_name: xi})  # noqa: E731
    for _ in range(WARMUP):
        run32(), int8.detect(frame), run8()
    n = REPEAT[name]
    t32, t8_detect, t8_run = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        t0 = time.perf_counter_ns()
        run32()
        t1 = time.perf_counter_ns()
        int8.detect(frame)
        t2 = time.perf_counter_ns()
        run8()
        t3 = time.perf_counter_ns()
        t32[i], t8_detect[i], t8_run[i] = (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6
    ratio = median(t32) / median(t8_detect)
    target = f">= {TARGET_RATIO}" if name == "yolov8n" else ""
    return [
        Figure(f"int8.{name}.fp32_run_median", median(t32), "ms"),
        Figure(f"int8.{name}.int8_run_median", median(t8_run), "ms"),
        Figure(f"int8.{name}.int8_detect_median", median(t8_detect), "ms"),
        Figure(
            f"int8.{name}.ratio",
            ratio,
            "x",
            target,
            ratio >= TARGET_RATIO if target else None,
        ),
    ]


def _quantize(fp32_path: Path, out: Path, frames: list[np.ndarray]) -> None:
    from station.detectors import OnnxDetector, load_detector
    from station.detectors.quantize import quantize_int8

    det = load_detector(fp32_path)
    assert isinstance(det, OnnxDetector)

    def calibration() -> Iterator[np.ndarray]:
        yield from frames

    quantize_int8(det, calibration, out)


def _qualify(tmp: Path) -> list[Figure]:
    """The shipped model through `station optimize`'s own path on the held-out sample."""
    from station.services.optimize import optimize_model
    from station.services.recipe_file import default_recipe_path, load_recipe
    from station.synthetic.dataset import write_yolo_sample

    sample = tmp / "sample"
    write_yolo_sample(sample, SAMPLE_PARTS, SAMPLE_SEED)
    result = optimize_model(
        SHIPPED, sample, tmp / "shipped.int8.qualified.onnx", load_recipe(default_recipe_path())
    )
    figures = []
    if result.comparison is not None:
        for role, ev in (
            ("fp32", result.comparison.current),
            ("int8", result.comparison.candidate),
        ):
            conf = ev.confusion
            figures += [
                Figure(f"int8.shipped.{role}_far", 100 * (conf.far.value or 0.0), "%"),
                Figure(f"int8.shipped.{role}_frr", 100 * (conf.frr.value or 0.0), "%"),
            ]
    ok = not result.problems
    print("int8 qualification: " + ("; ".join(result.problems) or "accepted"), file=sys.stderr)
    figures.append(Figure("int8.shipped.rates_within_fp32_ci95", float(ok), "bool", "= 1", ok))
    return figures


def run() -> list[Figure]:
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise Skip("the onnx package is not installed") from exc
    from yolov8n_graph import build_yolov8n

    from station.synthetic.line import CLASS_NAMES

    frames = _frames(CALIBRATION_FRAMES)
    frame = frames[1]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        y8 = build_yolov8n(tmp / "yolov8n_class.onnx", 320, tuple(CLASS_NAMES))
        print("int8: quantising the YOLOv8n-class model …", file=sys.stderr)
        _quantize(y8, tmp / "yolov8n_class.int8.onnx", frames)
        figures += _ratio("yolov8n", y8, tmp / "yolov8n_class.int8.onnx", frame)
        if not SHIPPED.is_file():
            return figures
        print("int8: quantising the shipped model …", file=sys.stderr)
        _quantize(SHIPPED, tmp / "shipped.int8.onnx", frames)
        figures += _ratio("shipped", SHIPPED, tmp / "shipped.int8.onnx", frame)
        print(
            "int8: qualifying the shipped model's int8 copy on the held-out sample …",
            file=sys.stderr,
        )
        figures += _qualify(tmp)
    return figures
