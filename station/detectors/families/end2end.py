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

from station.detectors.families._common import (
    export_claim,
    is_rtdetr,
    scored_rows,
    shape_claim,
    single_output,
)
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, OutputFamily, Shapes


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


class End2EndFamily(OutputFamily):
    name = "end2end"
    aliases = ("nms", "e2e", "end-to-end", "yolov10", "yolo26")
    layout = "(1, N, 6)"
    task = "detect"
    priority = 1  # (1, N, 6) without metadata reads as end-to-end, not as a 1-class YOLOv5
    needs_nms = False

    def fits(self, shapes: Shapes) -> bool:
        s = single_output(shapes, 3)
        return s is not None and s[2] == 6

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if not self.eligible(meta, shapes) or is_rtdetr(meta):
            return None
        if meta.exported_with_nms:
            return export_claim(nms_evidence(meta), shapes, self.layout)
        if meta.end2end is False:
            return None  # the exporter says: no NMS inside (and args do not say otherwise)
        return shape_claim(shapes, self.layout)

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        rows, cls = scored_rows(outputs[0][0], floor, n_classes)
        if not cls.size:
            return Candidates.empty()
        return Candidates(np.ascontiguousarray(rows[:, :4]), rows[:, 4].copy(), cls)

    def confidence_floor(self, meta: ModelMetadata) -> tuple[float | None, str | None]:
        return export_floor(meta)


REGISTRY.register(End2EndFamily())
