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
