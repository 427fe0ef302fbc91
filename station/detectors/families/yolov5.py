"""YOLOv5 raw output `(1, A, 5+nc)`: cx, cy, w, h, objectness, class scores per row.

A detection's confidence is objectness x class score (as YOLOv5's own NMS
computes it). Single-label by default, as YOLOv5's detect.py (each anchor
its best class); `yolov5-multilabel` proposes every class above the floor
(see `yolov8` for when to pick which). Class-aware NMS follows.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt

from station.detectors.families._common import (
    from_cxcywh,
    names_claim,
    pick_classes,
    shape_claim,
    single_output,
)
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, OutputFamily, Shapes


class YoloV5Family(OutputFamily):
    name = "yolov5"
    aliases: ClassVar[tuple[str, ...]] = ("v5",)
    layout = "(1, A, 5+nc)"
    nms_iou = 0.45  # YOLOv5's detect.py default
    task = "detect"
    multi_label = False

    def fits(self, shapes: Shapes) -> bool:
        s = single_output(shapes, 3)
        return s is not None and 6 <= s[2] < s[1]

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if self.multi_label or meta.exported_with_nms or not self.eligible(meta, shapes):
            return None
        n = self.n_classes(shapes)
        return names_claim(meta, n, self.layout) or shape_claim(shapes, self.layout)

    def n_classes(self, shapes: Shapes) -> int | None:
        return shapes[0][2] - 5

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        p = outputs[0][0]
        # obj * cls <= obj for cls in [0, 1]: rows below the floor on objectness cannot clear it.
        rows = np.flatnonzero(p[:, 4] >= floor)
        scores = (p[rows, 5:] * p[rows, 4:5]).T  # (nc, rows)
        cls, local, conf = pick_classes(scores, floor, max_candidates, n_classes, self.multi_label)
        return from_cxcywh(p[rows[local], :4].T, conf, cls)


class YoloV5MultiLabelFamily(YoloV5Family):
    """Chosen only by name: every class above the floor on every anchor."""

    name = "yolov5-multilabel"
    aliases: ClassVar[tuple[str, ...]] = ()
    multi_label = True


REGISTRY.register(YoloV5Family())
REGISTRY.register(YoloV5MultiLabelFamily())
