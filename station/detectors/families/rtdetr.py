"""RT-DETR: normalised cx, cy, w, h per query, no NMS, the frame stretched (not letterboxed).

Two layouts, both with boxes in [0, 1] of the input:

- `(1, N, 4+nc)`: per-class scores (already sigmoid) for each of N queries;
  each query's best class is its detection (Ultralytics' RT-DETR predictor
  up to 8.3);
- `(1, N, 6)`: cx, cy, w, h, score, class: the top N (query, class) pairs,
  selected inside the graph (Ultralytics 8.4 exports, metadata
  `head: RTDETRDecoder`). Without that metadata a `(1, N, 6)` output reads
  as `end2end`.

RT-DETR's predictor resizes the frame to the input size without keeping the
aspect ratio (`stretch`), and so does the station for this family.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.detectors.families._common import (
    best_class,
    from_cxcywh,
    is_rtdetr,
    names_claim,
    scored_rows,
    single_output,
)
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, Evidence, OutputFamily, Shapes

MAX_QUERIES = 1000
"""Without an RT-DETR head in metadata, only outputs with at most this many rows read as
RT-DETR queries (300 by default), and only when the names count fits: YOLOv5's thousands
of anchors stay YOLOv5. A shape alone never makes a model RT-DETR (`--family rtdetr` does)."""


class RtDetrFamily(OutputFamily):
    name = "rtdetr"
    aliases = ("rt-detr",)
    layout = "(1, N, 4+nc) normalised"
    needs_nms = False
    task = "detect"
    stretch = True
    normalised_boxes = True

    def fits(self, shapes: Shapes) -> bool:
        s = single_output(shapes, 3)
        return s is not None and s[2] >= 5

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if not self.eligible(meta, shapes):
            return None
        if is_rtdetr(meta):
            return Claim(Evidence.EXPORT, f"metadata head RTDETRDecoder, output {shapes[0]}")
        if meta.exported_with_nms or shapes[0][1] > MAX_QUERIES:
            return None
        # by shape alone it is indistinguishable from YOLOv5: never guessed
        return names_claim(meta, shapes[0][2] - 4, self.layout)

    def n_classes(self, shapes: Shapes) -> int | None:
        return None  # (1, N, 6) is either 2 classes or the top-k layout: names decide

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        p = outputs[0][0]
        if p.shape[1] == 4 + n_classes:  # per-class scores: each query's best class
            cls, query, conf = best_class(p[:, 4:].T, floor, max_candidates)
            return from_cxcywh(p[query, :4].T, conf, cls)
        rows, cls = scored_rows(p, floor, n_classes)  # top-k layout: cx cy w h score class
        return from_cxcywh(rows[:, :4].T, rows[:, 4].copy(), cls)


REGISTRY.register(RtDetrFamily())
