"""Shadow mode: a candidate model judges every live part after production is done with it.

The pipeline hands `ShadowRunner.offer()` each part once its production result has been
committed and sent (log, PLC): the candidate never delays production and never drives
the banner or the PLC. It runs on its own thread behind a bounded queue; a part offered
while the queue is full is skipped, counted, and logged as SKIPPED (never judged late,
so a slow candidate costs the line nothing). Its would-be outcome is logged beside the
production row (`station.storage.shadow`); a part the candidate would pass while
production rejected it, or the reverse, keeps its frame in the reject archive so an
operator can confirm it and it can join a labeled sample.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from station.core.decision import DecisionPolicy, Outcome
from station.core.inspection import threshold_set_id
from station.core.ports import Detector
from station.core.priority import lower_this_thread
from station.core.shadow import SKIPPED, ShadowCounts, disagreement
from station.core.size_rules import SizeRules
from station.core.thresholds import ThresholdSet
from station.pipeline.inspector import PartInspector

QUEUE_PARTS = 2
"""Parts waiting for the candidate at most; one more offered while full is skipped."""


class ShadowLog(Protocol):
    """What shadow mode needs of the log (`SqliteInspectionLog.submit_shadow`)."""

    def submit_shadow(
        self, payload: tuple[Any, ...], frame: npt.NDArray[np.uint8] | None = None
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class ShadowSetup:
    """The candidate (`detector`) and the thresholds tuned for it; `reject_classes` and
    `size_rules` are production's (the same question asked of both models)."""

    detector: Detector
    thresholds: ThresholdSet
    reject_classes: tuple[str, ...] | None
    queue_parts: int = QUEUE_PARTS
    size_rules: SizeRules = field(default_factory=SizeRules)


@dataclass(frozen=True, slots=True)
class _Offer:
    row_id: int
    time_utc: float
    production: str
    image: npt.NDArray[np.uint8]


class ShadowRunner:
    """The candidate's thread. `offer` never blocks; `close` judges what is queued, then
    stops. Counts since start are in `counts` (the log holds the same, per part)."""

    def __init__(self, setup: ShadowSetup, log: ShadowLog) -> None:
        inspector = PartInspector(setup.detector)
        self._inspector = inspector
        self._policy = DecisionPolicy.build(
            setup.thresholds, inspector.class_names, setup.reject_classes, setup.size_rules
        )
        self._ts_id = threshold_set_id(setup.thresholds)
        self._sha = setup.detector.info.sha256
        self._log = log
        self._queue: queue.Queue[_Offer | None] = queue.Queue(maxsize=setup.queue_parts)
        self._lock = threading.Lock()
        self._counts = ShadowCounts()
        self.errors: list[str] = []
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="shadow-model", daemon=True)
        self._thread.start()

    @property
    def counts(self) -> ShadowCounts:
        with self._lock:
            return self._counts

    def offer(self, row_id: int, time_utc: float, production: Outcome, image: Any) -> None:
        """A committed, sent production part (call after its outputs); skipped when busy."""
        if self._closed:
            return
        offer = _Offer(row_id, time_utc, production.value, image)
        try:
            self._queue.put_nowait(offer)
        except queue.Full:
            self._write(offer, SKIPPED, "skipped: the shadow model was still busy", None, 0.0)

    def close(self) -> None:
        """Judge the parts already queued (at most `queue_parts`), then stop the thread."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._queue.put(None)  # the thread takes it after the parts already queued
            self._thread.join()

    def _run(self) -> None:
        lower_this_thread()  # the candidate's inference yields the cores to production's
        while (offer := self._queue.get()) is not None:
            try:
                judged = self._inspector.judge(offer.image, self._policy, None)
                decision = judged.decision
                scores = self._inspector.max_scores(decision, judged.detections)
            except Exception as exc:  # the thread must outlive a bad part (close() joins it)
                why = f"shadow model error: {type(exc).__name__}: {exc}"
                self._write(offer, Outcome.NO_DECISION.value, why, None, 0.0)
                continue
            self._write(offer, decision.outcome.value, decision.summary, scores, judged.model_ms)

    def _write(
        self,
        offer: _Offer,
        outcome: str,
        why: str,
        scores: npt.NDArray[np.float32] | None,
        model_ms: float,
    ) -> None:
        with self._lock:
            self._counts = self._counts.add(offer.production, outcome)
        keep_frame = disagreement(offer.production, outcome) and offer.production == "PASS"
        payload = (
            offer.row_id,
            offer.time_utc,
            outcome,
            why,
            None if scores is None else scores.astype(np.float32).tobytes(),
            self._sha,
            self._ts_id,
            round(float(model_ms), 3) if np.isfinite(model_ms) else 0.0,
        )
        try:
            self._log.submit_shadow(payload, offer.image if keep_frame else None)
        except Exception as exc:  # the log says why to production; count it here only
            self.errors.append(f"shadow result of part {offer.row_id} not logged: {exc}")
