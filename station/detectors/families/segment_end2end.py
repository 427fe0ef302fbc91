"""Segmentation, suppressed in the graph: `(1, N, 6+nm)` plus prototypes `(1, nm, mh, mw)`.

YOLO26-seg end-to-end exports and YOLOv8/11-seg exports with `nms=True`
write x1, y1, x2, y2, score, class, then nm mask coefficients per row,
zero-padded. No NMS; masks as for `segment`; the export's confidence floor
as for `end2end`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.detectors.families._common import (
    export_claim,
    prototypes_fit,
    scored_rows,
    shape_claim,
)
from station.detectors.families.end2end import export_floor, nms_evidence
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, OutputFamily, Shapes


class SegmentEnd2EndFamily(OutputFamily):
    name = "segment-end2end"
    aliases = ("seg-nms", "yolo26-seg", "segment-nms")
    layout = "(1, N, 6+nm) + (1, nm, mh, mw)"
    needs_nms = False
    task = "segment"
    has_masks = True

    def fits(self, shapes: Shapes) -> bool:
        nm = prototypes_fit(shapes)
        s = shapes[0]
        return nm is not None and len(s) == 3 and s[0] == 1 and s[2] == 6 + nm

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if not self.eligible(meta, shapes):
            return None
        if meta.exported_with_nms:
            return export_claim(nms_evidence(meta), shapes, self.layout)
        return shape_claim(shapes, self.layout)

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        p = outputs[0][0]
        rows, cls = scored_rows(p, floor, n_classes)
        if not cls.size:
            return Candidates.empty(p.shape[1] - 6)
        coef = np.ascontiguousarray(rows[:, 6:])
        return Candidates(np.ascontiguousarray(rows[:, :4]), rows[:, 4].copy(), cls, coef)

    def confidence_floor(self, meta: ModelMetadata) -> tuple[float | None, str | None]:
        return export_floor(meta)


REGISTRY.register(SegmentEnd2EndFamily())
