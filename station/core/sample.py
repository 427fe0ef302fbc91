"""A labeled sample reduced to what threshold tuning needs: one score per part and class.

A part is rejected when any reject class has a detection with
`confidence >= T[class]`, so only each class's highest score on a part can
change its outcome. Scoring a sample once into this matrix lets every
threshold set be evaluated without re-running the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from station.core import outcomes
from station.core.errors import StationError
from station.core.part_detections import PartDetections
from station.core.size_rules import SizeRules

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
    the scores came from. `detections`, when kept (a scored folder; not a log),
    are every detection's class, score and size, so `sized` re-applies size
    rules without the model; `unsized` are the maxima before any size rule.
    """

    class_names: tuple[str, ...]
    scores: F32Array
    truth: BoolArray
    part_ids: tuple[str, ...]
    model_sha256: str
    detections: PartDetections | None = None
    unsized: F32Array | None = None
    size_rules: SizeRules = field(default_factory=SizeRules)

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
        unsized = scores if self.unsized is None else np.array(self.unsized, np.float32)
        if unsized.shape != scores.shape:
            raise StationError(f"unsized: expected shape {scores.shape}, got {unsized.shape}")
        _readonly(scores)
        _readonly(truth)
        _readonly(unsized)
        object.__setattr__(self, "unsized", unsized)
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "scores", np.ascontiguousarray(scores))
        object.__setattr__(self, "truth", np.ascontiguousarray(truth))
        object.__setattr__(self, "part_ids", tuple(str(p) for p in self.part_ids))

    @property
    def unsized_scores(self) -> F32Array:
        """The maxima over every detection, before size rules (`scores` when there are none)."""
        return self.scores if self.unsized is None else self.unsized

    @property
    def sizes_known(self) -> bool:
        """True when size rules can be re-applied (every detection's size was kept)."""
        return self.detections is not None

    def sized(self, rules: SizeRules) -> ScoredSample:
        """This sample with each part's maxima over the detections passing `rules`.

        Refused (StationError) for a sample that kept no sizes, unless `rules` is empty:
        maxima that ignore a size rule would make FAR/FRR untrue.
        """
        if self.detections is None:
            if rules.empty and self.size_rules.empty:
                return self
            raise StationError(
                "size rules: this sample kept no detection sizes (a sample built from shift "
                "logs); score a labeled folder to tune with size rules"
            )
        scores = self.detections.class_maxima(self.unsized_scores, self.class_names, rules)
        return ScoredSample(
            self.class_names,
            scores,
            self.truth,
            self.part_ids,
            self.model_sha256,
            self.detections,
            self.unsized,
            rules,
        )

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
