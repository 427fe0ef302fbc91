"""Detect, decide and write the inspection record of one part: the rules, without I/O.

The rules that make a record: a box with NaN or infinite coordinates is NO
DECISION (the model is broken, whatever the scores say); per-class maxima come
from the detections of the model's classes; a part without a decision has no
scores (its maxima are NaN, "missing", never -inf, which means "nothing
detected"); the shift is the schedule's at the part's time; the ground truth is
the frame's when the source knows it (synthetic line, labeled replay).
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from station.core import outcomes
from station.core.decision import Decision, DecisionPolicy, Outcome, no_decision
from station.core.detections import Detections
from station.core.inspection import Inspection
from station.core.no_decision import NoDecisionCause
from station.core.ports import Detector, DetectorError, Frame
from station.core.shifts import ShiftSchedule, ShiftSpan
from station.pipeline.acquisition import one_line


@runtime_checkable
class StagedDetector(Protocol):
    """A detector whose input can be made ahead of inference (on the acquisition thread)."""

    def prepare_input(self, frame: npt.NDArray[np.uint8]) -> Any: ...

    def detect_prepared(self, prepared: Any) -> Detections: ...


@dataclass(frozen=True, slots=True)
class Judged:
    """What the detector and the policy made of one part; `model_ms` is the detect time.
    `big_enough` marks the detections that reach their class's size rule (None: all)."""

    decision: Decision
    detections: Detections
    model_ms: float
    big_enough: npt.NDArray[np.bool_] | None = None


def no_scores(n_classes: int) -> npt.NDArray[np.float32]:
    """The per-class maxima of a part without a decision: all missing (NaN)."""
    return np.full(n_classes, np.nan, dtype=np.float32)


class PartInspector:
    """Judges frames with one detector and writes their records for one station."""

    def __init__(
        self,
        detector: Detector,
        *,
        station_id: str = "station",
        product: str = "",
        shifts: ShiftSchedule | None = None,
    ) -> None:
        self._detector = detector
        self._class_names = tuple(detector.info.class_names)
        self._model_sha256 = detector.info.sha256
        self._station_id = station_id
        self._product = product
        self._shifts = shifts or ShiftSchedule()
        self._shift: ShiftSpan | None = None  # the last part's: a shift holds for hours

    @property
    def class_names(self) -> tuple[str, ...]:
        return self._class_names

    def judge(
        self,
        image: npt.NDArray[np.uint8],
        policy: DecisionPolicy,
        prepared: Any,
        detected: Future[tuple[Detections, float]] | None = None,
    ) -> Judged:
        """Detect (on `prepared` input when given, or take an inference lane's result) and
        decide; a model failure is NO DECISION."""
        t0 = time.perf_counter()
        try:
            if detected is not None:
                dets, model_ms = detected.result()
            elif prepared is not None and isinstance(self._detector, StagedDetector):
                dets = self._detector.detect_prepared(prepared)
                model_ms = _ms_since(t0)
            else:
                dets = self._detector.detect(image)
                model_ms = _ms_since(t0)
        except DetectorError as exc:
            why = NoDecisionCause.MODEL_ERROR.message(_strip_cause(one_line(exc)))
            return Judged(no_decision(why), Detections.empty(), _ms_since(t0))
        except Exception as exc:
            why = NoDecisionCause.MODEL_ERROR.message(f"{type(exc).__name__}: {one_line(exc)}")
            return Judged(no_decision(why), Detections.empty(), _ms_since(t0))
        decision = policy.decide(dets)
        broken_box = len(dets) and not np.isfinite(dets.xyxy).all()
        if broken_box and decision.outcome is not Outcome.NO_DECISION:
            why = "a box with NaN or infinite coordinates"
            decision = no_decision(NoDecisionCause.MODEL_ERROR.message(why))
        if decision.outcome is Outcome.NO_DECISION:
            return Judged(decision, dets, model_ms)
        return Judged(decision, dets, model_ms, policy.big_enough(dets))

    def record(
        self,
        frame: Frame | None,
        sequence: int,
        judged: Judged,
        threshold_set_id: str,
        now_utc: float | None = None,
        rejecting: npt.NDArray[np.bool_] | None = None,
    ) -> Inspection:
        """The part's record; the frame is kept only for rejects and no-decisions.

        `rejecting` (per class, the policy's): a truth label (matched by class name) of a
        class that does not reject leaves the part good, and the record keeps which classes
        reject (`outcomes.reject_classes_note`) so its confirmations count the same way.
        """
        now = time.time() if now_utc is None else now_utc
        decision = judged.decision
        image = frame.image if frame is not None else None
        mask = np.ones(len(self._class_names), bool) if rejecting is None else rejecting
        truth = None
        if frame is not None and frame.truth is not None:
            # Ids the source does not name are the model's classes, as `station evaluate`
            # reads a sample without data.yaml; an id beyond them counts as a defect.
            named = frame.truth
            if named.class_names is None:
                named = replace(named, class_names=self._class_names)
            labels = named.labels()
            passing = [n for n, r in zip(self._class_names, mask, strict=True) if not r]
            if labels is None:
                truth = frame.truth.defective
            else:
                truth = outcomes.labels_defective(labels, passing)
        return Inspection(
            time_utc=now,
            station_id=self._station_id,
            product=self._product,
            sequence=sequence,
            decision=decision,
            class_names=self._class_names,
            max_scores=self.max_scores(decision, judged.detections, judged.big_enough),
            threshold_set_id=threshold_set_id,
            model_sha256=self._model_sha256,
            latency_ms=judged.model_ms if math.isfinite(judged.model_ms) else 0.0,
            frame=image if decision.outcome is not Outcome.PASS else None,
            truth_defective=truth,
            shift_id=self._shift_at(now).id,
            extra=outcomes.reject_classes_note(self._class_names, mask),
        )

    def _shift_at(self, now: float) -> ShiftSpan:
        """The shift at `now`, worked out again only when the last part's has ended (a time
        zone's rules per part would cost more than deciding the part)."""
        if self._shift is None or not self._shift.holds(now):
            self._shift = self._shifts.shift_at(now)
        return self._shift

    def max_scores(
        self,
        decision: Decision,
        dets: Detections,
        big_enough: npt.NDArray[np.bool_] | None = None,
    ) -> npt.NDArray[np.float32]:
        """Each class's best score over the detections reaching its size rule (`big_enough`);
        -inf for "nothing detected"; NaN for every class without a decision (no scores at
        all: a drift monitor or a tuning sample must skip the part)."""
        n = len(self._class_names)
        if decision.outcome is Outcome.NO_DECISION:
            return no_scores(n)
        if big_enough is not None:
            dets = dets.select(big_enough)
        if not len(dets) or not n:
            return np.full(n, -np.inf, dtype=np.float32)
        in_range = (dets.class_id >= 0) & (dets.class_id < n)
        return dets.select(in_range).max_score_per_class(n)


def _ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1e3


def _strip_cause(text: str) -> str:
    """A DetectorError already says "model error: ..."; say it once."""
    prefix = f"{NoDecisionCause.MODEL_ERROR.value}: "
    return text[len(prefix) :] if text.startswith(prefix) else text
