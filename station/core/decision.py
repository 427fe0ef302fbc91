"""A part's outcome: PASS, REJECT with every reason, or NO DECISION (never a pass)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from station.core.detections import Detections
from station.core.thresholds import ThresholdSet, keep_mask, reject_mask


class Outcome(StrEnum):
    PASS = "PASS"
    REJECT = "REJECT"
    NO_DECISION = "NO DECISION"


@dataclass(frozen=True, slots=True)
class RejectReason:
    class_name: str
    score: float
    threshold: float

    def __str__(self) -> str:
        return f"{self.class_name} {self.score:.2f} ≥ {self.threshold:.2f}"


@dataclass(frozen=True, slots=True)
class Decision:
    """What was decided and why. `kept` are the detections that cleared their threshold."""

    outcome: Outcome
    reasons: tuple[RejectReason, ...] = ()
    kept: Detections = field(default_factory=Detections.empty)
    why: str = ""

    @property
    def summary(self) -> str:
        """One line an operator can read from two metres."""
        if self.outcome is Outcome.REJECT:
            return ", ".join(str(r) for r in self.reasons)
        return self.why


def no_decision(why: str) -> Decision:
    """The station could not decide: the part is not passed, and `why` says so."""
    return Decision(Outcome.NO_DECISION, why=why)


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    """Thresholds and reject classes resolved against one model's class list."""

    class_names: tuple[str, ...]
    thresholds: npt.NDArray[np.float32]
    rejecting: npt.NDArray[np.bool_]

    @classmethod
    def build(
        cls,
        thresholds: ThresholdSet,
        class_names: Sequence[str],
        reject_classes: Iterable[str] | None = None,
    ) -> DecisionPolicy:
        names = tuple(class_names)
        return cls(names, thresholds.vector(names), reject_mask(names, reject_classes))

    def decide(self, detections: Detections) -> Decision:
        n_cls = len(self.class_names)
        if len(detections):
            bad_cls = (detections.class_id < 0) | (detections.class_id >= n_cls)
            if bad_cls.any():
                return no_decision(
                    f"model returned class id {int(detections.class_id[bad_cls][0])}, "
                    f"outside its {n_cls} classes"
                )
            nan = np.isnan(detections.confidence)
            if nan.any():
                name = self.class_names[int(detections.class_id[nan][0])]
                return no_decision(f"NaN score for {name}")
        kept = detections.select(keep_mask(detections, self.thresholds))
        rejecting = kept.select(self.rejecting[kept.class_id])
        if not len(rejecting):
            return Decision(Outcome.PASS, kept=kept)
        order = np.argsort(-rejecting.confidence, kind="stable")
        reasons = tuple(
            RejectReason(self.class_names[c], float(s), float(self.thresholds[c]))
            for c, s in zip(rejecting.class_id[order], rejecting.confidence[order], strict=True)
        )
        return Decision(Outcome.REJECT, reasons, kept)
