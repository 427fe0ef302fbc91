"""`station.training.peaks`: one class per cell, kept only at 3x3 heatmap peaks, in the graph.

A small graph whose output is its input (YOLOv8's raw layout on a 4x4 grid) goes through
`keep_peaks` and a real onnxruntime session; the result is checked against the rule
written out in numpy.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from station.training.peaks import PEAKS_NOTE, keep_peaks

NC, SIDE = 2, 4


def passthrough() -> onnx.ModelProto:
    shape = [1, 4 + NC, SIDE * SIDE]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["output0"])],
        "raw",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"description": "test detector"})
    return model


def expected(raw: np.ndarray) -> np.ndarray:
    """A cell's scores but its best class's zeroed; that one zeroed where a cell of the 3x3
    neighbourhood scores the same class higher."""
    scores = raw[0, 4:]
    single = np.where(scores == scores.max(axis=0), scores, 0.0)
    heat = single.reshape(NC, SIDE, SIDE)
    padded = np.pad(heat, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    kept = np.where(heat >= windows.max(axis=(-1, -2)), heat, 0.0)
    out = raw.copy()
    out[0, 4:] = kept.reshape(NC, -1)
    return out


def test_only_peaks_keep_their_scores_and_boxes_are_untouched() -> None:
    model = keep_peaks(passthrough())
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    raw = np.random.default_rng(3).random((1, 4 + NC, SIDE * SIDE), dtype=np.float32)
    raw[0, 4, 5] = raw[0, 4, 6] = 2.0  # a tie: both cells are peaks of their neighbourhood
    (out,) = session.run(None, {"images": raw})
    np.testing.assert_array_equal(out, expected(raw))
    assert out[0, 4, 5] == out[0, 4, 6] == 2.0
    np.testing.assert_array_equal(out[0, :4], raw[0, :4])
    best = raw[0, 4:].argmax(axis=0)
    for c in range(NC):  # a class's highest single-label score survives
        assert out[0, 4 + c].max() == raw[0, 4 + c][best == c].max()
    assert (np.count_nonzero(out[0, 4:], axis=0) <= 1).all()  # one class per cell
    assert 0 < np.count_nonzero(out[0, 4:]) < NC * SIDE * SIDE
    desc = {p.key: p.value for p in model.metadata_props}["description"]
    assert desc == f"test detector; {PEAKS_NOTE}"


def test_a_model_is_decoded_once_and_must_have_a_square_grid() -> None:
    once = keep_peaks(passthrough())
    with pytest.raises(ValueError, match="already keeps only peaks"):
        keep_peaks(once)
    odd = passthrough()
    odd.graph.output[0].type.tensor_type.shape.dim[2].dim_value = 15
    with pytest.raises(ValueError, match=r"expected \(1, 4 \+ nc, side\^2\) output"):
        keep_peaks(odd)
