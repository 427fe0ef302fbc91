"""Segmentation, raw: `(1, 4+nc+nm, A)` plus prototypes `(1, nm, mh, mw)` (YOLOv8/11/26 -seg).

Rows are cx, cy, w, h, class scores, then nm mask coefficients per anchor.
Decoded like `yolov8` (single-label, class-aware NMS at IoU 0.7, as
Ultralytics `predict`); each kept detection carries its coefficients, and
its mask is sigmoid(coefficients · prototypes) > 0.5, cropped to the box,
at frame resolution (see `station.detectors.masks`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.detectors.families._common import (
    best_class,
    export_claim,
    from_cxcywh,
    names_claim,
    prototypes_fit,
    shape_claim,
)
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, OutputFamily, Shapes


class SegmentFamily(OutputFamily):
    name = "segment"
    aliases = ("yolov8-seg", "yolo11-seg", "yolo26-seg-raw", "seg")
    layout = "(1, 4+nc+nm, A) + (1, nm, mh, mw)"
    nms_iou = 0.7  # Ultralytics predict default
    task = "segment"
    has_masks = True

    def fits(self, shapes: Shapes) -> bool:
        nm = prototypes_fit(shapes)
        s = shapes[0]
        return nm is not None and len(s) == 3 and s[0] == 1 and 5 + nm <= s[1] < s[2]

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if meta.exported_with_nms or not self.eligible(meta, shapes):
            return None
        if meta.task == "segment":
            return export_claim("metadata task 'segment'", shapes, self.layout)
        n = self.n_classes(shapes)
        return names_claim(meta, n, self.layout) or shape_claim(shapes, self.layout)

    def n_classes(self, shapes: Shapes) -> int | None:
        return shapes[0][1] - 4 - shapes[1][1]

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        p = outputs[0][0]
        nc = n_classes
        cls, anchor, conf = best_class(p[4 : 4 + nc], floor, max_candidates)
        coef = np.ascontiguousarray(p[4 + nc :, anchor].T)
        return from_cxcywh(p[:4, anchor], conf, cls, coef)


REGISTRY.register(SegmentFamily())
