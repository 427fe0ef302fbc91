"""Image classifier output `(1, nc)`: one score per class for the whole image.

Probabilities or logits? A row that is already a probability distribution
(every value in [0, 1], summing to 1 within 1e-3) is used as given: that is
what Ultralytics classify exports emit (softmax inside the graph), and a
second softmax would squash those scores toward uniform. Any other row is
taken as logits and softmax is applied, so scores are always in [0, 1] and
keep their order. A random logit row passing as a distribution is
vanishingly unlikely. Limitation: a multi-label (sigmoid) head, whose
scores need not sum to 1, is read as logits and softmaxed.

Each class above the floor is reported as a full-frame box.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.detectors.families._common import (
    export_claim,
    names_claim,
    shape_claim,
    single_output,
)
from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, OutputFamily, Shapes

PROBABILITY_SUM_TOLERANCE = 1e-3


def as_probabilities(row: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """`row` unchanged if it is a probability distribution, else its softmax (float32)."""
    r = row.astype(np.float64)
    if np.all((r >= 0.0) & (r <= 1.0)) and abs(r.sum() - 1.0) <= PROBABILITY_SUM_TOLERANCE:
        return row.astype(np.float32)
    e = np.exp(r - r.max())
    prob: npt.NDArray[np.float32] = (e / e.sum()).astype(np.float32)
    return prob


class ClassifierFamily(OutputFamily):
    name = "classifier"
    aliases = ("classify", "cls")
    layout = "(1, nc)"
    needs_nms = False
    task = "classify"
    per_image = True

    def fits(self, shapes: Shapes) -> bool:
        s = single_output(shapes, 2)
        return s is not None and s[1] >= 1

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if not self.eligible(meta, shapes):
            return None
        if meta.task == "classify":
            return export_claim("metadata task 'classify'", shapes, self.layout)
        return names_claim(meta, shapes[0][1], self.layout) or shape_claim(shapes, self.layout)

    def n_classes(self, shapes: Shapes) -> int | None:
        return shapes[0][1]

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        prob = as_probabilities(outputs[0].reshape(-1))
        keep = np.flatnonzero(prob >= floor)
        return Candidates(np.zeros((keep.size, 4), np.float32), prob[keep], keep.astype(np.int64))


REGISTRY.register(ClassifierFamily())
