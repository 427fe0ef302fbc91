"""A labeled sample reduced to what threshold tuning needs: one score per part and class.

A part is rejected when any reject class has a detection with
`confidence >= T[class]`, so only each class's highest score on a part can
change its outcome. Scoring a sample once into this matrix lets every
threshold set be evaluated without re-running the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core import outcomes
from station.core.errors import StationError

BoolArray = npt.NDArray[np.bool_]
F32Array = npt.NDArray[np.float32]


def _readonly(a: npt.NDArray[np.generic]) -> None:
    a.flags.writeable = False


@dataclass(frozen=True, slots=True, eq=False)
class ScoredSample:
    """Per-part, per-class maximum scores of one model on a labeled sample.

    `scores` is (n_parts, n_classes) float32: the highest confidence of each
    class on each part, -inf where the class was not detected, NaN where the
    part has no decision (the model returned NaN, or the part was never
    scored): a part with a NaN gets no decision and does not ship. `truth` is
    (n_parts, n_classes) bool: a true defect of that class is on the part.
    `part_ids` name the parts (image file names); `model_sha256` is the model
    the scores came from.
    """

    class_names: tuple[str, ...]
    scores: F32Array
    truth: BoolArray
    part_ids: tuple[str, ...]
    model_sha256: str

    def __post_init__(self) -> None:
        names = tuple(self.class_names)
        scores = np.array(self.scores, dtype=np.float32, copy=True)
        truth = np.array(self.truth, dtype=bool, copy=True)
        n_cls = len(names)
        if scores.ndim != 2 or scores.shape[1] != n_cls:
            raise StationError(
                f"scores: expected shape (n_parts, {n_cls}), got {tuple(scores.shape)}"
            )
        if truth.shape != scores.shape:
            raise StationError(f"truth: expected shape {scores.shape}, got {tuple(truth.shape)}")
        if len(self.part_ids) != scores.shape[0]:
            raise StationError(
                f"part_ids: expected {scores.shape[0]} ids, got {len(self.part_ids)}"
            )
        if len(set(names)) != n_cls:
            raise StationError(f"class_names: duplicate names in {list(names)}")
        _readonly(scores)
        _readonly(truth)
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "scores", np.ascontiguousarray(scores))
        object.__setattr__(self, "truth", np.ascontiguousarray(truth))
        object.__setattr__(self, "part_ids", tuple(str(p) for p in self.part_ids))

    @property
    def n_parts(self) -> int:
        return int(self.scores.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def defective(self) -> BoolArray:
        """(n_parts,) bool: a true defect of any class is on the part."""
        return np.asarray(self.truth.any(axis=1), dtype=bool)

    def defective_for(self, rejecting: BoolArray) -> BoolArray:
        """(n_parts,) bool: a true defect of a reject class is on the part.

        A part whose only labels are non-reject classes (an `ok` mark) is good.
        """
        return outcomes.defective_parts(self.truth, rejecting)

    @property
    def no_decision(self) -> BoolArray:
        """(n_parts,) bool: the model returned NaN for some class, so the part gets no decision."""
        return outcomes.no_decision_rows(self.scores)

    def class_index(self, name: str) -> int:
        try:
            return self.class_names.index(name)
        except ValueError:
            raise StationError(
                f"class {name!r} is not a class of the model; "
                f"the model's classes are: {', '.join(self.class_names)}"
            ) from None
