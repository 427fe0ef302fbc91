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

from station.detectors.metadata import ModelMetadata
from station.detectors.registry import REGISTRY, Candidates, Claim, Evidence, OutputFamily, Shapes

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
    per_image = True

    def fits(self, shapes: Shapes) -> bool:
        s = shapes[0]
        return len(shapes) == 1 and len(s) == 2 and s[0] == 1 and s[1] >= 1

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        if not self.fits(shapes) or meta.task not in (None, "classify"):
            return None
        if meta.task == "classify":
            return Claim(Evidence.EXPORT, f"metadata task 'classify', output {self.layout}")
        if meta.names is not None and len(meta.names) == shapes[0][1]:
            return Claim(Evidence.NAMES, f"{shapes[0][1]} metadata names fit {self.layout}")
        return Claim(Evidence.SHAPE, f"output shape fits {self.layout}")

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
