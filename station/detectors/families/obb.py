"""Oriented boxes (OBB, `(1, 4+nc+1, A)`: cx, cy, w, h, class scores, angle): recognised, refused.

The station's detections, thresholds, archive and views are axis-aligned
boxes. An OBB model read as a detector would silently drop its angle (and
its last channel would pass for a class), so it is refused by name instead.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, Evidence, OutputFamily, Shapes


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

    def n_classes(self, shapes: Shapes) -> int | None:
        return None

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        raise NotImplementedError(self.refusal)


REGISTRY.register(ObbFamily())
