"""End-to-end / exported-with-NMS output `(1, N, 6)`: x1, y1, x2, y2, score, class per row.

Suppression already happened inside the graph; unused rows are zero-padded
(score 0) and dropped by the floor. The exporter also cut every score below
its own confidence floor, so thresholds below that floor change nothing:
the floor is reported from metadata `conf` when the exporter recorded it,
otherwise it is reported as unknown.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.core.ports import DetectorError
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Evidence, OutputFamily, Shape


class End2EndFamily(OutputFamily):
    name = "end2end"
    aliases = ("nms", "e2e", "end-to-end", "yolov10", "yolo26")
    layout = "(1, N, 6)"
    priority = 1  # (1, N, 6) without metadata reads as end-to-end, not as a 1-class YOLOv5
    needs_nms = False

    def fits(self, shape: Shape) -> bool:
        return len(shape) == 3 and shape[0] == 1 and shape[2] == 6

    def matches(self, meta: ModelMetadata, shape: Shape) -> Evidence | None:
        if not self.fits(shape) or meta.end2end is False or meta.task not in (None, "detect"):
            return None
        return Evidence.METADATA if meta.end2end else Evidence.SHAPE

    def n_classes(self, shape: Shape) -> int | None:
        return None

    def decode(
        self, output: npt.NDArray[np.float32], floor: float, max_per_class: int, n_classes: int
    ) -> Candidates:
        p = output[0]
        keep = np.flatnonzero(p[:, 4] >= floor)  # N is small and fixed: no cap needed
        if not keep.size:
            return Candidates.empty()
        rows = p[keep]
        cls = np.rint(rows[:, 5]).astype(np.int64)
        bad = (cls < 0) | (cls >= n_classes)
        if bad.any():
            raise DetectorError(
                f"model output class id {int(cls[bad][0])} outside 0..{n_classes - 1}"
            )
        return Candidates(np.ascontiguousarray(rows[:, :4]), rows[:, 4].copy(), cls)

    def confidence_floor(self, meta: ModelMetadata) -> tuple[float | None, str | None]:
        if meta.conf is not None:
            return meta.conf, (
                f"confidence floor {meta.conf:g} baked in at export (metadata 'conf'): "
                "thresholds below it have no effect"
            )
        return None, (
            "end-to-end export: scores below a confidence floor chosen at export are cut, "
            "but the model does not record it (floor unknown)"
        )


REGISTRY.register(End2EndFamily())
