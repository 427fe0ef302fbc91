"""One inspected part: what was seen, what was decided, under which thresholds and model."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from station.core.decision import Decision, Outcome
from station.core.thresholds import ThresholdSet


def threshold_set_id(thresholds: ThresholdSet) -> str:
    """A short stable id of a threshold set's content, for the log and the audit trail."""
    blob = json.dumps(thresholds.to_dict(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Inspection:
    """The record of one part, written to the log before its outcome is shown.

    `max_scores` is (n_classes,) float32, -inf where a class was not detected
    and NaN where the model returned NaN. `frame` is kept only for rejects and
    no-decisions (the reject archive); it is None for passes.
    `truth_defective` is known on the synthetic line and on labeled replays.
    """

    time_utc: float
    station_id: str
    product: str
    sequence: int
    decision: Decision
    class_names: tuple[str, ...]
    max_scores: npt.NDArray[np.float32]
    threshold_set_id: str
    model_sha256: str
    latency_ms: float
    frame: npt.NDArray[np.uint8] | None = None
    truth_defective: bool | None = None
    shift_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        return self.decision.outcome
