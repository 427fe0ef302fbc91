"""The Qt-free per-part pipeline: acquire, check, detect, decide, record, log, output.

The operator window's worker thread and the headless runner step the same
`InspectionPipeline`; they differ only in how they schedule it and show its results.
"""

from station.pipeline.acquisition import BackoffPolicy
from station.pipeline.engine import InspectionPipeline
from station.pipeline.results import CameraState, CameraStatus, PartResult
from station.pipeline.setup import InspectionLog, PipelineEvents, PipelineSetup

__all__ = [
    "BackoffPolicy",
    "CameraState",
    "CameraStatus",
    "InspectionLog",
    "InspectionPipeline",
    "PartResult",
    "PipelineEvents",
    "PipelineSetup",
]
