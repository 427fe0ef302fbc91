"""YOLOv8 / YOLO11 raw output `(1, 4+nc, A)`: channel-first cx, cy, w, h, then class scores.

Class scores are already sigmoid outputs in [0, 1]. Decoding is
multi-label: every (anchor, class) score above the floor is a candidate,
not just each anchor's best class. With per-class thresholds this is the
fail-safe choice: a cell scoring 0.5 scratch and 0.4 pit must still reject
a part whose pit threshold is 0.3. Class-aware NMS follows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.detectors.families._common import cxcywh_to_xyxy, top_per_class
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Evidence, OutputFamily, Shape


class YoloV8Family(OutputFamily):
    name = "yolov8"
    aliases = ("yolo11", "yolov11", "v8", "ultralytics")
    layout = "(1, 4+nc, A)"
    nms_iou = 0.7  # Ultralytics predict default

    def fits(self, shape: Shape) -> bool:
        # Channel-first: far fewer channels than anchors.
        return len(shape) == 3 and shape[0] == 1 and 5 <= shape[1] < shape[2]

    def matches(self, meta: ModelMetadata, shape: Shape) -> Evidence | None:
        if not self.fits(shape) or meta.end2end or meta.task not in (None, "detect"):
            return None
        if meta.task == "detect" or (meta.names is not None and len(meta.names) == shape[1] - 4):
            return Evidence.METADATA
        return Evidence.SHAPE

    def n_classes(self, shape: Shape) -> int | None:
        return shape[1] - 4

    def decode(
        self, output: npt.NDArray[np.float32], floor: float, max_per_class: int, n_classes: int
    ) -> Candidates:
        p = output[0]
        cls, anchor, conf = top_per_class(p[4:], floor, max_per_class)
        if not cls.size:
            return Candidates.empty()
        return Candidates(cxcywh_to_xyxy(p[:4, anchor]), conf, cls.astype(np.int64))


REGISTRY.register(YoloV8Family())
