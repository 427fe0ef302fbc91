"""Static int8 quantisation (QDQ) of a detector, calibrated on frames the station sees.

onnxruntime's recipe: `quant_pre_process` (shape inference and graph
optimisation) first, then `quantize_static` in the QDQ format with
per-channel int8 weights and uint8 activations, calibrated on the model's
own inputs (the station's letterbox of sample frames). Activation ranges
use the 99.999th percentile rather than min/max, so one outlier frame does
not stretch a scale and flatten every other value (min/max when a tensor's
range is too narrow for the percentile histogram).

The decode tail stays float: every node that feeds no convolution (the
sigmoid, the box decode, the final Concat of box pixels with [0, 1] scores).
So does the convolution that reads the image (see `image_convs`).
Quantised, that Concat would share one scale between coordinates in the
hundreds and scores below one, and every score would round to zero
(onnxruntime issue 14233; Ultralytics keeps the same subgraph in float for
its int8 exports).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.core.files import atomic_write_bytes
from station.detectors.onnx_detector import OnnxDetector

CALIBRATION_PERCENTILE = 99.999
BODY_OPS = frozenset({"Conv", "ConvTranspose", "MatMul", "Gemm"})
"""Nodes that carry the learned features; everything downstream of the last one is the tail."""

Frames = Callable[[], Iterator[npt.NDArray[np.uint8]]]


def decode_tail(model: Any) -> list[str]:
    """Names of the nodes that feed no convolution/matmul: the decode tail kept in float."""
    nodes = list(model.graph.node)
    producer = {out: n for n in nodes for out in n.output}
    body: set[int] = set()
    stack = [n for n in nodes if n.op_type in BODY_OPS]
    while stack:
        node = stack.pop()
        if id(node) in body:
            continue
        body.add(id(node))
        stack += [producer[i] for i in node.input if i in producer]
    return [n.name for n in nodes if id(n) not in body]


def image_convs(model: Any) -> list[str]:
    """Names of the convolutions that read the image input itself: kept float too.

    Measured on the shipped model (held-out sample, default recipe): quantising
    the first convolution costs the scratch class most of its separation (thin,
    faint defects live in small intensity differences) and took FRR from 71 to
    98 of 255 at re-derived thresholds; kept float, 68 of 255. It is one small
    layer (3 input channels), so int8 loses almost no speed.
    """
    inputs = {i.name for i in model.graph.input}
    return [n.name for n in model.graph.node if n.op_type in BODY_OPS and n.input[0] in inputs]


def _name_nodes(model: Any) -> None:
    """Give every unnamed node a unique name: exclusion from quantisation goes by name."""
    taken = {n.name for n in model.graph.node if n.name}
    for i, node in enumerate(model.graph.node):
        if not node.name:
            name = f"{node.op_type}_{i}"
            while name in taken:
                name += "_"
            node.name = name
            taken.add(name)


def quantize_int8(
    detector: OnnxDetector, frames: Frames, out: Path, *, tmp_dir: Path | None = None
) -> list[str]:
    """Write an int8 QDQ copy of the detector's model to `out`; returns the nodes kept float.

    `frames()` yields the calibration frames (BGR uint8, any size): each goes
    through the detector's own letterbox. `out` is replaced atomically.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._frames = frames()

        def get_next(self) -> dict[str, Any] | None:
            frame = next(self._frames, None)
            if frame is None:
                return None
            return {detector.input_name: detector.prepare(frame)[0]}

    src = Path(detector.info.path)
    with tempfile.TemporaryDirectory(dir=tmp_dir) as tmp:
        pre = Path(tmp) / "pre.onnx"
        try:
            # Symbolic shape inference needs sympy; the station's models have fixed shapes.
            quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        except Exception as exc:
            raise StationError(f"{src}: cannot prepare the model for quantisation: {exc}") from exc
        model = onnx.load(str(pre))
        _name_nodes(model)
        onnx.save(model, str(pre))
        tail = decode_tail(model) + image_convs(model)
        staged = Path(tmp) / "int8.onnx"

        def quantize(method: CalibrationMethod, extra: dict[str, Any]) -> None:
            # onnxruntime prints calibration progress: keep stdout for the command's output
            with contextlib.redirect_stdout(sys.stderr):
                quantize_static(
                    str(pre),
                    str(staged),
                    Reader(),
                    quant_format=QuantFormat.QDQ,
                    per_channel=True,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    nodes_to_exclude=tail,
                    calibrate_method=method,
                    extra_options=extra,
                )

        try:
            quantize(CalibrationMethod.Percentile, {"CalibPercentile": CALIBRATION_PERCENTILE})
        except ValueError:
            # A tensor whose values span too few floats for the histogram's bins (numpy:
            # "Too many bins for data range"): its range is tiny anyway, min/max is exact.
            quantize(CalibrationMethod.MinMax, {})
        _move(staged, out)
    return tail


def _move(staged: Path, out: Path) -> None:
    """Replace `out` with `staged` in one rename (the station's one file-writing rule)."""
    try:
        atomic_write_bytes(out, staged.read_bytes())
    except OSError as exc:
        raise StationError(f"{out}: cannot write the model ({exc.strerror or exc})") from None


def spread(items: Sequence[Any], limit: int) -> list[Any]:
    """At most `limit` items spread evenly over `items` (calibration sees the whole sample)."""
    if len(items) <= limit:
        return list(items)
    idx = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return [items[i] for i in idx]
