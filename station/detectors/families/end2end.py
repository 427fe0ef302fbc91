"""End-to-end / exported-with-NMS output `(1, N, 6)`: x1, y1, x2, y2, score, class per row.

YOLO26 and YOLOv10 exports (metadata `end2end: True`) and YOLOv8/11 exports
with `nms=True` (metadata `end2end: False` but ``'nms': True`` in `args`)
write this layout. Suppression already happened inside the graph; unused
rows are zero-padded (score 0) and dropped by the floor. The exporter cut
every score below its own confidence floor, so thresholds below that floor
change nothing: the floor is reported from metadata `conf` (or `args`) when
the exporter recorded it, otherwise as unknown.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.core.ports import DetectorError
from station.detectors.families._common import is_rtdetr
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, Evidence, OutputFamily, Shapes


def nms_evidence(meta: ModelMetadata) -> str:
    """Which metadata fact says the graph suppresses: `end2end`, or `nms` in `args`."""
    return "metadata end2end True" if meta.end2end else "metadata args 'nms': True"


def export_floor(meta: ModelMetadata) -> tuple[float | None, str | None]:
    """The confidence floor an end-to-end export recorded, and a note for the user."""
    recorded = meta.conf if meta.conf is not None else meta.args.get("conf")
    if isinstance(recorded, int | float) and not isinstance(recorded, bool):
        return float(recorded), (
            f"confidence floor {recorded:g} baked in at export (metadata 'conf'): "
            "thresholds below it have no effect"
        )
    if meta.args.get("nms") is True:
        return None, (
            "exported with nms=True: scores below a confidence floor (Ultralytics' default "
            "0.25 unless conf= was given at export) are cut, and the file does not record "
            "it (floor unknown)"
        )
    return None, (
        "end-to-end export: scores below a confidence floor chosen at export are cut, "
        "but the model does not record it (floor unknown)"
    )


def class_ids(column: npt.NDArray[np.float32], n_classes: int) -> npt.NDArray[np.int64]:
    """Class ids from a float column; DetectorError for one outside 0..n-1."""
    cls = np.rint(column).astype(np.int64)
    bad = (cls < 0) | (cls >= n_classes)
    if bad.any():
        raise DetectorError(f"model output class id {int(cls[bad][0])} outside 0..{n_classes - 1}")
    return cls


class End2EndFamily(OutputFamily):
    name = "end2end"
    aliases = ("nms", "e2e", "end-to-end", "yolov10", "yolo26")
    layout = "(1, N, 6)"
    priority = 1  # (1, N, 6) without metadata reads as end-to-end, not as a 1-class YOLOv5
    needs_nms = False

    def fits(self, shapes: Shapes) -> bool:
        s = shapes[0]
        return len(shapes) == 1 and len(s) == 3 and s[0] == 1 and s[2] == 6

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if not self.fits(shapes) or meta.task not in (None, "detect") or is_rtdetr(meta):
            return None
        if meta.exported_with_nms:
            return Claim(Evidence.EXPORT, f"{nms_evidence(meta)}, output {self.layout}")
        if meta.end2end is False:
            return None  # the exporter says: no NMS inside (and args do not say otherwise)
        return Claim(Evidence.SHAPE, f"output shape fits {self.layout}")

    def n_classes(self, shapes: Shapes) -> int | None:
        return None

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        p = outputs[0][0]
        keep = np.flatnonzero(p[:, 4] >= floor)  # N is small and fixed: no cap needed
        if not keep.size:
            return Candidates.empty()
        rows = p[keep]
        cls = class_ids(rows[:, 5], n_classes)
        return Candidates(np.ascontiguousarray(rows[:, :4]), rows[:, 4].copy(), cls)

    def confidence_floor(self, meta: ModelMetadata) -> tuple[float | None, str | None]:
        return export_floor(meta)


REGISTRY.register(End2EndFamily())
