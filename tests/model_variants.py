"""Variants of the shipped model for model-change tests, built with the onnx package.

`scaled_scores` appends a Mul node to the score output: every class score
multiplied by its factor (boxes untouched). A factor of 0.5 for all classes
is a monotone transform (what re-deriving thresholds must see through); a
factor of 0 for a class blinds the model to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "defects.onnx"


def scaled_scores(dst: Path, factors: Sequence[float], src: Path = SHIPPED) -> Path:
    """A copy of `src` (YOLOv8 raw layout) whose class scores are multiplied by `factors`."""
    model = onnx.load(str(src))
    graph = model.graph
    out = graph.output[0].name
    for node in graph.node:
        for i, name in enumerate(node.output):
            if name == out:
                node.output[i] = "unscaled_output"
    n_rows = graph.output[0].type.tensor_type.shape.dim[1].dim_value
    scale = np.ones((1, n_rows, 1), np.float32)
    scale[0, 4:, 0] = np.asarray(factors, np.float32)
    graph.initializer.append(numpy_helper.from_array(scale, "score_scale"))
    graph.node.append(helper.make_node("Mul", ["unscaled_output", "score_scale"], [out]))
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return dst


def sharpened_logits(dst: Path, factor: float, src: Path = SHIPPED) -> Path:
    """A copy of `src` whose class logits are multiplied by `factor` before the sigmoid.

    In float this is a monotone transform of the scores; after int8 quantisation of the
    convolutions, their rounding error is amplified `factor` times: a model that cannot
    survive quantisation.
    """
    model = onnx.load(str(src))
    graph = model.graph
    sigmoid = next(n for n in graph.node if n.op_type == "Sigmoid")
    logits = sigmoid.input[0]
    graph.initializer.append(numpy_helper.from_array(np.float32(factor), "logit_gain"))
    sigmoid.input[0] = "sharpened_logits"
    at = list(graph.node).index(sigmoid)
    graph.node.insert(at, helper.make_node("Mul", [logits, "logit_gain"], ["sharpened_logits"]))
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return dst


def wide_logits(dst: Path, src: Path = SHIPPED, value: float = 3000.0) -> Path:
    """A copy of `src` whose class-logit convolution gains an extra channel at `value`, sliced
    off before the sigmoid. In float nothing changes; int8 gives the conv output one scale
    for the logits and that channel, and every logit rounds to 0 (a constant score of 0.5):
    a model that cannot survive per-tensor activation quantisation."""
    model = onnx.load(str(src))
    graph = model.graph
    conv = next(n for n in graph.node if n.op_type == "Conv" and n.name.endswith("cls/Conv"))
    inits = {i.name: i for i in graph.initializer}
    w = numpy_helper.to_array(inits[conv.input[1]])
    b = numpy_helper.to_array(inits[conv.input[2]])
    n_cls = w.shape[0]
    for name in conv.input[1:3]:
        graph.initializer.remove(inits[name])
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.concatenate([w, np.zeros_like(w[:1])]), conv.input[1]),
            numpy_helper.from_array(np.append(b, np.float32(value)), conv.input[2]),
            numpy_helper.from_array(np.array([0], np.int64), "wide_start"),
            numpy_helper.from_array(np.array([n_cls], np.int64), "wide_end"),
            numpy_helper.from_array(np.array([1], np.int64), "wide_axis"),
        ]
    )
    logits = conv.output[0]
    conv.output[0] = "wide_logits"
    at = list(graph.node).index(conv) + 1
    inputs = ["wide_logits", "wide_start", "wide_end", "wide_axis"]
    graph.node.insert(at, helper.make_node("Slice", inputs, [logits], name="drop_wide"))
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return dst
