"""A part's outcome: PASS, REJECT with every reason, or NO DECISION (never a pass)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from station.core.detections import Detections
from station.core.size_rules import SizeRules, detection_sizes, size_mask
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
    size: str = ""
    """The size rule it reached, '3.2 mm ≥ 2.0 mm' ("" for a class without one)."""

    def __str__(self) -> str:
        score = f"{self.class_name} {self.score:.2f} ≥ {self.threshold:.2f}"
        return f"{score}, {self.size}" if self.size else score


@dataclass(frozen=True, slots=True)
class Decision:
    """What was decided and why. `kept` are the detections that count: they cleared their
    threshold and reached their size rule."""

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
    """Thresholds, size rules and reject classes resolved against one model's class list.

    A detection counts against its class when `confidence >= T` AND its size
    reaches the class's minima (station.core.size_rules).
    """

    class_names: tuple[str, ...]
    thresholds: npt.NDArray[np.float32]
    rejecting: npt.NDArray[np.bool_]
    size_rules: SizeRules = field(default_factory=SizeRules)

    @classmethod
    def build(
        cls,
        thresholds: ThresholdSet,
        class_names: Sequence[str],
        reject_classes: Iterable[str] | None = None,
        size_rules: SizeRules | None = None,
    ) -> DecisionPolicy:
        names = tuple(class_names)
        rules = size_rules or SizeRules()
        rules.check_classes(names)
        return cls(names, thresholds.vector(names), reject_mask(names, reject_classes), rules)

    def big_enough(self, detections: Detections) -> npt.NDArray[np.bool_]:
        """(n,) bool: each detection reaches its class's size rule (all True without rules).

        Class ids must be in range (decide() checks them first)."""
        if self.size_rules.empty or not len(detections):
            return np.ones(len(detections), dtype=bool)
        area, length = detection_sizes(detections)
        minima = self.size_rules.vectors(self.class_names)
        return size_mask(detections.class_id, area, length, minima)

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
        counts = keep_mask(detections, self.thresholds) & self.big_enough(detections)
        kept = detections.select(counts)
        rejecting = kept.select(self.rejecting[kept.class_id])
        if not len(rejecting):
            return Decision(Outcome.PASS, kept=kept)
        order = np.argsort(-rejecting.confidence, kind="stable")
        area, length = detection_sizes(rejecting)
        reasons = tuple(
            RejectReason(
                self.class_names[c],
                float(rejecting.confidence[i]),
                float(self.thresholds[c]),
                self.size_rules.reason(self.class_names[c], float(area[i]), float(length[i])),
            )
            for i, c in zip(order, rejecting.class_id[order], strict=True)
        )
        return Decision(Outcome.REJECT, reasons, kept)
