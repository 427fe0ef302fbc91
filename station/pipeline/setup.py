"""What a pipeline is built from, and what it tells whoever runs it (a window, a status line)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from station.core.decision import Outcome
from station.core.inspection import Inspection
from station.core.ports import Detector, FrameSource, InspectionOutput
from station.core.shadow import ShadowCounts
from station.core.shifts import ShiftSchedule
from station.core.size_rules import SizeRules
from station.core.thresholds import ThresholdSet
from station.pipeline.acquisition import BackoffPolicy
from station.pipeline.line import LineSide
from station.pipeline.results import CameraStatus, PartResult


class PendingCommit(Protocol):
    """A submitted record: `result()` blocks until committed (row id) or raises."""

    def result(self, timeout_s: float | None = None) -> int: ...


class InspectionLog(Protocol):
    """What the pipeline needs of the log (station.storage.log.SqliteInspectionLog).

    `submit` queues a record and returns at once, so the commit of part n overlaps the
    inference of part n+1; nothing is shown or sent before its `result()` returned.
    """

    def submit(self, inspection: Inspection) -> PendingCommit: ...

    def record_event(self, kind: str, message: str, **details: Any) -> Any: ...

    def register_thresholds(self, thresholds: ThresholdSet) -> Any: ...

    def close(self) -> None: ...


class ShadowSink(Protocol):
    """A candidate model shown each committed, sent part (station.pipeline.shadow)."""

    def offer(self, row_id: int, time_utc: float, production: Outcome, image: Any) -> None: ...

    @property
    def counts(self) -> ShadowCounts:
        """The agreement so far (the headless status line and summary)."""
        ...

    def close(self) -> None: ...


class PipelineEvents(Protocol):
    """What the pipeline reports, on the thread that runs it (a Qt worker re-emits signals)."""

    def part_inspected(self, part: PartResult) -> None: ...

    def camera_changed(self, status: CameraStatus) -> None: ...

    def running_changed(self, running: bool) -> None: ...

    def thresholds_applied(self, thresholds: ThresholdSet) -> None: ...

    def fault(self, message: str) -> None: ...


@dataclass(frozen=True, slots=True)
class PipelineSetup:
    """Everything the pipeline needs, built by the composition root (station.app).

    `open_log` is called on the pipeline's thread, so the SQLite connection lives there.
    `read_timeout_s` bounds one camera read; `backoff` spaces reconnect attempts.
    `outputs` receive every committed part, in order, after the log and before the window.
    `prefetch` is how many parts acquisition may run ahead of inference (0: serial, on
    the caller's thread). `lanes` is how many parts are inferred at once
    (station.pipeline.lanes; 1: one at a time on the pipeline's thread).
    `line` is the PLC (also among `outputs`): its triggers, deadline, state and heartbeat.
    `size_rules` are the recipe's per-class minimum defect sizes.
    `shadow` sees each logged part with a frame after the window did (never delays it).
    """

    source: FrameSource
    detector: Detector
    thresholds: ThresholdSet
    reject_classes: tuple[str, ...] | None
    open_log: Callable[[], InspectionLog]
    station_id: str = "station"
    product: str = ""
    shifts: ShiftSchedule = field(default_factory=ShiftSchedule)
    read_timeout_s: float = 2.0
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    outputs: tuple[InspectionOutput, ...] = ()
    prefetch: int = 2
    lanes: int = 1
    line: LineSide | None = None
    size_rules: SizeRules = field(default_factory=SizeRules)
    shadow: ShadowSink | None = None
