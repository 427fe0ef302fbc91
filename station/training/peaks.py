"""Keep one score per defect in an exported detector: CenterNet's peak decode, in the graph.

The detector scores every grid cell, and the cells around a defect's centre all score
high, each with its own box; where those boxes overlap less than NMS's IoU (a small box
inside a large missing hole, two halves of a long crack) several survive for one defect.
Two steps after the sigmoid keep one: each cell keeps only its best class's score (what
the station's default single-label decode and Ultralytics `predict` read of a cell anyway),
then a cell keeps that score only where no cell of its 3x3 neighbourhood scores the same
class higher, as CenterNet decodes. The file keeps YOLOv8's raw layout (1, 4 + nc, A), so
every reader gets it. A class's highest single-label score on a part is always such a peak:
the station's per-class maxima, and so every decision and threshold, are unchanged. (A
multi-label decode of this file sees one class per cell.)

    python -m station.training.peaks IN.onnx OUT.onnx     # an existing export
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

KERNEL = 3
PEAKS_NOTE = f"one class per cell, kept only at {KERNEL}x{KERNEL} heatmap peaks"


def keep_peaks(proto: onnx.ModelProto, kernel: int = KERNEL) -> onnx.ModelProto:
    """The model with each cell's scores but its best class's zeroed, and that one zeroed too
    wherever a neighbour scores the same class higher; boxes untouched. Refuses a graph
    already so decoded, or one whose anchors are no square grid."""
    g = proto.graph
    if any(n.name.startswith("peaks/") for n in g.node):
        raise ValueError("the model already keeps only peaks")
    out = g.output[0]
    _, rows, anchors = (d.dim_value for d in out.type.tensor_type.shape.dim)
    nc, side = rows - 4, math.isqrt(anchors)
    if nc < 1 or side * side != anchors:
        raise ValueError(f"expected (1, 4 + nc, side^2) output, got (1, {rows}, {anchors})")
    raw = "peaks/raw"
    for producer in g.node:
        producer.output[:] = [raw if o == out.name else o for o in producer.output]
    consts = {
        "peaks/zero": [0],
        "peaks/four": [4],
        "peaks/rows": [rows],
        "peaks/axis": [1],
        "peaks/grid": [1, nc, side, side],
        "peaks/flat": [1, nc, anchors],
    }
    g.initializer.extend(
        numpy_helper.from_array(np.array(v, np.int64), k) for k, v in consts.items()
    )
    pad = kernel // 2

    def node(op: str, ins: list[str], name: str, **attrs: Any) -> onnx.NodeProto:
        return helper.make_node(op, ins, [name], name=name, **attrs)

    g.node.extend(
        [
            node("Slice", [raw, "peaks/zero", "peaks/four", "peaks/axis"], "peaks/box"),
            node("Slice", [raw, "peaks/four", "peaks/rows", "peaks/axis"], "peaks/scores"),
            node("ReduceMax", ["peaks/scores"], "peaks/best", axes=[1], keepdims=1),
            node("Equal", ["peaks/scores", "peaks/best"], "peaks/is_best"),
            node("Cast", ["peaks/is_best"], "peaks/best_mask", to=TensorProto.FLOAT),
            node("Mul", ["peaks/scores", "peaks/best_mask"], "peaks/single"),
            node("Reshape", ["peaks/single", "peaks/grid"], "peaks/heat"),
            node(
                "MaxPool",
                ["peaks/heat"],
                "peaks/pooled",
                kernel_shape=[kernel] * 2,
                strides=[1, 1],
                pads=[pad] * 4,
            ),
            node("Equal", ["peaks/heat", "peaks/pooled"], "peaks/is_peak"),
            node("Cast", ["peaks/is_peak"], "peaks/mask", to=TensorProto.FLOAT),
            node("Mul", ["peaks/heat", "peaks/mask"], "peaks/kept"),
            node("Reshape", ["peaks/kept", "peaks/flat"], "peaks/kept_flat"),
        ]
    )
    g.node.append(
        helper.make_node(
            "Concat", ["peaks/box", "peaks/kept_flat"], [out.name], name="peaks/out", axis=1
        )
    )
    for prop in proto.metadata_props:
        if prop.key == "description" and PEAKS_NOTE not in prop.value:
            prop.value = f"{prop.value}; {PEAKS_NOTE}"
    onnx.checker.check_model(proto)
    return proto


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("out", type=Path)
    args = p.parse_args(argv)
    onnx.save(keep_peaks(onnx.load(str(args.model))), str(args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
