"""Oriented boxes (OBB, `(1, 4+nc+1, A)`: cx, cy, w, h, class scores, angle): recognised, refused.

The station's detections, thresholds, archive and views are axis-aligned
boxes. An OBB model read as a detector would silently drop its angle (and
its last channel would pass for a class), so it is refused by name instead:
`refusal` is set, so the registry refuses it and the base `decode` raises.
"""

from __future__ import annotations

from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Claim, Evidence, OutputFamily, Shapes


class ObbFamily(OutputFamily):
    name = "obb"
    aliases = ("oriented", "rotated")
    layout = "(1, 4+nc+1, A) oriented boxes"
    refusal = (
        "an oriented-box (OBB) model (metadata task 'obb'): the station reads axis-aligned "
        "boxes only; export the model for task=detect or =segment"
    )

    def fits(self, shapes: Shapes) -> bool:
        return len(shapes[0]) == 3 and shapes[0][0] == 1

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if meta.task == "obb" or meta.head == "OBB":
            return Claim(Evidence.EXPORT, "metadata task 'obb'")
        return None


REGISTRY.register(ObbFamily())
