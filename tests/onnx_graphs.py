"""Tiny ONNX graphs with known outputs, for tests of detectors and of anything that runs one.

Each model ignores what its input shows: it outputs a constant tensor plus
``0 * ReduceSum(input)`` so the input is genuinely consumed (onnxruntime
cannot prune it) while the output stays exact. The `*_output` helpers
build the constant for each output family from a few detections, so
expected boxes and scores are known to the bit.

Reuse freely, e.g. a constant YOLOv8 model for an end-to-end test::

    path = write_yolov8_model(tmp_path / "m.onnx", [(1, 0.9, (10, 10, 30, 30))], ["a", "b"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8

Dim = int | str
Row = tuple[int, float, tuple[float, float, float, float]]  # class id, score, box x1 y1 x2 y2


def _save(graph: onnx.GraphProto, path: Path, metadata: Mapping[str, str] | None) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    if metadata:
        helper.set_model_props(model, dict(metadata))
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def constant_output_model(
    path: Path,
    output: npt.NDArray[np.float32],
    *,
    input_shape: Sequence[Dim] = (1, 3, 64, 64),
    metadata: Mapping[str, str] | None = None,
    input_name: str = "images",
    output_name: str = "output0",
) -> Path:
    """A model whose output is always `output` (float32); the input still feeds the graph."""
    value = np.asarray(output, dtype=np.float32)
    x = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))
    y = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, list(value.shape))
    nodes = [
        helper.make_node("ReduceSum", [input_name], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Add", ["constant", "nothing"], [output_name]),
    ]
    inits = [
        numpy_helper.from_array(value, "constant"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
    ]
    return _save(helper.make_graph(nodes, "constant", [x], [y], inits), path, metadata)


def channel_mean_model(path: Path, input_hw: tuple[int, int] = (64, 64), **metadata: str) -> Path:
    """Outputs the mean of each input channel, shape (1, 3): shows what preprocessing fed in.

    Its output reads as a 3-class classifier whose scores are the mean R, G, B in [0, 1].
    """
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, *input_hw])
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 3])
    node = helper.make_node("ReduceMean", ["images"], ["output0"], axes=[2, 3], keepdims=0)
    return _save(helper.make_graph([node], "channel_mean", [x], [y]), path, metadata or None)


def ultralytics_metadata(
    names: Sequence[str],
    imgsz: tuple[int, int] | None = (64, 64),
    task: str | None = "detect",
    **extra: str,
) -> dict[str, str]:
    """`metadata_props` as an Ultralytics export writes them (every value a string)."""
    meta = {"names": repr(dict(enumerate(names))), "stride": "32"}
    if imgsz is not None:
        meta["imgsz"] = repr(list(imgsz))
    if task is not None:
        meta["task"] = task
    meta.update(extra)
    return meta


def yolov8_output(
    rows: Sequence[Row], n_classes: int, anchors: int = 64
) -> npt.NDArray[np.float32]:
    """(1, 4+nc, A): row i becomes anchor i (cx, cy, w, h, one class score); the rest are zero."""
    out = np.zeros((1, 4 + n_classes, anchors), np.float32)
    for i, (cls, score, (x1, y1, x2, y2)) in enumerate(rows):
        out[0, :4, i] = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
        out[0, 4 + cls, i] = score
    return out


def yolov5_output(
    rows: Sequence[tuple[int, float, float, tuple[float, float, float, float]]],
    n_classes: int,
    anchors: int = 64,
) -> npt.NDArray[np.float32]:
    """(1, A, 5+nc) from (class id, objectness, class score, box xyxy) rows; the rest are zero."""
    out = np.zeros((1, anchors, 5 + n_classes), np.float32)
    for i, (cls, obj, score, (x1, y1, x2, y2)) in enumerate(rows):
        out[0, i, :5] = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, obj)
        out[0, i, 5 + cls] = score
    return out


def end2end_output(rows: Sequence[Row], n_rows: int = 10) -> npt.NDArray[np.float32]:
    """(1, N, 6): x1 y1 x2 y2 score class per row, zero-padded to `n_rows` rows."""
    out = np.zeros((1, n_rows, 6), np.float32)
    for i, (cls, score, box) in enumerate(rows):
        out[0, i] = (*box, score, cls)
    return out


def write_yolov8_model(
    path: Path,
    rows: Sequence[Row],
    names: Sequence[str],
    imgsz: tuple[int, int] = (64, 64),
    anchors: int = 64,
    with_metadata: bool = True,
) -> Path:
    """A YOLOv8-layout model that always reports `rows` (boxes in model-input pixels)."""
    return constant_output_model(
        path,
        yolov8_output(rows, len(names), anchors),
        input_shape=(1, 3, *imgsz),
        metadata=ultralytics_metadata(names, imgsz) if with_metadata else None,
    )
