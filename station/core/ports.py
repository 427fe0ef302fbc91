"""The seams between the core and its adapters (detectors, cameras, storage)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from station.core.detections import Detections
from station.core.inspection import Inspection


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the station knows about a loaded model.

    `scores_rank` is False for detectors whose confidence is constant (a
    heuristic blob detector's 1.0): such scores cannot be tuned on.
    `confidence_floor` is a floor baked in at export (end-to-end models): no
    threshold below it can have any effect. `output_shape` is the first
    output's (a segmentation model's prototypes are named in `notes`).
    """

    path: str
    sha256: str
    family: str
    class_names: tuple[str, ...]
    input_name: str = ""
    input_shape: tuple[int | str, ...] = ()
    input_layout: str = "NCHW"
    output_shape: tuple[int | str, ...] = ()
    family_evidence: str = ""  # what chose the family: "override" or the metadata/shape facts
    scores_rank: bool = True
    confidence_floor: float | None = None
    execution_provider: str = "CPUExecutionProvider"
    notes: tuple[str, ...] = ()
    session_options: tuple[tuple[str, str], ...] = ()  # (name, value): threads, spinning


class DetectorError(RuntimeError):
    """A detector could not produce detections for a frame (model error, bad frame)."""


@runtime_checkable
class Detector(Protocol):
    """Turns one frame (H, W) or (H, W, 3) BGR uint8 into detections in frame pixels."""

    @property
    def info(self) -> ModelInfo: ...

    def detect(self, frame: npt.NDArray[np.uint8]) -> Detections: ...


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """Labeled truth for a frame: defect boxes (frame pixels) and their class ids, and the
    names those ids stand for when the source knows them (the synthetic line does)."""

    xyxy: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int64]
    class_names: tuple[str, ...] | None = None

    @property
    def defective(self) -> bool:
        return len(self.class_id) > 0

    def labels(self) -> tuple[str, ...] | None:
        """The labels' class names (None when the source does not name its classes, or an
        id has no name: then each label counts as a defect)."""
        names = self.class_names
        if names is None or any(not 0 <= int(i) < len(names) for i in self.class_id):
            return None
        return tuple(names[int(i)] for i in self.class_id)


@dataclass(frozen=True, slots=True)
class Frame:
    """One acquired image, copied out of any driver buffer and read-only."""

    image: npt.NDArray[np.uint8]
    sequence: int
    timestamp_s: float
    truth: GroundTruth | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.image.flags.writeable:
            img = np.array(self.image, copy=True)
            img.flags.writeable = False
            object.__setattr__(self, "image", img)


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """An opened camera. `notes` are warnings for the operator (a capped socket buffer)."""

    name: str
    kind: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    notes: tuple[str, ...] = ()


class CameraLost(RuntimeError):  # noqa: N818 - reads as the domain event
    """The camera stopped delivering frames (cable pulled, process gone, timeout).

    The only source error worth retrying: the pipeline reopens the source with
    backoff. A wrong option (a StationError from `open`) is not retried: it stops
    inspection with a fault the operator sees.
    """


class CorruptFrame(RuntimeError):  # noqa: N818 - reads as the domain event
    """One frame could not be decoded or arrived incomplete; the next read may succeed.

    `sequence` is the number the part would have carried, so the NO DECISION record
    keeps the numbering of the parts around it.
    """

    def __init__(self, message: str, *, sequence: int, timestamp_s: float) -> None:
        super().__init__(message)
        self.sequence = sequence
        self.timestamp_s = timestamp_s


class BadLabelFile(CorruptFrame):
    """A replayed frame's label file cannot be read: the image may be fine, but its truth
    would be a guess, so the part gets no decision (cause "bad label file")."""


class SourceExhausted(RuntimeError):  # noqa: N818 - reads as the domain event
    """A replay (image folder, video file) opened with `loop = false` has no more frames."""


class ReadInterrupted(RuntimeError):  # noqa: N818 - reads as the domain event
    """A read given up because inspection is stopping: no frame, nothing to log.

    Raised by a source that waits for its next frame (a paced replay) after its
    `interrupt()`, which any thread may call.
    """


@runtime_checkable
class FrameSource(Protocol):
    """A camera or replay, in the one error vocabulary of sources.

    `open` raises CameraLost when the camera cannot be reached (retry later) and
    StationError for an option it cannot take (retrying will not help). `read`
    raises CameraLost when no frame can be had until reopened, CorruptFrame for one
    bad frame, SourceExhausted at the end of a replay.
    """

    def open(self) -> CameraInfo: ...

    def read(self, timeout_s: float = 2.0) -> Frame: ...

    def close(self) -> None: ...


@runtime_checkable
class InspectionOutput(Protocol):
    """Somewhere a committed outcome goes besides the log: a PLC, a central database.

    The pipeline calls `send` for every part, in order, after the log committed it and
    before the window shows it; `row_id` is the part's log row (None when the log
    refused it: the part is then NO DECISION). An exception from `send` is a fault the
    operator sees; it never changes the logged outcome. `close` runs at shutdown.
    """

    @property
    def name(self) -> str: ...

    def send(self, inspection: Inspection, row_id: int | None) -> None: ...

    def close(self) -> None: ...
