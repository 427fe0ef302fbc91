"""YOLOv8 / YOLO11 / YOLO26 raw output `(1, 4+nc, A)`: channel-first cx, cy, w, h, class scores.

Class scores are already sigmoid outputs in [0, 1]. The default decode is
single-label, as Ultralytics `predict` (and Roboflow's post-processing):
each anchor proposes its best class only, then class-aware NMS at IoU 0.7.
That makes the station's detections equal to the exporter's own.

`yolov8-multilabel` (a recipe's `family`, or `--family`) proposes every
(anchor, class) score above the floor, as Ultralytics `val` does. It is the
conservative choice with per-class thresholds: a cell scoring 0.5 scratch
and 0.4 pit still rejects a part whose pit threshold is 0.3, which the
single-label decode hides behind the scratch.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt

from station.detectors.families._common import (
    export_claim,
    from_cxcywh,
    names_claim,
    pick_classes,
    shape_claim,
    single_output,
)
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, OutputFamily, Shapes


class YoloV8Family(OutputFamily):
    name = "yolov8"
    aliases: ClassVar[tuple[str, ...]] = ("yolo11", "yolov11", "yolo26-raw", "v8", "ultralytics")
    layout = "(1, 4+nc, A)"
    nms_iou = 0.7  # Ultralytics predict default
    task = "detect"
    multi_label = False

    def fits(self, shapes: Shapes) -> bool:
        # One output, channel-first: far fewer channels than anchors.
        s = single_output(shapes, 3)
        return s is not None and 5 <= s[1] < s[2]

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if self.multi_label or meta.exported_with_nms or not self.eligible(meta, shapes):
            return None
        if meta.task == "detect":
            return export_claim("metadata task 'detect'", shapes, self.layout)
        n = self.n_classes(shapes)
        return names_claim(meta, n, self.layout) or shape_claim(shapes, self.layout)

    def n_classes(self, shapes: Shapes) -> int | None:
        return shapes[0][1] - 4

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        p = outputs[0][0]
        cls, anchor, conf = pick_classes(p[4:], floor, max_candidates, n_classes, self.multi_label)
        return from_cxcywh(p[:4, anchor], conf, cls)


class YoloV8MultiLabelFamily(YoloV8Family):
    """Chosen only by name: every class above the floor on every anchor (Ultralytics `val`)."""

    name = "yolov8-multilabel"
    aliases: ClassVar[tuple[str, ...]] = ("multilabel", "yolo11-multilabel")
    multi_label = True


REGISTRY.register(YoloV8Family())
REGISTRY.register(YoloV8MultiLabelFamily())
