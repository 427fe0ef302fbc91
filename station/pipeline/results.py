"""What the pipeline hands to whoever shows it: a committed part and the camera's state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from station.core.decision import Outcome
from station.core.detections import Detections
from station.core.inspection import Inspection
from station.core.ports import CameraInfo


class CameraState(StrEnum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"
    FAULT = "fault"  # a configuration the camera refuses: inspection stopped, not retried


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """The camera as the operator should see it. `retry_in_s` is set while reconnecting."""

    state: CameraState
    info: CameraInfo | None = None
    message: str = ""
    attempt: int = 0
    retry_in_s: float | None = None


@dataclass(frozen=True, slots=True)
class PartResult:
    """One inspected part as a window (or a status line) shows it, after the log committed it.

    `detections` is everything the detector returned, near misses included;
    `thresholds` and `rejecting` are the per-class vectors the part was judged with.
    `image` is the read-only frame (None when there was no frame). `row_id` is the log
    row (None when the log refused the part). `committed_ms` is the time from the frame
    being available to the outcome being committed (log and outputs), in milliseconds.
    """

    inspection: Inspection
    image: npt.NDArray[np.uint8] | None
    detections: Detections
    thresholds: npt.NDArray[np.float32]
    rejecting: npt.NDArray[np.bool_]
    logged: bool = True
    row_id: int | None = None
    committed_ms: float = 0.0

    @property
    def outcome(self) -> Outcome:
        return self.inspection.outcome
