"""A YOLOv8n-class ONNX graph built with the onnx package: the benchmark's stand-in model.

Same layers as Ultralytics' `yolov8n.yaml` (width 0.25, depth 0.33): Conv
(BN folded) + SiLU, C2f blocks, SPPF, the PAN neck, and the Detect head with
its DFL and box decode, exported the Ultralytics way: input `images`
(1, 3, S, S), output `output0` (1, 4 + nc, A), cx cy w h in input pixels then
sigmoid class scores, plus `names`/`imgsz`/`stride`/`task` metadata.
Weights are random (seeded, He-scaled): the graph is for timing and for
exercising int8 quantisation of a real detector topology, not for accuracy.
Nothing is downloaded and nothing large is committed: it is built in seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REG_MAX = 16
STRIDES = (8, 16, 32)


class _Builder:
    def __init__(self, seed: int) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.rng = np.random.default_rng(seed)
        self.n = 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"/{prefix}_{self.n}"

    def const(self, value: np.ndarray, prefix: str = "c") -> str:
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(
        self, op_type: str, inputs: list[str], prefix: str | None = None, **attrs: object
    ) -> str:
        name = self.name(prefix or op_type)
        self.nodes.append(helper.make_node(op_type, inputs, [name + "_out"], name=name, **attrs))
        return name + "_out"

    def conv(self, x: str, c1: int, c2: int, k: int = 1, s: int = 1, act: bool = True) -> str:
        std = np.sqrt(2.0 / (c1 * k * k)) * (0.6 if act else 1.0)
        w = (self.rng.standard_normal((c2, c1, k, k)) * std).astype(np.float32)
        b = np.zeros(c2, np.float32)
        y = self.op(
            "Conv",
            [x, self.const(w, "w"), self.const(b, "b")],
            kernel_shape=[k, k],
            strides=[s, s],
            pads=[k // 2] * 4,
        )
        return self.op("Mul", [y, self.op("Sigmoid", [y])]) if act else y

    def c2f(self, x: str, c1: int, c2: int, n: int, shortcut: bool) -> str:
        c = c2 // 2
        y = self.conv(x, c1, 2 * c)
        a = self.op("Split", [y, self.const(np.array([c, c], np.int64))], axis=1)
        b = self.nodes[-1].output
        self.nodes[-1].output.extend([a + "2"])
        parts = [b[0], b[1]]
        for _ in range(n):
            h = self.conv(self.conv(parts[-1], c, c, 3), c, c, 3)
            parts.append(self.op("Add", [parts[-1], h]) if shortcut else h)
        return self.conv(self.op("Concat", parts, axis=1), (2 + n) * c, c2)

    def sppf(self, x: str, c1: int, c2: int) -> str:
        c = c1 // 2
        y = [self.conv(x, c1, c)]
        for _ in range(3):
            y.append(self.op("MaxPool", [y[-1]], kernel_shape=[5, 5], pads=[2] * 4, strides=[1, 1]))
        return self.conv(self.op("Concat", y, axis=1), 4 * c, c2)

    def up(self, x: str) -> str:
        scales = self.const(np.array([1, 1, 2, 2], np.float32))
        return self.op("Resize", [x, "", scales], mode="nearest")


def build_yolov8n(
    path: Path, imgsz: int = 320, names: tuple[str, ...] = ("a",), seed: int = 0
) -> Path:
    """Write a YOLOv8n-class detector for `names` at `imgsz` to `path`."""
    nc = len(names)
    b = _Builder(seed)
    x = b.conv("images", 3, 16, 3, 2)
    x = b.conv(x, 16, 32, 3, 2)
    x = b.c2f(x, 32, 32, 1, True)
    x = b.conv(x, 32, 64, 3, 2)
    p3 = b.c2f(x, 64, 64, 2, True)
    x = b.conv(p3, 64, 128, 3, 2)
    p4 = b.c2f(x, 128, 128, 2, True)
    x = b.conv(p4, 128, 256, 3, 2)
    x = b.c2f(x, 256, 256, 1, True)
    p5 = b.sppf(x, 256, 256)
    h12 = b.c2f(b.op("Concat", [b.up(p5), p4], axis=1), 384, 128, 1, False)
    o3 = b.c2f(b.op("Concat", [b.up(h12), p3], axis=1), 192, 64, 1, False)
    o4 = b.c2f(b.op("Concat", [b.conv(o3, 64, 64, 3, 2), h12], axis=1), 192, 128, 1, False)
    o5 = b.c2f(b.op("Concat", [b.conv(o4, 128, 128, 3, 2), p5], axis=1), 384, 256, 1, False)

    c2, c3 = max(16, 64 // 4, REG_MAX * 4), max(64, min(nc, 100))
    levels = []
    for feat, ch in ((o3, 64), (o4, 128), (o5, 256)):
        box = b.conv(b.conv(b.conv(feat, ch, c2, 3), c2, c2, 3), c2, 4 * REG_MAX, act=False)
        cls = b.conv(b.conv(b.conv(feat, ch, c3, 3), c3, c3, 3), c3, nc, act=False)
        cat = b.op("Concat", [box, cls], axis=1)
        levels.append(
            b.op("Reshape", [cat, b.const(np.array([1, 4 * REG_MAX + nc, -1], np.int64))])
        )
    y = b.op("Concat", levels, axis=2)
    split = b.op("Split", [y, b.const(np.array([4 * REG_MAX, nc], np.int64))], axis=1)
    b.nodes[-1].output.extend([split + "2"])
    box, cls = b.nodes[-1].output
    # DFL: softmax over 16 bins per side, expectation by a fixed 1x1 conv
    d = b.op("Reshape", [box, b.const(np.array([1, 4, REG_MAX, -1], np.int64))])
    d = b.op("Softmax", [b.op("Transpose", [d], perm=[0, 2, 1, 3])], axis=1)
    bins = np.arange(REG_MAX, dtype=np.float32).reshape(1, REG_MAX, 1, 1)
    d = b.op("Conv", [d, b.const(bins, "dfl")], kernel_shape=[1, 1])
    d = b.op("Reshape", [d, b.const(np.array([1, 4, -1], np.int64))])
    # dist2bbox with anchor points and strides
    anchors, strides = [], []
    for s in STRIDES:
        g = imgsz // s
        ys, xs = np.meshgrid(np.arange(g) + 0.5, np.arange(g) + 0.5, indexing="ij")
        anchors.append(np.stack([xs.ravel(), ys.ravel()]))
        strides.append(np.full(g * g, s))
    anc = b.const(np.concatenate(anchors, 1)[None].astype(np.float32), "anchors")
    std = b.const(np.concatenate(strides)[None, None].astype(np.float32), "strides")
    lt_rb = b.op("Split", [d, b.const(np.array([2, 2], np.int64))], axis=1)
    b.nodes[-1].output.extend([lt_rb + "2"])
    lt, rb = b.nodes[-1].output
    x1y1 = b.op("Sub", [anc, lt])
    x2y2 = b.op("Add", [anc, rb])
    cxy = b.op("Div", [b.op("Add", [x1y1, x2y2]), b.const(np.array(2.0, np.float32))])
    wh = b.op("Sub", [x2y2, x1y1])
    dbox = b.op("Mul", [b.op("Concat", [cxy, wh], axis=1), std])
    b.nodes.append(
        helper.make_node(
            "Concat", [dbox, b.op("Sigmoid", [cls])], ["output0"], name="/head/Concat", axis=1
        )
    )
    n_anchors = sum((imgsz // s) ** 2 for s in STRIDES)
    graph = helper.make_graph(
        b.nodes,
        "yolov8n_class",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, imgsz, imgsz])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + nc, n_anchors])],
        b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(
        model,
        {
            "names": repr(dict(enumerate(names))),
            "imgsz": repr([imgsz, imgsz]),
            "stride": "32",
            "task": "detect",
            "description": "YOLOv8n-class stand-in, random weights (bench/yolov8n_graph.py)",
        },
    )
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
