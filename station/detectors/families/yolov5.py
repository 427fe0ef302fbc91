"""YOLOv5 raw output `(1, A, 5+nc)`: cx, cy, w, h, objectness, class scores per row.

A detection's confidence is objectness x class score (as YOLOv5's own NMS
computes it). Decoding is multi-label, as for YOLOv8 (see there why), and
class-aware NMS follows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.detectors.families._common import cxcywh_to_xyxy, top_per_class
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Evidence, OutputFamily, Shape


class YoloV5Family(OutputFamily):
    name = "yolov5"
    aliases = ("v5",)
    layout = "(1, A, 5+nc)"
    nms_iou = 0.45  # YOLOv5's detect.py default

    def fits(self, shape: Shape) -> bool:
        return len(shape) == 3 and shape[0] == 1 and 6 <= shape[2] < shape[1]

    def matches(self, meta: ModelMetadata, shape: Shape) -> Evidence | None:
        if not self.fits(shape) or meta.end2end or meta.task not in (None, "detect"):
            return None
        if meta.names is not None and len(meta.names) == shape[2] - 5:
            return Evidence.METADATA
        return Evidence.SHAPE

    def n_classes(self, shape: Shape) -> int | None:
        return shape[2] - 5

    def decode(
        self, output: npt.NDArray[np.float32], floor: float, max_per_class: int, n_classes: int
    ) -> Candidates:
        p = output[0]
        # obj * cls <= obj for cls in [0, 1]: rows below the floor on objectness cannot clear it.
        rows = np.flatnonzero(p[:, 4] >= floor)
        scores = (p[rows, 5:] * p[rows, 4:5]).T  # (nc, rows)
        cls, local, conf = top_per_class(scores, floor, max_per_class)
        if not cls.size:
            return Candidates.empty()
        return Candidates(cxcywh_to_xyxy(p[rows[local], :4].T), conf, cls.astype(np.int64))


REGISTRY.register(YoloV5Family())
